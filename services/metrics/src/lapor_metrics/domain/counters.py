"""Events -> a per-case projection and durable counters and histograms. Pure: no I/O.

Every label value comes from a bounded set (directory and reference ids, enums): never a
tracking id or free text. Times are measured between event times, so replaying the log gives
the same numbers as processing it live.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from lapor_schemas import (
    CaseClosed,
    CaseDeclined,
    CaseDispatched,
    CaseEscalated,
    CaseFollowedUp,
    CaseMarkedRepeat,
    CaseRated,
    CaseRecategorised,
    CaseRejected,
    CaseVerified,
    ComplaintSubmitted,
    NotificationEvent,
    status_after,
)
from lapor_schemas import status as case_status
from lapor_schemas.calendar import province_calendar

VERIFY_DAYS = 3  # the national rule (a province may be stricter in routing; reports use this)
FOLLOW_UP_DAYS = 5

COUNTERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "lapor_complaints_received": (
        "Reports received, by province, regency/city, channel and report type.",
        ("province", "regency", "channel", "type"),
    ),
    "lapor_complaints_verified": (
        "Reports verified (accepted for dispatch).",
        ("province", "regency"),
    ),
    "lapor_complaints_screened": (
        "Reports through verification (verified, rejected or linked as a repeat), by whether "
        "it took at most 3 working days.",
        ("province", "regency", "outcome", "within_sla"),
    ),
    "lapor_dispatches": (
        "Cases dispatched to an agency (including re-dispatches).",
        ("province", "agency"),
    ),
    "lapor_complaints_followed_up": (
        "Cases followed up for the first time, by agency and whether it took at most the "
        "follow-up deadline (5 working days).",
        ("province", "regency", "agency", "within_sla"),
    ),
    "lapor_complaints_closed": (
        "Cases closed, by reason (answered, no_reply, no_info, rejected, repeat, ...).",
        ("province", "regency", "reason"),
    ),
    "lapor_repeat_reports": (
        "Reports linked as a repeat of an open report with the same substance.",
        ("province", "regency", "category"),
    ),
    "lapor_repeat_reports_by_agency": (
        "Repeat reports against the agency handling the same substance.",
        ("province", "agency"),
    ),
    "lapor_transfers": (
        "Declines (bukan wewenang): the agency said the case was not its own.",
        ("province", "agency"),
    ),
    "lapor_escalations": (
        "Escalations by level (1 coordinator, 2 province, 3 Ombudsman) and stage.",
        ("province", "level", "stage"),
    ),
    "lapor_ratings": (
        "Reporters' satisfaction ratings (1-5) by agency.",
        ("province", "agency", "score"),
    ),
    "lapor_rating_points": (
        "Sum of the ratings given (divide by lapor_ratings_total for the average).",
        ("province", "agency"),
    ),
    "lapor_notifications": (
        "Notification outcomes by channel, recipient role and status.",
        ("province", "channel", "recipient_role", "status"),
    ),
}

DAY = 86400.0
BUCKETS: tuple[float, ...] = (
    3600.0,
    4 * 3600.0,
    8 * 3600.0,
    DAY,
    2 * DAY,
    3 * DAY,
    5 * DAY,
    7 * DAY,
    14 * DAY,
    30 * DAY,
)
HISTOGRAMS: dict[str, tuple[str, tuple[str, ...]]] = {
    "lapor_time_to_verify_seconds": (
        "Time from submission to the verification decision (wall-clock seconds).",
        ("province", "regency"),
    ),
    "lapor_time_to_follow_up_seconds": (
        "Time from dispatch to the agency's first follow-up (wall-clock seconds).",
        ("province", "level"),
    ),
}
OPEN_STATUSES = case_status.OPEN
STAGE_OF = case_status.STAGE_OF  # whose turn it is (as routing's lifecycle has it)


@dataclass(frozen=True, slots=True)
class Increment:
    """``amount`` added to ``field`` of the series' stored document (``value`` for a counter;
    a histogram keeps its buckets, sum and count as fields of one document, so one
    observation is one store update, not one per bucket)."""

    metric: str
    labels: tuple[tuple[str, str], ...]
    amount: float = 1.0
    field: str = "value"

    @property
    def key(self) -> str:
        return f"{self.metric}|{json.dumps(dict(self.labels), sort_keys=True)}"


def _inc(metric: str, **labels: Any) -> Increment:
    names = COUNTERS[metric][1]
    assert set(labels) == set(names), (metric, labels)
    return Increment(metric, tuple((n, str(labels[n])) for n in names))


def observe(metric: str, value: float, **labels: str) -> list[Increment]:
    """A histogram observation as increments of its cumulative buckets, sum and count: fields
    of the series' one document."""
    names = HISTOGRAMS[metric][1]
    assert set(labels) == set(names), (metric, labels)
    base = tuple((n, labels[n]) for n in names)
    out = [Increment(metric, base, 1.0, _bucket_field(b)) for b in BUCKETS if value <= b]
    out.append(Increment(metric, base, 1.0, _bucket_field(None)))
    out.append(Increment(metric, base, value, "sum"))
    out.append(Increment(metric, base, 1.0, "count"))
    return out


