from __future__ import annotations

from pathlib import Path
from typing import Annotated, ClassVar

from pydantic import Field, field_validator
from pydantic_settings import NoDecode

from lapor_kit.settings import KitSettings

DEFAULT_TEXT_PAYLOAD = '{"to": "{to}", "text": "{text}", "reference": "{reference}"}'


class NotifySettings(KitSettings):
    uses_status_secret: ClassVar[bool] = True
    port: int = Field(default=8003, validation_alias="LAPOR_NOTIFY_PORT")
    portal_url: str = Field(
        default="http://127.0.0.1:8000",
        validation_alias="LAPOR_PORTAL_URL",
        description="The citizen portal's public address: every message to a reporter links "
        "to its follow page with the tracking id filled in (never the secret).",
    )
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "LAPOR! <noreply@lapor.example>"
    smtp_message_id_domain: str = "lapor.example"
    smtp_timeout_seconds: float = 10.0
    sms_url: str | None = Field(
        default=None, description="SMS gateway endpoint; SMS to reporters is off when unset."
    )
    sms_token: str | None = None
    sms_payload: str = Field(
        default=DEFAULT_TEXT_PAYLOAD,
        description="JSON body template; string values may use {to}, {text}, {reference}.",
    )
    whatsapp_url: str | None = Field(
        default=None, description="WhatsApp gateway endpoint; WhatsApp is off when unset."
    )
    whatsapp_token: str | None = None
    whatsapp_payload: str = DEFAULT_TEXT_PAYLOAD
    gateway_timeout_seconds: float = 10.0
    webhook_timeout_seconds: float = 10.0
    notify_address_daily_cap: int = Field(
        default=20,
        ge=1,
        description="Messages per day to one reporter address (email, phone): addresses are "
        "not confirmed, so the cap keeps reports from flooding someone else's inbox.",
    )
    webhook_allowed_private: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="host:port pairs a webhook may name although they are not public "
        "addresses (the local stack's provider stand-in); comma-separated. Every other "
        "private, loopback or link-local target is refused.",
    )
    notify_max_attempts: int = Field(default=6, ge=1, description="Attempts before dead-letter.")
    notify_retry_delays_seconds: Annotated[list[float], NoDecode] = Field(
        default=[5.0, 30.0, 180.0],
        min_length=1,
        max_length=3,
        description="Wait of each retry tier (lapor.notify.retry.<n>.v1), comma-separated.",
    )
    notify_rate_limits: str = Field(
        default="email=50,sms=20,whatsapp=20,webhook=10",
        description="Calls per second per provider (webhooks: per receiving host).",
    )
    notify_public_rate_limits: str = Field(
        default="stop=20/60",
        description="Per-client limits of notify's public doors, door=count/seconds: stop "
        "(a supporter's stop code, per citizen address as the portal passes it on).",
    )
    notify_concurrency: int = Field(default=32, ge=1, description="Sends in flight per channel.")
    notify_template_dir: Path | None = None

    @field_validator("notify_retry_delays_seconds", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip().startswith("["):
            return [float(v) for v in value.split(",") if v.strip()]
        return value

    @field_validator("webhook_allowed_private", mode="before")
    @classmethod
    def _host_list(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip().startswith("["):
            return [v.strip().lower() for v in value.split(",") if v.strip()]
        return value

    def production_problems(self) -> list[str]:
        problems = super().production_problems()
        if self.webhook_allowed_private:
            problems.append("LAPOR_WEBHOOK_ALLOWED_PRIVATE opens private addresses to webhooks")
        return problems

    @field_validator("notify_retry_delays_seconds")
    @classmethod
    def _bounded(cls, value: list[float]) -> list[float]:
        # A retry tier's consumer waits in its handler: stay well under max.poll.interval.
        if any(v <= 0 or v > 240 for v in value):
            raise ValueError("retry delays must be between 0 and 240 seconds")
        return value
