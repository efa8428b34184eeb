from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from lapor_kit.settings import KitSettings


class RoutingSettings(KitSettings):
    uses_upload_key: ClassVar[bool] = True
    port: int = Field(default=8002, validation_alias="LAPOR_ROUTING_PORT")
    scheduler_interval_seconds: float = Field(
        default=5.0,
        validation_alias="LAPOR_ROUTING_SCHEDULER_INTERVAL_SECONDS",
        description="How often due deadlines and reminders are looked for (0: never, tests).",
    )
