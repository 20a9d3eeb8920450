"""A stand-in OpenAI-compatible transcription server (what a self-hosted Whisper server
answers), whose behaviour a test switches: answer, fail with an HTTP error, or hang."""

import json
import threading
import time
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Transcription:
    """One POST /v1/audio/transcriptions as the server received it."""

    authorization: str
    fields: dict[str, str]  # the form's text fields: model, language, response_format...
    wav: bytes


@dataclass
class SttServer:
    """`mode`: "answer" (with `text`), "fail" (HTTP 500) or "hang" (never answers)."""

    port: int = 0
    mode: str = "answer"
    text: str = "hello from the stand-in"
    received: list[Transcription] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._http: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> "SttServer":
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.rstrip("/") == "/v1/models":
                    self._answer(200, {"object": "list", "data": []})
                else:
                    self._answer(404, {"error": {"message": "not found"}})

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if server.mode == "hang":
                    time.sleep(30)
                    return
                if server.mode == "fail":
                    self._answer(500, {"error": {"message": "the model crashed"}})
                    return
                server.received.append(_transcription(self.headers, body))
                self._answer(200, {"text": server.text, "language": "english", "duration": 1.0})

            def _answer(self, status: int, data: dict[str, Any]) -> None:
                payload = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self._http = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._http.server_port
        threading.Thread(target=self._http.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
            self._http = None


def _transcription(headers: Any, body: bytes) -> Transcription:
    head = f"Content-Type: {headers.get('Content-Type')}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    fields, wav = {}, b""
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if part.get_filename():
            wav = part.get_payload(decode=True)
        else:
            fields[name] = part.get_content().strip()
    return Transcription(headers.get("Authorization", ""), fields, wav)
