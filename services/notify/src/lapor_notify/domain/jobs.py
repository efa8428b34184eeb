"""Send jobs: what notify's own channel queues and retry tiers carry (notify-internal)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from .planning import ChannelName


class SendJob(BaseModel):
    """Attempt ``attempt`` of delivery ``delivery_id``; ``due_at`` is set in retry tiers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    delivery_id: str = Field(min_length=3, max_length=300)
    tracking_id: str
    tenant: str
    channel: ChannelName
    attempt: int = Field(ge=1)
    due_at: datetime | None = None
