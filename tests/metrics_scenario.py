"""A known set of cases in Kalimantan Selatan (March 2025, WITA = UTC+8), their events, and
every indicator they must produce at ``NOW``. Used by the unit and integration tiers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from lapor_schemas import (
    Actor,
    AgencyRef,
    CaseClosed,
    CaseDeclined,
    CaseDispatched,
    CaseEscalated,
    CaseFollowedUp,
    CaseMarkedRepeat,
    CaseRated,
    CaseVerified,
    DispatchedData,
    EscalationData,
    MarkedRepeatData,
    NotificationData,
    NotificationEvent,
    RatingData,
    TransitionData,
)
from lapor_schemas.envelope import Envelope
from tests.factories import submitted

# Monday 17 March 2025, 17:00 WITA
NOW = datetime(2025, 3, 17, 9, 0, tzinfo=UTC)
STAFF = Actor(kind="staff", id="petugas", role="province_coordinator")


def utc(day: int, hour: int) -> datetime:
    return datetime(2025, 3, day, hour, 0, tzinfo=UTC)


def agency(agency_id: str) -> AgencyRef:
    region = agency_id.rsplit(".", 1)[0]
    return AgencyRef(id=agency_id, name=agency_id, region_code=region)


def step(cls: type[Envelope], tid: str, at: datetime, status: str, **data: Any) -> Any:
    data_cls = {
        CaseEscalated: EscalationData,
        CaseMarkedRepeat: MarkedRepeatData,
        CaseRated: RatingData,
    }.get(cls, TransitionData)
    return cls(
        source="lapor-routing",
        tenant="63",
        subject=tid,
        correlation_id=tid,
        time=at,
        data=data_cls(tracking_id=tid, status=status, at=at, actor=STAFF, **data),
    )


def dispatch(tid: str, agency_id: str, at: datetime, due: datetime, **extra: Any) -> Any:
    return CaseDispatched(
        source="lapor-routing",
        tenant="63",
        subject=tid,
        correlation_id=tid,
        time=at,
        data=DispatchedData(
            tracking_id=tid,
            agency=agency(agency_id),
            rule="region-category",
            category="infrastruktur",
            region_code=agency_id.rsplit(".", 1)[0],
            dispatched_at=at,
            due_at=due,
            **extra,
        ),
    )


def events(prefix: str = "LPR-SCN") -> tuple[list[Any], dict[str, str]]:
    """The scenario's events in log order (per case), and its tracking ids by letter."""
    ids = {k: f"{prefix}{k}{'0' * (14 - len(prefix) - 1)}" for k in "ABCDEF"}
    a, b, c, d, e, f = (ids[k] for k in "ABCDEF")
    due = utc(24, 15)  # far enough for every dispatch here
    out: list[Any] = [
        # A: Banjarmasin, verified in 1 h, followed up 1 working day after dispatch, rated 5
        submitted(a, time=utc(10, 1), category="infrastruktur"),
        step(CaseVerified, a, utc(10, 2), "verified"),
        dispatch(a, "63.71.pupr", utc(10, 2), due),
        step(CaseFollowedUp, a, utc(11, 2), "followed_up", text="Sudah ditambal."),
        step(CaseClosed, a, utc(12, 2), "closed", reason="answered"),
        step(CaseRated, a, utc(12, 3), "rated", score=5),
        # B: Banjarmasin by SMS, verified late (day 4), declined, re-routed to the province
        submitted(b, time=utc(10, 1), category="kesehatan", channel="sms"),
        step(CaseVerified, b, utc(14, 1), "verified"),
        dispatch(b, "63.71.dinkes", utc(14, 1), due),
        step(CaseDeclined, b, utc(14, 2), "verified", agency=agency("63.71.dinkes")),
        dispatch(b, "63.dinkes", utc(14, 3), due, transfers=1, previous_agency_id="63.71.dinkes"),
        step(CaseFollowedUp, b, utc(17, 3), "followed_up", text="Ditangani."),
        # C: Banjarbaru, waiting for verification, not yet due
        submitted(c, region="63.72", time=utc(12, 1), category="persampahan"),
        # D: Banjarbaru, never verified, overdue
        submitted(d, region="63.72", time=utc(6, 1), category="persampahan"),
        # E: Banjarmasin, a repeat of A, linked within 2 h (A's agency)
        submitted(e, time=utc(11, 1), category="infrastruktur", repeat_of=a),
        step(
            CaseMarkedRepeat,
            e,
            utc(11, 3),
            "marked_repeat",
            repeat_of=a,
            agency=agency("63.71.pupr"),
        ),
        # F: Tanah Laut, dispatched, escalated once, not yet followed up (not yet due)
        submitted(f, region="63.01", time=utc(14, 1), category="infrastruktur"),
        step(CaseVerified, f, utc(14, 2), "verified"),
        dispatch(f, "63.01.pupr", utc(14, 2), due),
        step(
            CaseEscalated,
            f,
            utc(17, 2),
            "dispatched",
            level=1,
            stage="follow_up",
            to=agency("63.01.kominfo"),
        ),
    ]
    return out, ids


