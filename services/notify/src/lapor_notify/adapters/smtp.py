"""SMTP adapter (aiosmtplib): STARTTLS and authentication are settings."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate

import aiosmtplib

from ..ports import Email
from ..settings import NotifySettings


class SmtpSender:
    def __init__(self, settings: NotifySettings) -> None:
        self.s = settings

    async def send(self, email: Email) -> None:
        msg = EmailMessage()
        msg["From"] = self.s.smtp_from
        msg["To"] = email.to
        msg["Subject"] = email.subject
        msg["Message-ID"] = email.message_id
        msg["Date"] = formatdate(localtime=False)
        for name, value in email.headers.items():
            msg[name] = value
        msg.set_content(email.body)
        await aiosmtplib.send(
            msg,
            hostname=self.s.smtp_host,
            port=self.s.smtp_port,
            start_tls=self.s.smtp_starttls,
            username=self.s.smtp_username,
            password=self.s.smtp_password,
            timeout=self.s.smtp_timeout_seconds,
        )
