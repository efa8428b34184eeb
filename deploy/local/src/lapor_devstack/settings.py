"""Ports and folders of the local stack (environment variables with prefix ``LAPOR_``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic_settings import BaseSettings, SettingsConfigDict


class StackSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LAPOR_", extra="ignore")

    kafka_port: int = 9092
    mongo_port: int = 27017
    smtp_port: int = 1025
    mail_http_port: int = 8025
    provider_port: int = 8026
    intake_port: int = 8001
    routing_port: int = 8002
    notify_port: int = 8003
    metrics_port: int = 8004
    portal_port: int = 8000
    var_dir: Path = Path("var")
    kafka_session_timeout_ms: int = 6000
    # Tansu holds an empty fetch for its whole wait (Kafka does not): keep it short locally
    kafka_fetch_max_wait_ms: int = 50
    log_level: str = "INFO"
    # The services' own defaults are for the public; one developer (and the tests, from one
    # address) sends far more than a citizen would.
    rate_limits: str = "submit=600/60,read=6000/60,upload=300/60,sms=300/60,open311=6000/60"
    notify_address_daily_cap: int = 5000  # the samples and tests reuse a few addresses
    # provinces' own sign-on for the portal (JSON list; the tests start a mock provider)
    oidc_providers: str = ""
    # the portal passes the citizen's address to intake, as in production (everything runs
    # on loopback here, so a local client could claim any address: development only)
    trusted_proxies: str = "127.0.0.1/32,::1/128"

    @classmethod
    def on_free_ports(cls, var_dir: Path, **overrides: Any) -> StackSettings:
        """A whole stack of its own (tests, benchmarks): every port free, its own folder."""
        from .procs import free_port

        ports = {
            name: free_port() for name, f in cls.model_fields.items() if name.endswith("_port")
        }
        return cls(var_dir=var_dir, **{**ports, **overrides})

    @property
    def kafka_bootstrap(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"

    @property
    def mongo_url(self) -> str:
        return f"mongodb://127.0.0.1:{self.mongo_port}/?directConnection=true"

    def service_env(self) -> dict[str, str]:
        """Environment for the four services (the names their settings read)."""
        return {
            "LAPOR_KAFKA_BOOTSTRAP": self.kafka_bootstrap,
            "LAPOR_MONGO_URL": self.mongo_url,
            "LAPOR_SMTP_HOST": "127.0.0.1",
            "LAPOR_SMTP_PORT": str(self.smtp_port),
            # SMS and WhatsApp go to the local provider stand-in (see lapor_devstack.provider_stub)
            "LAPOR_SMS_URL": f"http://127.0.0.1:{self.provider_port}/send/sms",
            "LAPOR_WHATSAPP_URL": f"http://127.0.0.1:{self.provider_port}/send/whatsapp",
            # agency webhooks may name the stand-in, and no other private address
            "LAPOR_WEBHOOK_ALLOWED_PRIVATE": f"127.0.0.1:{self.provider_port}",
            "LAPOR_INTAKE_PORT": str(self.intake_port),
            "LAPOR_ROUTING_PORT": str(self.routing_port),
            "LAPOR_NOTIFY_PORT": str(self.notify_port),
            "LAPOR_METRICS_PORT": str(self.metrics_port),
            "LAPOR_PORTAL_PORT": str(self.portal_port),
            "LAPOR_INTAKE_URL": self.url("intake"),
            "LAPOR_NOTIFY_URL": self.url("notify"),
            "LAPOR_METRICS_URL": self.url("metrics"),
            "LAPOR_KAFKA_SESSION_TIMEOUT_MS": str(self.kafka_session_timeout_ms),
            "LAPOR_KAFKA_FETCH_MAX_WAIT_MS": str(self.kafka_fetch_max_wait_ms),
            "LAPOR_LOG_LEVEL": self.log_level,
            "LAPOR_RATE_LIMITS": self.rate_limits,
            "LAPOR_NOTIFY_ADDRESS_DAILY_CAP": str(self.notify_address_daily_cap),
            "LAPOR_ROUTING_URL": self.url("routing"),
            # staff tokens: the portal signs, the services verify with its published keys
            "LAPOR_AUTH_JWKS_URL": f"{self.url('portal')}/.well-known/jwks.json",
            "LAPOR_SIGNING_KEYS": str(self.signing_key_file.resolve()),
            "LAPOR_SEED_DEV_ACCOUNTS": "true",
            "LAPOR_OIDC_PROVIDERS": self.oidc_providers,
            "LAPOR_TRUSTED_PROXIES": self.trusted_proxies,
            # the links in reporters' messages lead to this portal
            "LAPOR_PORTAL_URL": self.url("portal"),
        }

    @property
    def signing_key_file(self) -> Path:
        return self.var_dir / "portal-signing-key.pem"

    def url(self, service: str) -> str:
        port = getattr(self, f"{service}_port")
        return f"http://127.0.0.1:{port}"
