"""Case lifecycle events (``lapor.cases.v1``), contacts and notification outcomes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from .envelope import Envelope, RegionCode, TrackingId
from .intake import Attachment, Channel, Location, ReportType


class _Data(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SubmittedData(_Data):
    """A report as the case log carries it. Never any reporter identity."""

    tracking_id: TrackingId
    type: ReportType
    title: str
    description: str
    category: str
    region_code: RegionCode
    province_code: str = Field(pattern=r"^\d{2}$")
    channel: Channel
    channel_id: str | None = Field(
        default=None, description="Registered external channel id, for channel=external."
    )
    anonymous: bool
    confidential: bool
    reporter_contactable: bool = Field(
        default=False,
        description="A contact for this report is on lapor.contacts.v1 (no identity here).",
    )
    location: Location | None = None
    attachments: list[Attachment] = Field(default_factory=list)
    entered_by: str | None = Field(
        default=None, description="Staff member who entered an offline report (not the reporter)."
    )
    repeat_of: TrackingId | None = Field(
        default=None, description="An open report with the same substance (flag for the verifier)."
    )
    repeat_score: float | None = Field(default=None, ge=0, le=1)
    suggested_category: str | None = Field(
        default=None,
        description="The category the report's words point to, when the suggester is sure "
        "and it differs from the chosen one (a flag for the verifier; the choice stands).",
    )
    suggested_score: float | None = Field(default=None, ge=0, le=1)
    submitted_at: datetime


class AgencyRef(_Data):
    id: str
    name: str
    region_code: RegionCode
    email: str | None = Field(default=None, description="The agency's official contact address.")
    categories: list[str] = Field(
        default_factory=list,
        description="The categories the agency handles (a decline that ends at an agency of "
        "another category teaches the category suggester).",
    )


class DispatchedData(_Data):
    tracking_id: TrackingId
    agency: AgencyRef
    rule: str = Field(description="Which routing rule chose the agency.")
    category: str
    region_code: RegionCode
    dispatched_at: datetime
    due_at: datetime | None = Field(default=None, description="Follow-up deadline.")
    transfers: int = Field(default=0, ge=0, description="Declines so far (0 on first dispatch).")
    previous_agency_id: str | None = None


class Actor(_Data):
    """Who acted: staff or the system. Never the reporter's identity."""

    kind: Literal["staff", "system", "reporter"]
    id: str | None = None
    role: str | None = None
    agency_id: str | None = None


class TransitionData(_Data):
    """Common payload of lifecycle events."""

    tracking_id: TrackingId
    status: str = Field(description="The case's status after this event.")
    at: datetime
    actor: Actor
    reason: str | None = Field(default=None, max_length=2000)
    text: str | None = Field(default=None, max_length=5000)
    agency: AgencyRef | None = None
    due_at: datetime | None = None
    attachments: list[Attachment] = Field(default_factory=list)


class EscalationData(TransitionData):
    level: int = Field(ge=1, description="1 = first step of the tenant's escalation chain.")
    stage: Literal["verify", "follow_up"]
    to: AgencyRef = Field(description="Who the case is escalated to.")


class ReminderData(TransitionData):
    stage: Literal["verify", "follow_up", "reply"]
    recipient: Literal["coordinator", "agency", "reporter"]


class RecategorisedData(TransitionData):
    category: str = Field(description="The category the case now has.")
    previous_category: str = Field(description="The category it had before.")


class RatingData(TransitionData):
    score: int = Field(ge=1, le=5)


class MarkedRepeatData(TransitionData):
    repeat_of: TrackingId


class ReplyData(_Data):
    tracking_id: TrackingId
    text: str = Field(min_length=1, max_length=2000)
    channel: Channel
    replied_at: datetime


class ReporterReplied(Envelope):
    """The reporter answered on a case (web, SMS ...). Routing applies it to the lifecycle.

    Kept for the events already in the log, which keep their meaning: after a follow-up it
    closed the case. Intake now publishes the reporter's three explicit answers instead
    (:class:`ReporterAccepted`, :class:`ReporterDisputed`, :class:`ReporterMessaged`)."""

    type: Literal["case.reporter_replied"] = "case.reporter_replied"
    data: ReplyData


class ReporterMessaged(Envelope):
    """A message from the reporter on an open case: a question or more information for the
    agency (or, while details are asked for, the answer to that question). It never closes
    the case and stops no deadline."""

    type: Literal["case.reporter_messaged"] = "case.reporter_messaged"
    data: ReplyData


class AcceptData(_Data):
    tracking_id: TrackingId
    text: str = Field(default="", max_length=2000)
    channel: Channel
    replied_at: datetime


