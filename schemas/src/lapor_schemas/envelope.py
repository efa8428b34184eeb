"""The common event envelope (CloudEvents-like) used on every event topic."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

TenantId = Annotated[
    str,
    Field(
        pattern=r"^\d{2}$",
        description="Tenant = province, by its two-digit Kemendagri code (e.g. '63').",
        examples=["63"],
    ),
]
TrackingId = Annotated[
    str,
    Field(pattern=r"^LPR-[0-9A-Z]{10}$", description="Public tracking id of a case."),
]
RegionCode = Annotated[
    str,
    Field(
        pattern=r"^\d{2}(\.\d{2})?$",
        description="Kemendagri region code: province '63' or regency/city '63.71'.",
        examples=["63.71"],
    ),
]


def new_event_id() -> str:
    return str(uuid.uuid4())


def utcnow() -> datetime:
    return datetime.now(UTC)


class Envelope(BaseModel):
    """Fields every event carries. Subclasses fix ``type`` and add ``data``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(default_factory=new_event_id, description="Event id; consumers dedupe on it.")
    type: str = Field(description="Event type, e.g. 'complaint.submitted'.")
    source: str = Field(description="Producing service, e.g. 'lapor-intake'.")
    time: datetime = Field(default_factory=utcnow, description="When the fact happened (UTC).")
    tenant: TenantId
    subject: str = Field(description="What the event is about: the tracking id (also the key).")
    correlation_id: str = Field(description="Ties together everything caused by one submission.")
    schema_version: int = Field(default=1, ge=1)
