from __future__ import annotations

from pydantic import Field

from lapor_kit.settings import KitSettings


class MetricsSettings(KitSettings):
    port: int = Field(default=8004, validation_alias="LAPOR_METRICS_PORT")