def _le(bound: float) -> str:
    return repr(float(bound))


def _bucket_field(bound: float | None) -> str:
    return "le_inf" if bound is None else f"le_{int(bound)}"


def agency_level(agency_id: str | None) -> str:
    """'63.71.pupr' -> regency, '63.pupr' -> province, '00.ombudsman' -> national."""
    if not agency_id:
        return "none"
    if agency_id.startswith("00."):
        return "national"
    return "regency" if agency_id.count(".") >= 2 else "province"


def verify_due(submitted_at: datetime, province: str) -> datetime:
    return province_calendar(province).add_working_days(submitted_at, VERIFY_DAYS)


def fold(doc: dict[str, Any] | None, event: Any) -> tuple[dict[str, Any] | None, list[Increment]]:
    """Apply one event to the case's projection; returns the new projection (``None`` when
    the event does not concern a case) and the counter increments it causes."""
    if isinstance(event, NotificationEvent):
        n = event.data
        return doc, [
            _inc(
                "lapor_notifications",
                province=event.tenant,
                channel=n.channel,
                recipient_role=n.recipient_role,
                status=n.status,
            )
        ]
    if isinstance(event, ComplaintSubmitted):
        s = event.data
        new = {
            "_id": s.tracking_id,
            "province": s.province_code,
            "regency": s.region_code,
            "category": s.category,
            "channel": s.channel.value,
            "type": s.type.value,
            "submitted_at": s.submitted_at,
            "verify_due": verify_due(s.submitted_at, s.province_code),
            "repeat_of": s.repeat_of,
            "status": "submitted",
            "screened_at": None,
            "screen_outcome": None,
            "dispatched_at": None,
            "last_dispatched_at": None,
            "agency_id": None,
            "follow_up_due": None,
            "followed_up_at": None,
            "followed_up_by": None,
            "closed_at": None,
            "close_reason": None,
            "transfers": 0,
            "escalation_level": 0,
            "rating": None,
            "repeat_agency_counted": False,
        }
        received = [
            _inc(
                "lapor_complaints_received",
                province=s.province_code,
                regency=s.region_code,
                channel=s.channel.value,
                type=s.type.value,
            )
        ]
        if s.repeat_of is not None:
            received.append(
                _inc(
                    "lapor_repeat_reports",
                    province=s.province_code,
                    regency=s.region_code,
                    category=s.category,
                )
            )
        return new, received
    if doc is None:
        return None, []  # an event of a case whose submission this store never saw
    doc = dict(doc)
    province, regency = doc["province"], doc["regency"]
    at: datetime = getattr(event.data, "at", None) or event.time
    status = status_after(event)
    if status:
        doc["status"] = status
    incs: list[Increment] = []

    def screened(outcome: str) -> None:
        if doc["screened_at"] is not None:
            return
        doc["screened_at"], doc["screen_outcome"] = at, outcome
        within = at <= doc["verify_due"]
        incs.append(
            _inc(
                "lapor_complaints_screened",
                province=province,
                regency=regency,
                outcome=outcome,
                within_sla=str(within).lower(),
            )
        )
        incs.extend(
            observe(
                "lapor_time_to_verify_seconds",
                (at - doc["submitted_at"]).total_seconds(),
                province=province,
                regency=regency,
            )
        )

    def closed(reason: str) -> None:
        if doc["closed_at"] is None:
            doc["closed_at"], doc["close_reason"] = at, reason
            incs.append(
                _inc("lapor_complaints_closed", province=province, regency=regency, reason=reason)
            )

    if isinstance(event, CaseRecategorised):
        doc["category"] = event.data.category  # hotspots count the corrected category
    elif isinstance(event, CaseVerified):
        screened("verified")
        incs.append(_inc("lapor_complaints_verified", province=province, regency=regency))
    elif isinstance(event, CaseDispatched):
        d = event.data
        at = d.dispatched_at
        doc["dispatched_at"] = doc["dispatched_at"] or at
        doc["last_dispatched_at"] = at
        doc["agency_id"] = d.agency.id
        doc["follow_up_due"] = d.due_at
        incs.append(_inc("lapor_dispatches", province=province, agency=d.agency.id))
        if doc.get("repeat_of") and not doc["repeat_agency_counted"]:
            doc["repeat_agency_counted"] = True
            incs.append(
                _inc("lapor_repeat_reports_by_agency", province=province, agency=d.agency.id)
            )
    elif isinstance(event, CaseDeclined):
        agency = event.data.agency.id if event.data.agency else doc["agency_id"]
        doc["transfers"] += 1
        if agency:
            incs.append(_inc("lapor_transfers", province=province, agency=agency))
    elif isinstance(event, CaseFollowedUp):
        if doc["followed_up_at"] is None and doc["last_dispatched_at"] is not None:
            agency = doc["agency_id"] or "none"
            doc["followed_up_at"], doc["followed_up_by"] = at, agency
            due = doc["follow_up_due"]
            within = due is None or at <= due
            incs.append(
                _inc(
                    "lapor_complaints_followed_up",
                    province=province,
                    regency=regency,
                    agency=agency,
                    within_sla=str(within).lower(),
                )
            )
            incs.extend(
                observe(
                    "lapor_time_to_follow_up_seconds",
                    (at - doc["last_dispatched_at"]).total_seconds(),
                    province=province,
                    level=agency_level(agency),
                )
            )
    elif isinstance(event, CaseRejected):
        screened("rejected")
        closed("rejected")
    elif isinstance(event, CaseMarkedRepeat):
        screened("repeat")
        closed("repeat")
        agency = event.data.agency.id if event.data.agency else None
        if agency and not doc["repeat_agency_counted"]:
            doc["repeat_agency_counted"] = True
            incs.append(_inc("lapor_repeat_reports_by_agency", province=province, agency=agency))
    elif isinstance(event, CaseEscalated):
        doc["escalation_level"] = max(doc["escalation_level"], event.data.level)
        incs.append(
            _inc(
                "lapor_escalations",
                province=province,
                level=event.data.level,
                stage=event.data.stage,
            )
        )
    elif isinstance(event, CaseClosed):
        closed(event.data.reason or "closed")
    elif isinstance(event, CaseRated):
        doc["rating"] = event.data.score
        rated = doc["agency_id"] or "none"
        incs.append(_inc("lapor_ratings", province=province, agency=rated, score=event.data.score))
        rating_points = _inc("lapor_rating_points", province=province, agency=rated)
        incs.append(Increment(rating_points.metric, rating_points.labels, float(event.data.score)))
    return doc, incs