class ReporterAccepted(Envelope):
    """The reporter says the follow-up solved it ("Selesai, terima kasih"): routing closes
    the case, and the reporter may then rate it."""

    type: Literal["case.reporter_accepted"] = "case.reporter_accepted"
    data: AcceptData


class ReporterDisputed(Envelope):
    """The reporter is not satisfied with the follow-up (routing sends it back)."""

    type: Literal["case.reporter_disputed"] = "case.reporter_disputed"
    data: ReplyData


class ReporterRatingData(ReplyData):
    score: int = Field(ge=1, le=5)
    text: str = Field(default="", max_length=2000)


class ReporterRated(Envelope):
    """The reporter rated the handling of a closed case (routing records it as case.rated)."""

    type: Literal["case.reporter_rated"] = "case.reporter_rated"
    data: ReporterRatingData


class SupportData(_Data):
    tracking_id: TrackingId
    supporters: int = Field(ge=1, description="How many people joined the report so far.")
    channel: Channel
    supported_at: datetime


class CaseSupported(Envelope):
    """Someone with the same problem joined this report instead of filing another ("Ini
    masalah yang sama"). Intake publishes the count so far; routing keeps it for the staff
    inbox. No identity: a supporter's contact goes to notify on ``lapor.contacts.v1``."""

    type: Literal["case.supported"] = "case.supported"
    data: SupportData


class ComplaintSubmitted(Envelope):
    type: Literal["complaint.submitted"] = "complaint.submitted"
    data: SubmittedData


class CaseDispatched(Envelope):
    type: Literal["case.dispatched"] = "case.dispatched"
    data: DispatchedData


class CaseVerified(Envelope):
    type: Literal["case.verified"] = "case.verified"
    data: TransitionData


class CaseInfoRequested(Envelope):
    type: Literal["case.info_requested"] = "case.info_requested"
    data: TransitionData


class CaseInfoReceived(Envelope):
    type: Literal["case.info_received"] = "case.info_received"
    data: TransitionData


class CaseRejected(Envelope):
    type: Literal["case.rejected"] = "case.rejected"
    data: TransitionData


class CaseMarkedRepeat(Envelope):
    type: Literal["case.marked_repeat"] = "case.marked_repeat"
    data: MarkedRepeatData


class CaseDeclined(Envelope):
    """The agency says the case is not within its authority (bukan wewenang)."""

    type: Literal["case.declined"] = "case.declined"
    data: TransitionData


class CaseFollowedUp(Envelope):
    type: Literal["case.followed_up"] = "case.followed_up"
    data: TransitionData


class CaseDisputed(Envelope):
    type: Literal["case.disputed"] = "case.disputed"
    data: TransitionData


class CaseClosed(Envelope):
    type: Literal["case.closed"] = "case.closed"
    data: TransitionData


class CaseRated(Envelope):
    type: Literal["case.rated"] = "case.rated"
    data: RatingData


class CaseReminder(Envelope):
    """A deadline is near: notify tells the one who has to act."""

    type: Literal["case.reminder"] = "case.reminder"
    data: ReminderData


class CaseEscalated(Envelope):
    type: Literal["case.escalated"] = "case.escalated"
    data: EscalationData


class CaseRecategorised(Envelope):
    """A verifier corrected the report's category (routed again by the rules when an agency
    already had it; a labelled example for the category suggester)."""

    type: Literal["case.recategorised"] = "case.recategorised"
    data: RecategorisedData


CaseEvent = Annotated[
    ComplaintSubmitted
    | CaseDispatched
    | CaseSupported
    | ReporterReplied
    | ReporterMessaged
    | ReporterAccepted
    | ReporterDisputed
    | ReporterRated
    | CaseVerified
    | CaseInfoRequested
    | CaseInfoReceived
    | CaseRejected
    | CaseMarkedRepeat
    | CaseDeclined
    | CaseFollowedUp
    | CaseDisputed
    | CaseClosed
    | CaseRated
    | CaseReminder
    | CaseEscalated
    | CaseRecategorised,
    Field(discriminator="type"),
]
CASE_EVENT_TYPES: frozenset[str] = frozenset(
    member.model_fields["type"].default for member in get_args(get_args(CaseEvent)[0])
)
"""Every type on ``lapor.cases.v1``, derived from :data:`CaseEvent` (one source)."""
case_event_adapter: TypeAdapter[CaseEvent] = TypeAdapter(CaseEvent)

STATUS_SET_BY: dict[str, str] = {
    # events whose payload carries no status but which always lead to the same one
    "complaint.submitted": "submitted",
    "case.dispatched": "dispatched",
}
STATUS_UNCHANGED: frozenset[str] = frozenset(
    {
        # a reminder or an escalation leaves the status as it was (their payload repeats it)
        "case.reminder",
        "case.escalated",
        # "declined" is a moment: the dispatch to the next agency follows in the same step
        "case.declined",
        # a supporter joining, and the reporter's own requests (routing answers those with
        # events of its own: case.closed, case.disputed, case.info_received ...)
        "case.supported",
        "case.reporter_replied",
        "case.reporter_messaged",
        "case.reporter_accepted",
        "case.reporter_disputed",
        "case.reporter_rated",
    }
)
"""The rest of the case events carry, in ``data.status``, the status they lead to."""


