"""Outgoing mail. With SMTP_HOST set, mail goes through SMTP; otherwise it is logged, so a
development setup shows reset links without a mail server.

Mail leaves after the answer (a sender thread per process): how long an SMTP server takes
must not tell anyone whether an account exists, and a slow server must not hold a request.
"""

import logging
import queue
import smtplib
import threading
from dataclasses import dataclass
from email.message import EmailMessage

from flask import current_app

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MailSettings:
    smtp_host: str
    smtp_port: int
    username: str
    password: str
    starttls: bool
    body_to_log: bool

    @classmethod
    def from_app(cls) -> "MailSettings":
        config = current_app.config
        return cls(
            config["SMTP_HOST"],
            config["SMTP_PORT"],
            config["SMTP_USERNAME"],
            config["SMTP_PASSWORD"],
            config["SMTP_STARTTLS"],
            config["MAIL_BODY_TO_LOG"],
        )


def send_mail(to: str, subject: str, body: str) -> None:
    """Queue a plain-text mail (or send it now where MAIL_IN_BACKGROUND is off)."""
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    if current_app.config["MAIL_BACKEND"] == "memory":
        current_app.extensions.setdefault("mail_outbox", []).append(message)
        return
    settings = MailSettings.from_app()
    if current_app.config["MAIL_IN_BACKGROUND"]:
        _sender().submit(settings, message)
    else:
        deliver(settings, message)


def deliver(settings: MailSettings, message: EmailMessage) -> None:
    """Hand one message to the SMTP server, or to the log when there is none."""
    if not settings.smtp_host:
        if settings.body_to_log:
            logger.warning(
                "mail (no SMTP_HOST set) to %s: %s\n%s",
                message["To"],
                message["Subject"],
                message.get_content(),
            )
        else:
            logger.warning(
                "mail to %s not sent: set SMTP_HOST (%s)", message["To"], message["Subject"]
            )
        return
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
        if settings.starttls:
            smtp.starttls()
        if settings.username:
            smtp.login(settings.username, settings.password)
        smtp.send_message(message)


class _Sender:
    """One daemon thread per process that delivers queued mail in order."""

    def __init__(self) -> None:
        self.queue: queue.Queue[tuple[MailSettings, EmailMessage]] = queue.Queue()
        self.thread = threading.Thread(target=self._run, name="mail-sender", daemon=True)
        self.thread.start()

    def submit(self, settings: MailSettings, message: EmailMessage) -> None:
        self.queue.put((settings, message))

    def _run(self) -> None:
        while True:
            settings, message = self.queue.get()
            try:
                deliver(settings, message)
            except (OSError, smtplib.SMTPException) as error:
                logger.error("mail to %s failed: %s", message["To"], error)


_lock = threading.Lock()
_instance: _Sender | None = None


def _sender() -> _Sender:
    global _instance
    with _lock:
        if _instance is None:
            _instance = _Sender()
        return _instance