@dataclass(frozen=True, slots=True)
class Bump:
    """Everything a batch adds to one stored series: one store update."""

    key: str
    metric: str
    labels: tuple[tuple[str, str], ...]
    fields: dict[str, float]


def merge(incs: Sequence[Increment]) -> dict[str, Bump]:
    """Sum increments by series (one store update per series per batch)."""
    out: dict[str, Bump] = {}
    for inc in incs:
        bump = out.get(inc.key)
        if bump is None:
            bump = out[inc.key] = Bump(inc.key, inc.metric, inc.labels, {})
        bump.fields[inc.field] = bump.fields.get(inc.field, 0.0) + inc.amount
    return out


@cache
def zero_series() -> tuple[tuple[str, tuple[tuple[str, str], ...]], ...]:
    """Every counter series whose labels the reference data knows (provinces, regencies,
    categories, channels, report types, outcomes), to be reported at 0 until it moves: a
    series that appears at its first event starts at 1, and ``increase()`` never sees that
    first one (the first repeat, the first escalation of a province). Series labelled with
    an agency appear with their first event (the directory changes at run time)."""
    from lapor_schemas import Channel
    from lapor_schemas.intake import ReportType
    from lapor_schemas.reference import categories, regions

    places = [(r.province_code, r.code) for r in regions().values() if r.kind != "province"]
    provinces = sorted({p for p, _ in places})
    out: list[tuple[str, dict[str, str]]] = []
    for province, regency in places:
        here = {"province": province, "regency": regency}
        out += [
            ("lapor_complaints_received", {**here, "channel": c.value, "type": t.value})
            for c in Channel
            for t in ReportType
        ]
        out.append(("lapor_complaints_verified", here))
        out += [
            ("lapor_complaints_screened", {**here, "outcome": o, "within_sla": w})
            for o in ("verified", "rejected", "repeat")
            for w in ("true", "false")
        ]
        out += [("lapor_repeat_reports", {**here, "category": c}) for c in categories()]
        out += [
            ("lapor_complaints_closed", {**here, "reason": r})
            for r in ("rejected", "repeat", "reporter_replied", "reporter_accepted", "no_reply")
        ]
    for province in provinces:
        out += [
            ("lapor_escalations", {"province": province, "level": str(lv), "stage": st})
            for lv in (1, 2, 3)
            for st in ("verify", "follow_up")
        ]
        out += [
            (
                "lapor_notifications",
                {"province": province, "channel": ch, "recipient_role": role, "status": st},
            )
            for ch in ("email", "sms", "whatsapp", "webhook", "inbox")
            for role in ("reporter", "agency", "supporter")
            for st in ("sent", "delivered", "retrying", "failed", "dead_lettered")
        ]
    return tuple((name, tuple(sorted(labels.items()))) for name, labels in out)


