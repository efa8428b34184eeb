"""Accepting a submission: reference checks, the tracking id, and what gets recorded."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lapor_schemas import (
    Channel,
    ComplaintSubmission,
    ComplaintSubmitted,
    ContactData,
    FieldError,
    ReporterContact,
    SubmittedData,
)
from lapor_schemas.reference import Category, Region, province_of

from .errors import field_error

SOURCE = "lapor-intake"
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U


def new_tracking_id(randbelow: Callable[[int], int] = secrets.randbelow) -> str:
    return "LPR-" + "".join(_ALPHABET[randbelow(32)] for _ in range(10))


@dataclass(frozen=True, slots=True)
class Catalogue:
    categories: Mapping[str, Category]
    regions: Mapping[str, Region]

    def check(self, sub: ComplaintSubmission) -> list[FieldError]:
        errors = []
        if sub.category not in self.categories:
            errors.append(field_error("category", "unknown_category", value=sub.category))
        if sub.region_code not in self.regions:
            errors.append(field_error("region_code", "unknown_region", value=sub.region_code))
        return errors


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
    sub: ComplaintSubmission,
    *,
    channel: Channel,
    now: datetime,
    tracking_id: str,
    channel_id: str | None = None,
    external_id: str | None = None,
    entered_by: str | None = None,
) -> Accepted:
    """Build the complaint record, the separately stored identity and the events.

    The ``complaint.submitted`` event never carries identity; the contact event goes to the
    topic only notify reads.
    """
    tenant = province_of(sub.region_code)
    reporter = sub.reporter
    has_contact = reporter is not None and bool(reporter.email or reporter.phone)
    data = SubmittedData(
        tracking_id=tracking_id,
        type=sub.type,
        title=sub.title,
        description=sub.description,
        category=sub.category,
        region_code=sub.region_code,
        province_code=tenant,
        channel=channel,
        channel_id=channel_id,
        anonymous=sub.anonymous,
        confidential=sub.confidential,
        reporter_contactable=has_contact,
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
        "entered_by": entered_by,
        "status": "submitted",
        "agency": None,
        "history": [_history_entry(submitted.id, submitted.type, "submitted", now)],
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
            ),
        )
    key = (channel_id, external_id) if channel_id and external_id else None
    return Accepted(tracking_id, tenant, complaint, identity, submitted, contact, key)


def _history_entry(
    event_id: str, event_type: str, status: str, at: datetime, **extra: Any
) -> dict[str, Any]:
    return {"event_id": event_id, "type": event_type, "status": status, "at": at, **extra}
