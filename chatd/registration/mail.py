"""Sending activation mail through the configured SMTP server (stdlib smtplib in a thread)."""

from __future__ import annotations

import asyncio
import smtplib
from email.message import EmailMessage

from chatd.config import RegistrationConfig


class MailError(Exception):
    """The mail was not accepted; the message names no address."""


class Mailer:
    def __init__(self, config: RegistrationConfig, timeout: float = 20.0):
        self.config = config
        self.timeout = timeout

    def _send(self, message: EmailMessage) -> None:
        config = self.config
        with smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=self.timeout) as smtp:
            if config.smtp_starttls:
                smtp.starttls()
            if config.smtp_username:
                smtp.login(config.smtp_username, config.smtp_password)
            smtp.send_message(message)

    async def send(self, to: str, subject: str, body: str) -> None:
        message = EmailMessage()
        message["From"] = self.config.sender
        message["To"] = to
        message["Subject"] = subject
        message.set_content(body)
        try:
            await asyncio.to_thread(self._send, message)
        except (OSError, smtplib.SMTPException) as exc:
            raise MailError(f"the mail server did not take the message ({type(exc).__name__})") from exc
