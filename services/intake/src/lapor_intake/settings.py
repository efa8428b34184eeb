from __future__ import annotations

from pydantic import Field

from lapor_kit.settings import KitSettings


class IntakeSettings(KitSettings):
    port: int = Field(default=8001, validation_alias="LAPOR_INTAKE_PORT")
