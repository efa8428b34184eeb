from __future__ import annotations

from pydantic import Field

from lapor_kit.settings import KitSettings


class RoutingSettings(KitSettings):
    port: int = Field(default=8002, validation_alias="LAPOR_ROUTING_PORT")
