"""The portal's settings (prefix ``LAPOR_``). It talks to the other services over HTTP only."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from lapor_kit.settings import FileValuesMixin

DEV_PORTAL_SECRET = "lapor-dev-portal-secret-change-me"  # noqa: S105 (public on purpose)
DEV_TOTP_KEY = "lapor-dev-totp-key-change-me-in-production"
ASSETS = Path(__file__).resolve().parents[2] / "node_modules"


class PortalSettings(FileValuesMixin):
    model_config = SettingsConfigDict(env_prefix="LAPOR_", extra="ignore", populate_by_name=True)

    env: Literal["development", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, validation_alias="LAPOR_PORTAL_PORT")
    intake_url: str = "http://127.0.0.1:8001"
    notify_url: str = "http://127.0.0.1:8003"
    metrics_url: str = "http://127.0.0.1:8004"
    routing_url: str = "http://127.0.0.1:8002"
    mongo_url: str = "mongodb://127.0.0.1:27017/?directConnection=true"
    mongo_db_prefix: str = Field(
        default="lapor", description="The portal's database: <prefix>_portal"
    )
    mongo_timeout_ms: int = 5000
    mongo_ca_file: Path | None = Field(
        default=None, description="The replica set's CA (PEM) when it speaks TLS."
    )
    signing_keys: str = Field(
        default="",
        description="Comma-separated PEM files of the Ed25519 keys that sign staff tokens; "
        "the first signs, all are published at /.well-known/jwks.json (rotation: put the new "
        "key first, drop the old one once its tokens have expired). Empty in development: a "
        "key is made at start (tokens do not survive a restart).",
    )
    totp_key: str = Field(
        default=DEV_TOTP_KEY,
        description="Seals the staff's TOTP secrets in the database (changing it voids every "
        "enrolment).",
    )
    token_ttl_seconds: int = Field(default=300, ge=30, le=3600)
    session_hours: float = Field(default=8.0, description="A staff session ends after this.")
    session_idle_minutes: float = Field(
        default=60.0, description="...or after this long without a request."
    )
    lockout_failures: int = Field(
        default=5,
        description="Wrong sign-ins (per username, per address and username, per known device) "
        "that cost nothing; after them each wrong one makes the next wait.",
    )
    lockout_first_wait_seconds: float = Field(
        default=30.0, description="The first wait; it doubles with each further wrong one."
    )
    lockout_minutes: float = Field(default=15.0, description="The longest wait.")
    trusted_proxies: str = Field(
        default="",
        description="Comma-separated addresses or CIDRs of the proxies in front of the portal "
        "(the ingress controller): the citizen's address is taken from X-Forwarded-For only "
        "through these hops, for rate limits and sign-in back-off, and passed on to intake.",
    )
    seed_dev_accounts: bool = Field(
        default=False,
        description="Create the public development accounts (make run); refused in production.",
    )
    oidc_providers: str = Field(
        default="",
        description="JSON list (or a path to a JSON file) of provinces' own sign-on: name, "
        "label, tenant, metadata_url, client_id, client_secret, claims (role, region_code, "
        "agency_id, name: which claim holds each) and roles (claim value -> Lapor role).",
    )
    backend_timeout_seconds: float = 6.0
    portal_secret: str = Field(
        default=DEV_PORTAL_SECRET,
        description="Signs the portal's cookies (the reports a browser may follow, CSRF).",
    )
    secure_cookies: bool = Field(
        default=False, description="Mark cookies Secure (set behind TLS; production does)."
    )
    assets_dir: Path = Field(
        default=ASSETS, description="node_modules installed from the committed lock file."
    )
    map_tile_url: str = Field(
        default="",
        description="A tile server for the maps, e.g. https://tiles.example/{z}/{x}/{y}.png; "
        "empty: the maps draw the shipped region seats on a plain background (no host).",
    )
    map_rate_limits: str = Field(
        default="lokasi=60/60,mirip=30/60",
        description="Per-address limits of the maps' doors: where a spot lies (lokasi) and "
        "similar reports nearby (mirip), as door=count/seconds.",
    )
    log_level: str = "INFO"

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: str) -> str:
        from lapor_kit.limits import parse_networks

        try:
            parse_networks(value)
        except ValueError as exc:
            raise ValueError(f"LAPOR_TRUSTED_PROXIES: {exc}") from exc
        return value

    def production_problems(self) -> list[str]:
        problems = []
        if self.portal_secret == DEV_PORTAL_SECRET or len(self.portal_secret) < 32:
            problems.append("LAPOR_PORTAL_SECRET is the development value or too short")
        if self.totp_key == DEV_TOTP_KEY or len(self.totp_key) < 32:
            problems.append("LAPOR_TOTP_KEY is the development value or too short")
        if self.totp_key == self.portal_secret:
            problems.append("LAPOR_TOTP_KEY and LAPOR_PORTAL_SECRET must differ")
        if not self.signing_keys:
            problems.append("LAPOR_SIGNING_KEYS must name the token signing key files")
        if self.seed_dev_accounts:
            problems.append("LAPOR_SEED_DEV_ACCOUNTS creates accounts with public passwords")
        if not self.secure_cookies:
            problems.append("LAPOR_SECURE_COOKIES must be true (production is behind TLS)")
        return problems