def status_after(event: Envelope) -> str | None:
    """The status a case is in after ``event``, for every consumer of the case log (routing
    decides it; intake's views, metrics' projection and notify read it here), or ``None``
    when the event leaves the status as it was.

    Found: ``case.dispatched`` carries no status, and metrics read ``data.status`` alone, so a
    dispatched case stayed "verified" there and was never counted at its follow-up stage."""
    if event.type in STATUS_SET_BY:
        return STATUS_SET_BY[event.type]
    if event.type in STATUS_UNCHANGED:
        return None
    found = getattr(getattr(event, "data", None), "status", None)
    return str(found) if found else None


class ContactData(_Data):
    tracking_id: TrackingId
    anonymous: bool
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    language: Literal["id", "en"] = "id"
    channels: list[Literal["email", "sms", "whatsapp"]] = Field(
        default_factory=list,
        description="Where the reporter wants to hear back (empty: every channel with an "
        "address, WhatsApp excepted).",
    )


class ReporterContact(Envelope):
    """On ``lapor.contacts.v1`` only (read by notify). Anonymous reporters may still leave a
    contact so that they hear back; agencies never see it."""

    type: Literal["reporter.contact"] = "reporter.contact"
    data: ContactData


class SupporterContactData(_Data):
    tracking_id: TrackingId
    supporter_id: str = Field(
        pattern=r"^[0-9a-f]{16}$",
        description="Stable per report and person (a digest, never the address itself).",
    )
    email: str | None = None
    phone: str | None = None
    language: Literal["id", "en"] = "id"
    channels: list[Literal["email", "sms", "whatsapp"]] = Field(default_factory=list)


class SupporterContact(Envelope):
    """On ``lapor.contacts.v1`` only (read by notify): someone who joined a report and wants
    to hear when it changes. Agencies never see it, and it never names the reporter."""

    type: Literal["supporter.contact"] = "supporter.contact"
    data: SupporterContactData


Contact = Annotated[ReporterContact | SupporterContact, Field(discriminator="type")]
"""Everything on ``lapor.contacts.v1``."""
contact_adapter: TypeAdapter[Contact] = TypeAdapter(Contact)


class NotificationData(_Data):
    notification_id: str
    tracking_id: TrackingId
    cause_event_id: str
    cause_event_type: str
    channel: Literal["email", "sms", "whatsapp", "webhook", "inbox"]
    recipient_role: Literal["reporter", "agency", "supporter"]
    agency_id: str | None = None
    status: Literal["sent", "delivered", "failed", "retrying", "dead_lettered"] = Field(
        description="sent: a provider took it; delivered: reserved (inbox copies are delivered "
        "by being stored and publish no outcome); retrying: "
        "an attempt failed and another is scheduled; failed: the provider refused it for good; "
        "dead_lettered: out of attempts (both end on the dead-letter topic)."
    )
    attempts: int = 1
    reason: str | None = None
    at: datetime


class NotificationEvent(Envelope):
    type: Literal["notification.outcome"] = "notification.outcome"
    data: NotificationData


CONTACT_TYPES: frozenset[str] = frozenset(
    member.model_fields["type"].default for member in get_args(get_args(Contact)[0])
)


def parse_contact(raw: bytes | str) -> ReporterContact | SupporterContact | None:
    """Parse one ``lapor.contacts.v1`` record; ``None`` for a type this version does not
    know (a newer producer's), ``ValidationError`` for a malformed one."""
    head = _peek_type(raw)
    if head is not None and head not in CONTACT_TYPES:
        return None
    found: ReporterContact | SupporterContact = contact_adapter.validate_json(raw)
    return found


def parse_case_event(raw: bytes | str) -> CaseEvent | None:
    """Parse one case-log record. Returns ``None`` for event types this version does not know
    (forward compatibility: newer producers may add types); raises ``ValidationError`` for a
    malformed record of a known type."""
    head = _peek_type(raw)
    if head is not None and head not in CASE_EVENT_TYPES:
        return None
    return case_event_adapter.validate_json(raw)


def _peek_type(raw: bytes | str) -> str | None:
    try:
        obj: Any = _loose.validate_json(raw)
    except ValidationError:
        return None
    value = obj.get("type") if isinstance(obj, dict) else None
    return value if isinstance(value, str) else None


_loose: TypeAdapter[Any] = TypeAdapter(Any)
