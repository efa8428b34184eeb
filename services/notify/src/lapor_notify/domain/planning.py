"""Which deliveries a case event causes: who hears what. Pure: no I/O.

Reporters hear about every step that concerns them (received, forwarded or re-routed,
rejected, asked for details, followed up, closed with a rating request, linked as a repeat,
reminded to reply); agencies hear about what they must act on (dispatched, disputed,
reminders, escalations). Reporter identity never enters an agency's message: agency messages
are rendered from case facts, which hold none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from lapor_schemas import (
    CaseDispatched,
    CaseEscalated,
    CaseEvent,
    CaseReminder,
    ComplaintSubmitted,
)

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
    address: str | None = None  # None: resolved when sending (reporter contact, case facts)
    agency_id: str | None = None
    context: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        """Exactly one delivery per (event, recipient, channel)."""
        recipient = self.agency_id or self.role
        return f"{self.cause_event_id}:{recipient}:{self.channel}"


# event type -> roles told about it (the template is "<event type>.<role>.email")
TOLD: dict[str, tuple[Role, ...]] = {
    "complaint.submitted": ("reporter",),
    "case.dispatched": ("reporter", "agency"),
    "case.rejected": ("reporter",),
    "case.info_requested": ("reporter",),
    "case.marked_repeat": ("reporter",),
    "case.followed_up": ("reporter",),
    "case.disputed": ("agency",),
    "case.closed": ("reporter",),
    "case.escalated": ("agency",),
    "case.reminder": (),  # decided by the reminder's recipient
}

REMINDED: dict[str, tuple[Role, ...]] = {"reporter": ("reporter",), "agency": ("agency",)}


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


def facts_update(event: CaseEvent) -> dict[str, Any] | None:
    """Case facts an event changes (the agency currently in charge)."""
    if isinstance(event, CaseDispatched):
        agency = event.data.agency
        return {"agency_id": agency.id, "agency_name": agency.name, "agency_email": agency.email}
    return None


def _context(event: CaseEvent) -> dict[str, Any]:
    data: Any = event.data
    ctx: dict[str, Any] = {}
    for key in (
        "reason",
        "text",
        "due_at",
        "level",
        "score",
        "repeat_of",
        "rule",
        "stage",
        "previous_agency_id",
    ):
        value = getattr(data, key, None)
        if value is not None:
            ctx[key] = value
    agency = getattr(data, "agency", None)
    if agency is not None:
        ctx["agency_name"] = agency.name
    if isinstance(event, CaseEscalated):
        ctx["to_name"] = event.data.to.name
    return ctx


def plan(
    event: CaseEvent, now: datetime, reporter_channels: tuple[ChannelName, ...] = ("email",)
) -> list[Delivery]:
    """Deliveries for ``event``: one per recipient and channel. Reporters get one per channel
    in ``reporter_channels`` (a channel without an address in their contact is skipped when
    sending); agencies get email."""
    roles: tuple[Role, ...] = TOLD.get(event.type, ())
    if isinstance(event, CaseReminder):
        roles = REMINDED.get(event.data.recipient, ())
    if isinstance(event, ComplaintSubmitted) and not event.data.reporter_contactable:
        return []
    out = []
    for role in roles:
        address: str | None = None
        agency_id: str | None = None
        if role == "agency":
            if isinstance(event, CaseDispatched):
                agency_id, address = event.data.agency.id, event.data.agency.email
                if not address:
                    continue
            elif isinstance(event, CaseEscalated):
                agency_id, address = event.data.to.id, event.data.to.email
                if not address:
                    continue
            else:
                agency_id = "current"  # the agency in charge, from the case facts
        channels: tuple[ChannelName, ...] = reporter_channels if role == "reporter" else ("email",)
        for channel in channels:
            out.append(
                Delivery(
                    cause_event_id=event.id,
                    cause_event_type=event.type,
                    tracking_id=event.subject,
                    tenant=event.tenant,
                    role=role,
                    channel=channel,
                    template=f"{event.type}.{role}.{channel}",
                    address=address,
                    agency_id=agency_id,
                    context=_context(event),
                )
            )
    return out
