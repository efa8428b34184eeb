"""Which deliveries a case event causes. Pure: no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from lapor_schemas import CaseDispatched, CaseEvent, ComplaintSubmitted

Role = Literal["reporter", "agency"]
ChannelName = Literal["email", "sms", "whatsapp", "webhook", "inbox"]


@dataclass(frozen=True, slots=True)
class Delivery:
    """One message to one recipient on one channel, caused by one event."""

    cause_event_id: str
    cause_event_type: str
    tracking_id: str
    tenant: str
    role: Role
    channel: ChannelName
    template: str
    address: str | None = None  # agencies' addresses are directory data; reporters' come later
    agency_id: str | None = None
    context: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        """Exactly one delivery per (event, recipient, channel)."""
        recipient = self.agency_id or self.role
        return f"{self.cause_event_id}:{recipient}:{self.channel}"


def case_facts(event: ComplaintSubmitted) -> dict[str, Any]:
    """What later notifications about the case may quote. Never reporter identity."""
    d = event.data
    return {
        "_id": d.tracking_id,
        "tenant": event.tenant,
        "title": d.title,
        "description": d.description,
        "type": d.type.value,
        "category": d.category,
        "region_code": d.region_code,
        "anonymous": d.anonymous,
        "confidential": d.confidential,
        "reporter_contactable": d.reporter_contactable,
    }


def plan(event: CaseEvent, now: datetime) -> list[Delivery]:
    if isinstance(event, ComplaintSubmitted):
        if not event.data.reporter_contactable:
            return []
        return [
            Delivery(
                cause_event_id=event.id,
                cause_event_type=event.type,
                tracking_id=event.subject,
                tenant=event.tenant,
                role="reporter",
                channel="email",
                template="complaint.submitted.reporter.email",
            )
        ]
    if isinstance(event, CaseDispatched):
        agency = event.data.agency
        if not agency.email:
            return []
        return [
            Delivery(
                cause_event_id=event.id,
                cause_event_type=event.type,
                tracking_id=event.subject,
                tenant=event.tenant,
                role="agency",
                channel="email",
                template="case.dispatched.agency.email",
                address=agency.email,
                agency_id=agency.id,
                context={"agency_name": agency.name, "rule": event.data.rule},
            )
        ]
    return []