def notification(tid: str) -> NotificationEvent:
    return NotificationEvent(
        source="lapor-notify",
        tenant="63",
        subject=tid,
        correlation_id=tid,
        time=NOW - timedelta(hours=1),
        data=NotificationData(
            notification_id=f"x:{tid}:reporter:email",
            tracking_id=tid,
            cause_event_id="x",
            cause_event_type="complaint.submitted",
            channel="email",
            recipient_role="reporter",
            status="sent",
            at=NOW - timedelta(hours=1),
        ),
    )


H = 3600.0
D = 86400.0
EXPECTED: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {
    (m, tuple(sorted(labels.items()))): v
    for m, labels, v in [
        (
            "lapor_complaints_received_total",
            {"province": "63", "regency": "63.71", "channel": "web", "type": "pengaduan"},
            2,
        ),
        (
            "lapor_complaints_received_total",
            {"province": "63", "regency": "63.71", "channel": "sms", "type": "pengaduan"},
            1,
        ),
        (
            "lapor_complaints_received_total",
            {"province": "63", "regency": "63.72", "channel": "web", "type": "pengaduan"},
            2,
        ),
        (
            "lapor_complaints_received_total",
            {"province": "63", "regency": "63.01", "channel": "web", "type": "pengaduan"},
            1,
        ),
        ("lapor_complaints_verified_total", {"province": "63", "regency": "63.71"}, 2),
        ("lapor_complaints_verified_total", {"province": "63", "regency": "63.01"}, 1),
        (
            "lapor_complaints_screened_total",
            {"province": "63", "regency": "63.71", "outcome": "verified", "within_sla": "true"},
            1,
        ),
        (
            "lapor_complaints_screened_total",
            {"province": "63", "regency": "63.71", "outcome": "verified", "within_sla": "false"},
            1,
        ),
        (
            "lapor_complaints_screened_total",
            {"province": "63", "regency": "63.71", "outcome": "repeat", "within_sla": "true"},
            1,
        ),
        (
            "lapor_complaints_screened_total",
            {"province": "63", "regency": "63.01", "outcome": "verified", "within_sla": "true"},
            1,
        ),
        ("lapor_dispatches_total", {"province": "63", "agency": "63.71.pupr"}, 1),
        ("lapor_dispatches_total", {"province": "63", "agency": "63.71.dinkes"}, 1),
        ("lapor_dispatches_total", {"province": "63", "agency": "63.dinkes"}, 1),
        ("lapor_dispatches_total", {"province": "63", "agency": "63.01.pupr"}, 1),
        ("lapor_transfers_total", {"province": "63", "agency": "63.71.dinkes"}, 1),
        (
            "lapor_complaints_followed_up_total",
            {"province": "63", "regency": "63.71", "agency": "63.71.pupr", "within_sla": "true"},
            1,
        ),
        (
            "lapor_complaints_followed_up_total",
            {"province": "63", "regency": "63.71", "agency": "63.dinkes", "within_sla": "true"},
            1,
        ),
        (
            "lapor_complaints_closed_total",
            {"province": "63", "regency": "63.71", "reason": "answered"},
            1,
        ),
        (
            "lapor_complaints_closed_total",
            {"province": "63", "regency": "63.71", "reason": "repeat"},
            1,
        ),
        (
            "lapor_repeat_reports_total",
            {"province": "63", "regency": "63.71", "category": "infrastruktur"},
            1,
        ),
        ("lapor_repeat_reports_by_agency_total", {"province": "63", "agency": "63.71.pupr"}, 1),
        ("lapor_escalations_total", {"province": "63", "level": "1", "stage": "follow_up"}, 1),
        ("lapor_ratings_total", {"province": "63", "agency": "63.71.pupr", "score": "5"}, 1),
        ("lapor_rating_points_total", {"province": "63", "agency": "63.71.pupr"}, 5),
        (
            "lapor_notifications_total",
            {"province": "63", "channel": "email", "recipient_role": "reporter", "status": "sent"},
            1,
        ),
        # time to verify: A 1 h, B 4 days, E 2 h (Banjarmasin); F 1 h (Tanah Laut)
        ("lapor_time_to_verify_seconds_count", {"province": "63", "regency": "63.71"}, 3),
        (
            "lapor_time_to_verify_seconds_sum",
            {"province": "63", "regency": "63.71"},
            H + 4 * D + 2 * H,
        ),
        (
            "lapor_time_to_verify_seconds_bucket",
            {"province": "63", "regency": "63.71", "le": "3600.0"},
            1,
        ),
        (
            "lapor_time_to_verify_seconds_bucket",
            {"province": "63", "regency": "63.71", "le": "14400.0"},
            2,
        ),
        (
            "lapor_time_to_verify_seconds_bucket",
            {"province": "63", "regency": "63.71", "le": "259200.0"},
            2,
        ),
        (
            "lapor_time_to_verify_seconds_bucket",
            {"province": "63", "regency": "63.71", "le": "432000.0"},
            3,
        ),
        (
            "lapor_time_to_verify_seconds_bucket",
            {"province": "63", "regency": "63.71", "le": "+Inf"},
            3,
        ),
        ("lapor_time_to_verify_seconds_count", {"province": "63", "regency": "63.01"}, 1),
        # time to follow up: A 1 day (regency level); B Friday 11:00 to Monday 11:00 WITA
        ("lapor_time_to_follow_up_seconds_sum", {"province": "63", "level": "regency"}, D),
        ("lapor_time_to_follow_up_seconds_sum", {"province": "63", "level": "province"}, 3 * D),
        (
            "lapor_time_to_follow_up_seconds_bucket",
            {"province": "63", "level": "province", "le": "259200.0"},
            1,
        ),
        (
            "lapor_time_to_follow_up_seconds_bucket",
            {"province": "63", "level": "province", "le": "172800.0"},
            0,
        ),
        # right now: B awaits the reporter, C and D wait for verification (D overdue), F for
        # the agency
        ("lapor_open_cases", {"province": "63", "regency": "63.71", "stage": "reply"}, 1),
        ("lapor_open_cases", {"province": "63", "regency": "63.72", "stage": "verify"}, 2),
        ("lapor_overdue_cases", {"province": "63", "regency": "63.72", "stage": "verify"}, 1),
        ("lapor_open_cases", {"province": "63", "regency": "63.01", "stage": "follow_up"}, 1),
        ("lapor_overdue_cases", {"province": "63", "regency": "63.01", "stage": "follow_up"}, 0),
        ("lapor_region_complaints_365d", {"province": "63", "regency": "63.71"}, 3),
        ("lapor_region_complaints_365d", {"province": "63", "regency": "63.72"}, 2),
        ("lapor_region_complaints_365d", {"province": "63", "regency": "63.05"}, 0),
    ]
}

