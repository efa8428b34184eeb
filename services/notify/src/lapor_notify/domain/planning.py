"""Who hears what, on which channel. Pure: no I/O.

A case event becomes *notices* (one per recipient: the reporter, an agency), and each notice
becomes *deliveries* (one per channel). Reporters hear about every step that concerns them
(received, forwarded or re-routed, rejected, asked for details, followed up, closed with a
rating request, linked as a repeat, reminded to reply); agencies hear about what they must act
on (dispatched, disputed, a message from the reporter, reminders, escalations).

Reporter identity never enters an agency's message: agency messages are rendered from case
facts and event data, which hold none; only reporter messages get the reporter's name.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from lapor_schemas import (
    CaseDispatched,
    CaseEscalated,
    CaseEvent,
    CaseReminder,
    ComplaintSubmitted,
    words,
)

Role = Literal["reporter", "agency", "supporter"]
ChannelName = Literal["email", "sms", "whatsapp", "webhook", "inbox"]
PROVIDER_CHANNELS: tuple[ChannelName, ...] = ("email", "sms", "whatsapp", "webhook")
CONTACT_FIELD: dict[str, str] = {"email": "email", "sms": "phone", "whatsapp": "phone"}
DEFAULT_REPORTER_CHANNELS: tuple[ChannelName, ...] = ("email", "sms")  # WhatsApp: opt-in

# event type -> roles told about it (templates are "<event type>.<role>.<channel>")
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
    # the reporter's question or more information reaches the agency in charge (before a
    # dispatch there is none: the verifier reads it in the case's history)
    "case.reporter_messaged": ("agency",),
}
# People who joined a report ("Ini masalah yang sama") hear what changes it for them too:
# the events the one vocabulary has supporter words for.
SUPPORTERS_TOLD: frozenset[str] = frozenset(words.SUPPORTER_NOTICE)
# ...and of the event's words only what anyone may read: the agency's answer, a rejection's
# reason; never a coordinator's note on a dispatch or the reporter's own words on closing.
SUPPORTERS_READ: dict[str, tuple[str, ...]] = {
    "case.followed_up": ("text",),
    "case.rejected": ("reason",),
}
REMINDED: dict[str, tuple[Role, ...]] = {
    "reporter": ("reporter",),
    "agency": ("agency",),
    "coordinator": ("agency",),  # the coordinator named in the reminder, who must verify
}

# Which of an agency's registered contacts hear an event ("operator": the complaint desk,
# "pimpinan": the head of the agency). Without registered contacts the directory address does.
AGENCY_CONTACT_ROLES: dict[str, tuple[str, ...]] = {
    "case.dispatched": ("operator",),
    "case.disputed": ("operator", "pimpinan"),
    "case.reminder": ("operator",),
    "case.escalated": ("operator", "pimpinan"),
    "case.reporter_messaged": ("operator",),
}
CONTACT_ROLES = ("operator", "pimpinan")


@dataclass(frozen=True, slots=True)
class Notice:
    """One event told to one recipient, before channels are chosen."""

    cause_event_id: str
    cause_event_type: str
    tracking_id: str
    tenant: str
    role: Role
    agency_id: str | None = None
    agency_name: str | None = None
    fallback_email: str | None = None  # the directory's address of the agency
    context: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.cause_event_id}:{self.agency_id or self.role}"

    @property
    def template(self) -> str:
        return f"{self.cause_event_type}.{self.role}"


def supporter_notice(event: CaseEvent) -> Notice | None:
    """What the people who joined a report hear of ``event`` (one notice for all of them;
    each gets deliveries of their own, see :func:`supporter_routes`)."""
    if event.type not in SUPPORTERS_TOLD:
        return None
    return Notice(
        cause_event_id=event.id,
        cause_event_type=event.type,
        tracking_id=event.subject,
        tenant=event.tenant,
        role="supporter",
        context=_context(event),
    )


def supporter_routes(supporter: Mapping[str, Any]) -> list[Route]:
    """A supporter's chosen channels that have an address (default: email and SMS); no
    inbox: the report's page is the reporter's, not theirs."""
    chosen = supporter.get("channels") or DEFAULT_REPORTER_CHANNELS
    recipient = f"supporter~{supporter['supporter_id']}"
    routes = []
    for channel in dict.fromkeys(chosen):  # a channel named twice is one route
        address = supporter.get(CONTACT_FIELD.get(channel, ""))
        if address:
            routes.append(Route(channel, recipient, str(address)))
    return routes


@dataclass(frozen=True, slots=True)
class Route:
    """Where one delivery of a notice goes."""

    channel: ChannelName
    recipient: str  # "reporter", an agency id, or "<agency id>~<contact hash>"
    address: str | None  # email, phone or URL; None for the inbox


def delivery_id(notice: Notice, route: Route) -> str:
    """Exactly one delivery per (event, recipient, channel)."""
    return f"{notice.cause_event_id}:{route.recipient}:{route.channel}"


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


def notices(event: CaseEvent, facts: Mapping[str, Any] | None = None) -> list[Notice]:
    """Who is told about ``event``. ``facts`` are the case facts before the event (they name
    the agency in charge, for events that do not)."""
    roles: tuple[Role, ...] = TOLD.get(event.type, ())
    if isinstance(event, CaseReminder):
        roles = REMINDED.get(event.data.recipient, ())
    facts = facts or {}
    out = []
    base = Notice(
        cause_event_id=event.id,
        cause_event_type=event.type,
        tracking_id=event.subject,
        tenant=event.tenant,
        role="reporter",
        context=_context(event),
    )
    for role in roles:
        if role == "reporter":
            out.append(base)
            continue
        agency_id: str | None
        name: str | None
        email: str | None
        if isinstance(event, CaseDispatched):
            a = event.data.agency
            agency_id, name, email = a.id, a.name, a.email
        elif isinstance(event, CaseEscalated):
            a = event.data.to
            agency_id, name, email = a.id, a.name, a.email
        elif isinstance(event, CaseReminder) and event.data.recipient == "coordinator":
            if event.data.agency is None:
                continue
            a = event.data.agency
            agency_id, name, email = a.id, a.name, a.email
        else:
            agency_id = facts.get("agency_id")
            name, email = facts.get("agency_name"), facts.get("agency_email")
        if not agency_id:
            continue  # no agency in charge yet: nobody to tell
        out.append(
            replace(
                base,
                role="agency",
                agency_id=str(agency_id),
                agency_name=name,
                fallback_email=email,
            )
        )
    return out


def reporter_routes(contact: Mapping[str, Any]) -> list[Route]:
    """The reporter's chosen channels that have an address (default: email and SMS)."""
    chosen = contact.get("channels") or DEFAULT_REPORTER_CHANNELS
    routes = []
    for channel in dict.fromkeys(chosen):  # a channel named twice is one route
        address = contact.get(CONTACT_FIELD.get(channel, ""))
        if address:
            routes.append(Route(channel, "reporter", str(address)))
    return routes


