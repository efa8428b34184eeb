from __future__ import annotations

from pydantic import Field

from lapor_kit.settings import KitSettings


class MetricsSettings(KitSettings):
    port: int = Field(default=8004, validation_alias="LAPOR_METRICS_PORT")
    refresh_seconds: float = Field(
        default=5.0,
        validation_alias="LAPOR_METRICS_REFRESH_SECONDS",
        description="The counters, backlog and volumes are read from the store at most this "
        "often; scrapes in between answer with the last reading.",
    )
    linger_ms: int = Field(
        default=5000,
        validation_alias="LAPOR_METRICS_LINGER_MS",
        description="After a batch that was not full, metrics waits this long so that the next "
        "one carries more (see LAPOR_KAFKA_BACKGROUND_LINGER_MS, which the reporter-facing views "
        "keep at 1 s): counters are read at most every LAPOR_METRICS_REFRESH_SECONDS anyway.",
    )
