"""Outgoing mail. With SMTP_HOST set, mail goes through SMTP; otherwise it is logged, so a
development setup shows reset links without a mail server."""

import smtplib
from email.message import EmailMessage

from flask import current_app


def send_mail(to: str, subject: str, body: str) -> None:
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    if not config["SMTP_HOST"]:
        if config["MAIL_BODY_TO_LOG"]:
            current_app.logger.warning("mail (no SMTP_HOST set) to %s: %s\n%s", to, subject, body)
        else:
            current_app.logger.warning("mail to %s not sent: set SMTP_HOST (%s)", to, subject)
        return
    with smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=10) as smtp:
        if config["SMTP_STARTTLS"]:
            smtp.starttls()
        if config["SMTP_USERNAME"]:
            smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"])
        smtp.send_message(message)
