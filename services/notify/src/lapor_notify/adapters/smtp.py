"""SMTP adapter (aiosmtplib): STARTTLS and authentication are settings."""

from __future__ import annotations

import re
from email.message import EmailMessage
from email.utils import formatdate

import aiosmtplib

from ..ports import Outgoing, SendError
from ..settings import NotifySettings

_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")
_BREAKS = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


def header_text(value: str, limit: int = 200) -> str:
    """One line of header text: control characters and line breaks become a space."""
    return _BREAKS.sub(" ", value).strip()[:limit]


class SmtpChannel:
    def __init__(self, settings: NotifySettings) -> None:
        self.s = settings

    def build(self, message: Outgoing) -> EmailMessage:
        """The email; a header value never carries a line break (a report's title becomes the
        subject), and an address this relay cannot deliver (non-ASCII: no SMTPUTF8) is a
        permanent failure, not a temporary one."""
        address = message.address or ""
        if not address.isascii() or not _ADDRESS.fullmatch(address):
            raise SendError(f"address cannot be delivered by SMTP: {address!r}", retryable=False)
        msg = EmailMessage()
        try:
            msg["From"] = self.s.smtp_from
            msg["To"] = address
            msg["Subject"] = header_text(message.subject or "")
            # The same delivery always has the same Message-ID: a resend after a crash
            # mid-send is recognisable as the same message.
            msg["Message-ID"] = f"<{message.id.replace(':', '.')}@{self.s.smtp_message_id_domain}>"
            msg["Date"] = formatdate(localtime=False)
            msg["X-Lapor-Tracking-Id"] = header_text(message.tracking_id)
            msg["X-Lapor-Delivery-Id"] = header_text(message.id)
            msg.set_content(message.body)
        except (ValueError, TypeError, UnicodeError) as exc:
            raise SendError(f"message cannot be built: {exc}", retryable=False) from exc
        return msg

    async def send(self, message: Outgoing) -> None:
        msg = self.build(message)
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
        except aiosmtplib.SMTPNotSupported as exc:
            raise SendError(f"not supported by the relay: {exc}", retryable=False) from exc
        except aiosmtplib.SMTPResponseException as exc:
            # 5xx is permanent (bad address, policy); 4xx is temporary.
            permanent = 500 <= exc.code < 600
            raise SendError(f"SMTP {exc.code}: {exc.message}", retryable=not permanent) from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise SendError(f"SMTP server unreachable: {exc!r}", retryable=True) from exc