# The ranking for March 2025: Banjarmasin first (3 complaints, 1.0 working day follow-up).
RANKING_TOP = [
    {
        "rank": 1,
        "region_code": "63.71",
        "complaints": 3,
        "followed_up": 2,
        "avg_follow_up_working_days": 1.0,
        "verified_within_3_working_days_share": 0.6667,  # A and E in time, B late
        "followed_up_within_5_working_days_share": 1.0,
        "open": 1,
        "overdue": 0,
    },
    {
        "rank": 2,
        "region_code": "63.72",
        "complaints": 2,
        "followed_up": 0,
        "avg_follow_up_working_days": None,
        "verified_within_3_working_days_share": 0.0,  # D overdue counts; C not due yet
        "followed_up_within_5_working_days_share": None,
        "open": 2,
        "overdue": 1,
    },
    {
        "rank": 3,
        "region_code": "63.01",
        "complaints": 1,
        "followed_up": 0,
        "avg_follow_up_working_days": None,
        "verified_within_3_working_days_share": 1.0,
        "followed_up_within_5_working_days_share": None,
        "open": 1,
        "overdue": 0,
    },
]
SPEED = [
    {
        "level": "province",
        "dispatched": 1,
        "followed_up": 1,
        "avg_follow_up_working_days": 1.0,
        "followed_up_within_5_working_days_share": 1.0,
    },
    {
        "level": "regency",
        "dispatched": 2,
        "followed_up": 1,
        "avg_follow_up_working_days": 1.0,
        "followed_up_within_5_working_days_share": 1.0,
    },
]
