from __future__ import annotations

from pathlib import Path

from pydantic import Field

from lapor_kit.settings import KitSettings

DEV_CREDENTIALS = Path(__file__).parent / "data" / "credentials.dev.json"


class IntakeSettings(KitSettings):
    port: int = Field(default=8001, validation_alias="LAPOR_INTAKE_PORT")
    credentials_file: Path = Field(
        default=DEV_CREDENTIALS,
        validation_alias="LAPOR_INTAKE_CREDENTIALS_FILE",
        description="Registered channels, Open311 API keys and SMS gateways (JSON).",
    )
