"""SMTP adapter (aiosmtplib): STARTTLS and authentication are settings."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate

import aiosmtplib

from ..ports import Outgoing, SendError
from ..settings import NotifySettings


class SmtpChannel:
    def __init__(self, settings: NotifySettings) -> None:
        self.s = settings

    async def send(self, message: Outgoing) -> None:
        msg = EmailMessage()
        msg["From"] = self.s.smtp_from
        msg["To"] = message.address
        msg["Subject"] = message.subject
        # The same delivery always has the same Message-ID: a resend after a crash mid-send
        # is recognisable as the same message.
        msg["Message-ID"] = f"<{message.id.replace(':', '.')}@{self.s.smtp_message_id_domain}>"
        msg["Date"] = formatdate(localtime=False)
        msg["X-Lapor-Tracking-Id"] = message.tracking_id
        msg["X-Lapor-Delivery-Id"] = message.id
        msg.set_content(message.body)
        try:
            await aiosmtplib.send(
                msg,
                hostname=self.s.smtp_host,
                port=self.s.smtp_port,
                start_tls=self.s.smtp_starttls,
                username=self.s.smtp_username,
                password=self.s.smtp_password,
                timeout=self.s.smtp_timeout_seconds,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise SendError(f"recipient refused: {exc}", retryable=False) from exc
        except aiosmtplib.SMTPResponseException as exc:
            # 5xx is permanent (bad address, policy); 4xx is temporary.
            permanent = 500 <= exc.code < 600
            raise SendError(f"SMTP {exc.code}: {exc.message}", retryable=not permanent) from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise SendError(f"SMTP server unreachable: {exc!r}", retryable=True) from exc
