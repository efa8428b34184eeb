"""The portal's settings (prefix ``LAPOR_``). It talks to the other services over HTTP only."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_PORTAL_SECRET = "lapor-dev-portal-secret-change-me"  # noqa: S105 (public on purpose)
ASSETS = Path(__file__).resolve().parents[2] / "node_modules"


class PortalSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LAPOR_", extra="ignore", populate_by_name=True)

    env: Literal["development", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, validation_alias="LAPOR_PORTAL_PORT")
    intake_url: str = "http://127.0.0.1:8001"
    notify_url: str = "http://127.0.0.1:8003"
    metrics_url: str = "http://127.0.0.1:8004"
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
    log_level: str = "INFO"

    def production_problems(self) -> list[str]:
        problems = []
        if self.portal_secret == DEV_PORTAL_SECRET or len(self.portal_secret) < 32:
            problems.append("LAPOR_PORTAL_SECRET is the development value or too short")
        if not self.secure_cookies:
            problems.append("LAPOR_SECURE_COOKIES must be true (production is behind TLS)")
        return problems
