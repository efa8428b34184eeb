from __future__ import annotations

from pathlib import Path

from pydantic import Field

from lapor_kit.settings import KitSettings


class NotifySettings(KitSettings):
    port: int = Field(default=8003, validation_alias="LAPOR_NOTIFY_PORT")
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "LAPOR! <noreply@lapor.example>"
    smtp_timeout_seconds: float = 10.0
    notify_max_attempts: int = 5
    sms_url: str | None = Field(
        default=None, description="SMS gateway endpoint; SMS to reporters is off when unset."
    )
    sms_token: str | None = None
    sms_payload: str = '{"to": "{to}", "text": "{text}", "reference": "{reference}"}'
    notify_template_dir: Path | None = None
