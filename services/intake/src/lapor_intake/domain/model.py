"""Accepting a submission: where it is, reference checks, the tracking id and secret, and
everything that gets recorded. Pure: no I/O."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lapor_schemas import (
    Attachment,
    Channel,
    ComplaintSubmitted,
    ContactData,
    FieldError,
    ReporterContact,
    SubmissionCore,
    SubmittedData,
    geo,
    words,
)
from lapor_schemas.reference import Category, Region, current_code, province_of

from ..triage import FLAG_SCORE, Suggested
from .errors import field_error
from .repeats import Match

SOURCE = "lapor-intake"
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U


def new_tracking_id(randbelow: Callable[[int], int] = secrets.randbelow) -> str:
    return "LPR-" + "".join(_ALPHABET[randbelow(32)] for _ in range(10))


@dataclass(frozen=True, slots=True)
class Catalogue:
    categories: Mapping[str, Category]
    regions: Mapping[str, Region]

    def locate(self, sub: SubmissionCore) -> tuple[str | None, list[FieldError]]:
        """The region of a report: its ``region_code``, or the one its coordinates fall in."""
        if sub.region_code is not None:
            code = current_code(sub.region_code)  # a former code is read as the current one
            if code not in self.regions:
                return None, [field_error("region_code", "unknown_region", value=sub.region_code)]
            return code, []
        assert sub.location is not None
        assert sub.location.lat is not None
        assert sub.location.lon is not None
        # by boundary: the regency whose polygon holds the point (or the nearest within a few
        # km, for a coast or the approximate polygons); never the nearest seat
        found = geo.locate(sub.location.lat, sub.location.lon)
        if isinstance(found, geo.Unserved) or found.code not in self.regions:
            served = ", ".join(r.name for r in self.regions.values() if r.kind == "province")
            return None, [
                field_error(
                    "location",
                    "location_unserved",
                    lat=sub.location.lat,
                    lon=sub.location.lon,
                    served=served,
                )
            ]
        return found.code, []

    def check(self, sub: SubmissionCore) -> tuple[str | None, list[FieldError]]:
        region, errors = self.locate(sub)
        if sub.category not in self.categories:
            errors = [field_error("category", "unknown_category", value=sub.category), *errors]
        return region, errors


@dataclass(frozen=True, slots=True)
class Accepted:
    """Everything one accepted complaint writes, decided before any I/O."""

    tracking_id: str
    tenant: str
    complaint: dict[str, Any]
    identity: dict[str, Any] | None
    submitted: ComplaintSubmitted
    contact: ReporterContact | None
    external_key: tuple[str, str] | None


def accept(
    sub: SubmissionCore,
    *,
    channel: Channel,
    now: datetime,
    tracking_id: str,
    region_code: str,
    attachments: Sequence[Attachment] = (),
    public_replies: bool = False,
    fingerprint: list[str] | None = None,
    repeat: Match | None = None,
    channel_id: str | None = None,
    external_id: str | None = None,
    entered_by: str | None = None,
    suggested: Suggested | None = None,
) -> Accepted:
    """Build the complaint record, the separately stored identity and the events.

    The ``complaint.submitted`` event never carries identity; the contact event goes to the
    topic only notify reads. ``attachments`` are already resolved (an upload's handle, or a
    registered channel's link): nothing a client names is stored as a reference.
    """
    tenant = province_of(region_code)
    reporter = sub.reporter
    # the suggester's first category: flagged for the verifier when sure and not the chosen
    # one; kept with the report either way (how often it agrees with the final category)
    flagged = (
        suggested
        if suggested and suggested.code != sub.category and suggested.score >= FLAG_SCORE
        else None
    )
    has_contact = reporter is not None and bool(reporter.email or reporter.phone)
    data = SubmittedData(
        tracking_id=tracking_id,
        type=sub.type,
        title=sub.title,
        description=sub.description,
        category=sub.category,
        region_code=region_code,
        province_code=tenant,
        channel=channel,
        channel_id=channel_id,
        anonymous=sub.anonymous,
        confidential=sub.confidential,
        reporter_contactable=has_contact,
        location=sub.location,
        attachments=list(attachments),
        entered_by=entered_by,
        repeat_of=repeat.tracking_id if repeat else None,
        repeat_score=repeat.score if repeat else None,
        suggested_category=flagged.code if flagged else None,
        suggested_score=flagged.score if flagged else None,
        submitted_at=now,
    )
    submitted = ComplaintSubmitted(
        source=SOURCE,
        tenant=tenant,
        subject=tracking_id,
        correlation_id=tracking_id,
        time=now,
        data=data,
    )
    complaint = {
        "_id": tracking_id,
        "tenant": tenant,
        **data.model_dump(mode="python", exclude={"tracking_id"}),
        "external_id": external_id,
        "fp": fingerprint or [],
        "status": "submitted",
        "verified": False,  # nothing is public before a person or the rules verified it
        "public_replies": public_replies,
        "agency": None,
        "updated_at": now,
        "history": [_history_entry(submitted.id, submitted.type, "submitted", now)],
        "suggestion": suggested.code if suggested else None,
        "suggestion_model": suggested.model if suggested else None,
    }
    identity = None
    contact = None
    if reporter is not None and (reporter.name or has_contact):
        identity = {
            "_id": tracking_id,
            "tenant": tenant,
            "name": reporter.name,
            "email": reporter.email,
            "phone": reporter.phone,
            "anonymous": sub.anonymous,
        }
    if reporter is not None and has_contact:
        contact = ReporterContact(
            source=SOURCE,
            tenant=tenant,
            subject=tracking_id,
            correlation_id=tracking_id,
            time=now,
            data=ContactData(
                tracking_id=tracking_id,
                anonymous=sub.anonymous,
                name=None if sub.anonymous else reporter.name,
                email=reporter.email,
                phone=reporter.phone,
                language=reporter.language,
                channels=list(reporter.notify_via or ()),
            ),
        )
    key = (channel_id, external_id) if channel_id and external_id else None
    return Accepted(tracking_id, tenant, complaint, identity, submitted, contact, key)


def _history_entry(
    event_id: str, event_type: str, status: str, at: datetime, **extra: Any
) -> dict[str, Any]:
    return {"event_id": event_id, "type": event_type, "status": status, "at": at, **extra}


PRIVATE_FIELDS = (
    "fp",
    "external_id",
    "entered_by",
    "channel_id",
    "channel_key",
    "request_sha256",
)
MODERATION_FIELDS = ("hidden", "public_redactions")
PUBLIC_DECIMALS = 3  # a public report's spot, rounded
REDACTED = "[disamarkan]"


def attachment_view(attachment: Mapping[str, Any]) -> dict[str, Any]:
    """An attachment as any answer shows it: its name, type and size. Never where it is
    stored (a reference would let a client fetch it around its report)."""
    return {k: attachment.get(k) for k in ("name", "content_type", "size")}


def report_view(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The whole report for its reporter and for staff: no identity (never stored here), no
    internal bookkeeping, no storage references."""
    view = {k: v for k, v in doc.items() if k not in PRIVATE_FIELDS}
    view["attachments"] = [attachment_view(a) for a in doc.get("attachments") or []]
    return view


def reporters_words(entry: Mapping[str, Any]) -> bool:
    """Whether a history entry's text is the reporter's own (older entries carry no actor:
    their type or close reason tells)."""
    return (
        (entry.get("actor") or {}).get("kind") == "reporter"
        or str(entry.get("type")) in words.REPORTER_EVENTS
        or entry.get("type") == "case.rated"
        or entry.get("reason") in ("reporter_replied", "reporter_accepted")
    )


def public_view(doc: Mapping[str, Any]) -> dict[str, Any]:
    """What anyone may see of a public report: the report, its status and the agencies'
    answers. The reporter's own words after filing (messages, dispute, the rating's comment)
    only if the reporter chose so; a passage a coordinator redacted is replaced."""
    view = {k: v for k, v in report_view(doc).items() if k not in MODERATION_FIELDS}
    passages = [p for p in doc.get("public_redactions") or () if p]

    def redact(text: Any) -> Any:
        if not isinstance(text, str):
            return text
        for passage in passages:
            text = text.replace(passage, REDACTED)
        return text

    own_words = bool(doc.get("public_replies"))
    history = []
    for entry in doc.get("history") or ():
        item = dict(entry)
        if not own_words and reporters_words(item):
            item.pop("text", None)
        for key in ("text", "reason"):
            if key in item:
                item[key] = redact(item[key])
        history.append(item)
    view["history"] = history
    view["title"] = redact(view.get("title"))
    view["description"] = redact(view.get("description"))
    spot = view.get("location")
    if isinstance(spot, Mapping) and spot.get("lat") is not None and spot.get("lon") is not None:
        # to about 100 m: enough for a map of what is reported where, not a doorstep
        view["location"] = {
            **spot,
            "lat": round(float(spot["lat"]), PUBLIC_DECIMALS),
            "lon": round(float(spot["lon"]), PUBLIC_DECIMALS),
        }
    return view
