"""Password reset mail over real SMTP (a minimal SMTP server on loopback records it)."""

import re
import socketserver
import threading

import pytest

from meetings.livekit_process import free_port
from tests.support.accounts import csrf_token_from


class RecordingSMTPHandler(socketserver.StreamRequestHandler):
    """Speaks just enough SMTP for smtplib: EHLO, MAIL, RCPT, DATA, QUIT."""

    def reply(self, line: str) -> None:
        self.wfile.write(f"{line}\r\n".encode())

    def handle(self) -> None:
        self.reply("220 test-smtp ready")
        while line := self.rfile.readline().decode():
            command = line.strip().upper()
            if command.startswith(("EHLO", "HELO")):
                self.reply("250 test-smtp")
            elif command.startswith(("MAIL", "RCPT", "RSET", "NOOP")):
                self.reply("250 OK")
            elif command == "DATA":
                self.reply("354 end with <CRLF>.<CRLF>")
                message = []
                while (data := self.rfile.readline().decode()) not in (".\r\n", ""):
                    message.append(data)
                self.server.messages.append("".join(message))
                self.reply("250 queued")
            elif command == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 not implemented")


@pytest.fixture
def smtp_server(app):
    server = socketserver.ThreadingTCPServer(("127.0.0.1", free_port()), RecordingSMTPHandler)
    server.messages = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.config.update(
        MAIL_BACKEND="smtp",
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=server.server_address[1],
        SMTP_STARTTLS=False,
    )
    yield server
    server.shutdown()
    server.server_close()


def test_reset_link_is_mailed_through_smtp_and_works(client, make_user, smtp_server):
    user = make_user(email="mailme@example.com")
    token = csrf_token_from(client.get("/auth/reset").get_data(as_text=True))
    response = client.post("/auth/reset", data={"email": user.email, "csrf_token": token})
    assert response.status_code == 302
    [message] = smtp_server.messages
    assert "To: mailme@example.com" in message
    assert "Subject: Reset your Meetings password" in message
    link = re.search(r"http://localhost(/auth/reset/\S+)", message).group(1)
    assert client.get(link).status_code == 200