def _contact_key(agency_id: str, email: str) -> str:
    return f"{agency_id}~{hashlib.sha256(email.lower().encode()).hexdigest()[:10]}"


def agency_routes(notice: Notice, entry: Mapping[str, Any] | None) -> list[Route]:
    """Email to the agency's contacts whose role hears this event (or to the directory
    address when none is registered), its webhook if it registered one, and its inbox."""
    assert notice.agency_id is not None
    entry = entry or {}
    wanted = AGENCY_CONTACT_ROLES.get(notice.cause_event_type, ("operator",))
    emails = sorted(
        {
            str(c["email"])
            for c in entry.get("contacts") or ()
            if c.get("role") in wanted and c.get("email")
        }
    )
    routes = [Route("email", _contact_key(notice.agency_id, e), e) for e in emails]
    if not routes and notice.fallback_email:
        routes.append(Route("email", notice.agency_id, notice.fallback_email))
    webhook = entry.get("webhook") or {}
    if webhook.get("url"):
        routes.append(Route("webhook", notice.agency_id, str(webhook["url"])))
    routes.append(Route("inbox", notice.agency_id, None))
    return routes


ReporterPlan = Literal["routes", "wait", "inbox_only"]


def reporter_plan(
    contact: Mapping[str, Any] | None, facts: Mapping[str, Any] | None
) -> tuple[ReporterPlan, list[Route]]:
    """The reporter's routes besides the inbox: known now, to wait for (the contact comes on
    its own topic and may arrive after the event), or none (nothing to reach them by)."""
    if contact is not None:
        return "routes", reporter_routes(contact)
    if facts is not None and not facts.get("reporter_contactable", True):
        return "inbox_only", []
    return "wait", []


def webhook_payload(
    notice: Notice, facts: Mapping[str, Any], subject: str, text: str, delivery: str
) -> dict[str, Any]:
    """What an agency's webhook receives: the case as the agency sees it (no reporter
    identity: case facts hold none) and the message."""
    case = {
        k: facts.get(k)
        for k in (
            "tenant",
            "title",
            "description",
            "type",
            "category",
            "region_code",
            "anonymous",
            "confidential",
        )
    }
    return {
        "delivery_id": delivery,
        "event": {"id": notice.cause_event_id, "type": notice.cause_event_type},
        "tracking_id": notice.tracking_id,
        "agency_id": notice.agency_id,
        "case": case,
        "message": {"subject": subject, "text": text},
        "context": {k: _plain(v) for k, v in notice.context.items()},
    }


def _plain(value: Any) -> Any:
    iso = getattr(value, "isoformat", None)
    return iso() if callable(iso) else value


TEMPLATE_FALLBACK: dict[str, tuple[str, ...]] = {
    "email": ("email",),
    "sms": ("sms",),
    "whatsapp": ("whatsapp", "sms"),
    "webhook": ("email",),
    "inbox": ("email",),
}


def template_names(notice: Notice, channel: ChannelName) -> Sequence[str]:
    names = [f"{notice.template}.{c}" for c in TEMPLATE_FALLBACK[channel]]
    if notice.role == "supporter":  # one template says each of their events
        names += [f"supporter.{c}" for c in TEMPLATE_FALLBACK[channel]]
    return names