def samples(
    docs: Sequence[Mapping[str, Any]], *, zeros: bool = True
) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Stored series grouped by sample name (a histogram's document gives its ``_bucket``,
    ``_sum`` and ``_count`` samples; documents of the older one-bucket-each shape still
    count, and equal series are added up); with ``zeros``, the known series that have not
    moved yet at 0 (:func:`zero_series`)."""
    totals: dict[tuple[str, tuple[tuple[str, str], ...]], float] = (
        dict.fromkeys(zero_series(), 0.0) if zeros else {}
    )

    def add(name: str, labels: dict[str, str], value: float) -> None:
        key = (name, tuple(sorted(labels.items())))
        totals[key] = totals.get(key, 0.0) + value

    for doc in docs:
        labels = dict(doc["labels"])
        if doc["metric"] in HISTOGRAMS:
            for bound in (*BUCKETS, None):
                le = "+Inf" if bound is None else _le(bound)
                add(
                    f"{doc['metric']}_bucket",
                    {**labels, "le": le},
                    doc.get(_bucket_field(bound), 0),
                )
            add(f"{doc['metric']}_sum", labels, float(doc.get("sum", 0.0)))
            add(f"{doc['metric']}_count", labels, float(doc.get("count", 0.0)))
        else:
            add(doc["metric"], labels, float(doc.get("value", 0.0)))
    by_metric: dict[str, list[tuple[dict[str, str], float]]] = {}
    for (name, labels_items), value in totals.items():
        by_metric.setdefault(name, []).append((dict(labels_items), value))
    return by_metric
