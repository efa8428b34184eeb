"""The case state machine: every legal transition, several illegal ones, re-routing with
history, the transfer limit, deadlines, reminders and escalation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import pytest

from lapor_kit.auth import Principal
from lapor_routing.domain.access import can_act, can_assign, can_read
from lapor_routing.domain.directory import (
    DirectoryFile,
    TenantPolicy,
    directory_from,
    load_seed_files,
)
from lapor_routing.domain.inbox import Scope, scope_of, words_of
from lapor_routing.domain.lifecycle import (
    SYSTEM,
    Effects,
    IllegalTransitionError,
    Lifecycle,
    UnknownAgencyError,
)
from lapor_schemas import (
    AcceptData,
    Actor,
    ReporterAccepted,
    ReporterDisputed,
    ReporterMessaged,
    ReporterRated,
    ReporterReplied,
)
from lapor_schemas.calendar import Calendar
from lapor_schemas.events import ReplyData, ReporterRatingData
from tests import factories

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # Monday 09:00 WITA
ADMIN = Actor(kind="staff", id="admin-63", role="province_coordinator")
STAFF = Actor(kind="staff", id="staf-pupr", role="agency_staff", agency_id="63.71.pupr")


def machine(**policy: Any) -> Lifecycle:
    files = load_seed_files()
    if policy:
        files = [
            f.model_copy(update={"policy": f.policy.model_copy(update=policy)})
            if f.tenant == "63"
            else f
            for f in files
        ]
    directory = directory_from(files)

    @cache
    def calendar(tenant: str) -> Calendar:
        p = directory.policy(tenant)
        return Calendar.for_tenant(p.timezone, p.local_holidays)

    return Lifecycle(directory, calendar)


def opened(lc: Lifecycle, **data: Any) -> dict[str, Any]:
    case, effects = lc.open_case(factories.submitted(**data), NOW)
    return applied(case, effects)


def applied(case: dict[str, Any], effects: Effects) -> dict[str, Any]:
    return effects.applied_to(case)


def reporter(cls: Any, case: dict[str, Any], **data: Any) -> Any:
    data_cls = {ReporterRated: ReporterRatingData, ReporterAccepted: AcceptData}.get(cls, ReplyData)
    return cls(
        source="lapor-intake",
        tenant="63",
        subject=case["_id"],
        correlation_id=case["_id"],
        time=NOW,
        data=data_cls(
            tracking_id=case["_id"], channel="web", replied_at=NOW, **{"text": "teks", **data}
        ),
    )


def test_auto_verification_dispatches_at_once_with_a_follow_up_deadline() -> None:
    lc = machine()
    case, effects = lc.open_case(factories.submitted(), NOW)
    assert [e.type for e in effects.events] == ["case.verified", "case.dispatched"]
    after = applied(case, effects)
    assert after["status"] == "dispatched"
    assert after["agency_id"] == "63.71.pupr"
    assert after["stage"] == "follow_up"
    # 5 working days from Monday 23 Nov 2026 -> Monday 30 Nov, 23:59:59 WITA
    assert after["due_at"].astimezone(Calendar.for_tenant("Asia/Makassar").tz).day == 30
    kinds = sorted((t.kind, t.stage) for t in effects.timers)
    assert kinds == [("deadline", "follow_up"), ("reminder", "follow_up")]


def test_repeats_and_manual_tenants_wait_for_a_verifier() -> None:
    lc = machine()
    repeat = opened(lc, repeat_of="LPR-0000000009", repeat_score=0.8)
    assert repeat["status"] == "submitted"
    assert repeat["stage"] == "verify"
    manual = opened(machine(verification="manual"))
    assert manual["status"] == "submitted"
    effects = machine(verification="manual").verify(manual, ADMIN, NOW, agency_id="63.71.dinkes")
    assert [e.type for e in effects.events] == ["case.verified", "case.dispatched"]
    assert applied(manual, effects)["agency_id"] == "63.71.dinkes"


def test_every_admin_transition_from_submitted() -> None:
    lc = machine(verification="manual")
    case = opened(lc)
    assert (
        applied(case, lc.request_info(case, ADMIN, NOW, "Di mana lokasinya?"))["status"]
        == "needs_info"
    )
    assert applied(case, lc.reject(case, ADMIN, NOW, "spam"))["status"] == "rejected"
    marking = lc.mark_repeat(case, ADMIN, NOW, "LPR-0000000009", original_agency_id="63.71.pupr")
    marked = applied(case, marking)
    assert marked["status"] == "marked_repeat"
    assert marked["repeat_of"] == "LPR-0000000009"
    [event] = marking.events
    assert event.data.agency is not None
    assert event.data.agency.id == "63.71.pupr"  # counted against the original's agency
    unknown = lc.mark_repeat(case, ADMIN, NOW, "LPR-0000000009")
    assert unknown.events[0].data.agency is None


def test_the_whole_happy_path_to_a_rating() -> None:
    lc = machine()
    case = opened(lc)
    done = applied(case, lc.follow_up(case, STAFF, NOW, "Sudah ditambal."))
    assert done["status"] == "followed_up"
    assert done["stage"] == "reply"
    closed = applied(done, lc.reporter_event(done, reporter(ReporterReplied, done), NOW))
    assert closed["status"] == "closed"
    rated = applied(
        closed, lc.reporter_event(closed, reporter(ReporterRated, closed, score=4), NOW)
    )
    assert rated["status"] == "rated"
    assert rated["history"][-1]["score"] == 4


def test_after_a_follow_up_the_reporter_has_three_answers() -> None:
    """Accept closes (then a rating), a dispute sends it back, and a message keeps the case
    open with its reply window running: a question never closes a case by surprise."""
    lc = machine()
    case = opened(lc)
    done = applied(case, lc.follow_up(case, STAFF, NOW, "Sudah ditambal."))
    asked = lc.reporter_event(done, reporter(ReporterMessaged, done, text="Kapan diaspal?"), NOW)
    assert asked.events == []
    assert not asked.timers
    assert not asked.cancel_timers  # the reply window keeps running
    after = applied(done, asked)
    assert after["status"] == "followed_up"
    assert after["due_at"] == done["due_at"]
    assert after["history"][-1]["text"] == "Kapan diaspal?"
    assert after["history"][-1]["actor"] == {"kind": "reporter"}
    accepted = applied(after, lc.reporter_event(after, reporter(ReporterAccepted, after), NOW))
    assert accepted["status"] == "closed"
    assert accepted["history"][-1]["reason"] == "reporter_accepted"
    rated = applied(
        accepted, lc.reporter_event(accepted, reporter(ReporterRated, accepted, score=5), NOW)
    )
    assert rated["status"] == "rated"
    # a message on a finished case, or acceptance before a follow-up, is refused
    with pytest.raises(IllegalTransitionError):
        lc.reporter_event(accepted, reporter(ReporterMessaged, accepted), NOW)
    with pytest.raises(IllegalTransitionError):
        lc.reporter_event(case, reporter(ReporterAccepted, case), NOW)
    # an answer to a question for details still sends the case back to verification
    manual = machine(verification="manual")
    fresh = opened(manual)
    details = applied(fresh, manual.request_info(fresh, ADMIN, NOW, "Di mana tepatnya?"))
    given = applied(
        details, manual.reporter_event(details, reporter(ReporterMessaged, details), NOW)
    )
    assert given["status"] == "submitted"


def test_a_dispute_sends_the_case_back_to_the_agency() -> None:
    lc = machine()
    case = opened(lc)
    done = applied(case, lc.follow_up(case, STAFF, NOW, "Sudah ditambal."))
    disputed = applied(done, lc.reporter_event(done, reporter(ReporterDisputed, done), NOW))
    assert disputed["status"] == "disputed"
    assert disputed["agency_id"] == "63.71.pupr"
    assert disputed["stage"] == "follow_up"
    again = applied(disputed, lc.follow_up(disputed, STAFF, NOW, "Ditambal ulang."))
    assert again["status"] == "followed_up"


def test_info_request_then_the_reporters_answer_returns_to_verification() -> None:
    lc = machine(verification="manual")
    case = opened(lc)
    asked = applied(case, lc.request_info(case, ADMIN, NOW, "Lokasi tepatnya?"))
    answered = applied(asked, lc.reporter_event(asked, reporter(ReporterReplied, asked), NOW))
    assert answered["status"] == "submitted"
    assert answered["stage"] == "verify"


@pytest.mark.parametrize(
    ("status", "action"),
    [
        ("submitted", "follow_up"),
        ("submitted", "decline"),
        ("dispatched", "verify"),
        ("followed_up", "decline"),
        ("closed", "verify"),
        ("rejected", "dispatch"),
        ("rated", "close"),
    ],
)
def test_illegal_admin_and_agency_transitions_are_refused(status: str, action: str) -> None:
    lc = machine()
    case = {**opened(lc), "status": status}
    args: dict[str, Any] = {
        "follow_up": {"text": "x"},
        "decline": {"reason": "x"},
        "verify": {},
        "dispatch": {},
        "close": {"reason": "x"},
    }[action]
    with pytest.raises(IllegalTransitionError) as err:
        getattr(lc, action)(case, ADMIN, NOW, **args)
    assert err.value.status == status
    assert "tidak dapat" in err.value.message


def test_illegal_reporter_events_are_refused() -> None:
    lc = machine()
    case = opened(lc)  # dispatched
    with pytest.raises(IllegalTransitionError):
        lc.reporter_event(case, reporter(ReporterRated, case, score=5), NOW)
    with pytest.raises(IllegalTransitionError):
        lc.reporter_event(case, reporter(ReporterDisputed, case), NOW)
    comment = lc.reporter_event(case, reporter(ReporterReplied, case), NOW)
    assert comment.events == []  # a comment while the agency works: history only
    assert comment.history[0]["text"] == "teks"


def test_decline_re_routes_keeps_every_hop_and_stops_at_the_transfer_limit() -> None:
    lc = machine(max_transfers=3)
    case = opened(lc, description="Jalan rusak dan air PDAM mati di kompleks.")
    assert case["agency_id"] == "63.71.pupr"
    hop1 = applied(case, lc.decline(case, STAFF, NOW, "Urusan PDAM"))
    assert hop1["agency_id"] == "63.71.pdam"  # the keyword hint is the next candidate
    assert hop1["transfers"] == 1
    assert hop1["history"][-1]["rule"] == "keyword:63-air"
    hop2 = applied(
        hop1, lc.decline(hop1, STAFF, NOW, "Bukan kami", suggested_agency_id="63.71.dlh")
    )
    assert (hop2["agency_id"], hop2["history"][-1]["rule"]) == ("63.71.dlh", "suggested-by-agency")
    hop3 = applied(hop2, lc.decline(hop2, STAFF, NOW, "Bukan kami juga"))
    assert hop3["transfers"] == 3
    assert hop3["agency_id"] == "63.71.kominfo"  # the coordinator, not another bounce
    assert hop3["history"][-1]["rule"] == "transfer-limit"
    statuses = [h["status"] for h in hop3["history"]]
    assert statuses.count("declined") == 3
    assert [h.get("agency_id") for h in hop3["history"] if h["status"] == "dispatched"] == [
        "63.71.pupr",
        "63.71.pdam",
        "63.71.dlh",
        "63.71.kominfo",
    ]


def test_decline_with_no_candidate_left_goes_to_the_coordinator() -> None:
    lc = machine(max_transfers=9)
    case = opened(lc)  # roads: pupr, then coordinators only
    hop = applied(case, lc.decline(case, STAFF, NOW, "Bukan kami"))
    assert hop["agency_id"] == "63.71.kominfo"
    hop2 = applied(hop, lc.decline(hop, STAFF, NOW, "Bukan kami"))
    assert hop2["agency_id"] == "63.kominfo"  # the province coordinator takes the rest


def test_a_case_is_handed_to_an_officer_of_its_agency_until_it_moves_on() -> None:
    lc = machine(max_transfers=9)
    case = {**opened(lc), "assignee": {"username": "budi", "name": "Budi"}}  # at 63.71.pupr
    pupr = Principal("c", "agency_staff", "63", agency_id="63.71.pupr")
    dinkes = Principal("d", "agency_staff", "63", agency_id="63.71.dinkes")
    assert can_assign(pupr, case)
    assert not can_assign(dinkes, case)
    assert can_assign(Principal("k", "province_coordinator", "63"), case)
    assert not can_assign(
        Principal("o", "ombudsman", "*"), {**case, "escalated_to": "00.ombudsman"}
    )
    moved = applied(case, lc.decline(case, STAFF, NOW, "Bukan kami"))
    assert moved["assignee"] is None  # the next agency hands it to its own officer


def test_a_corrected_category_routes_the_case_again_by_the_rules() -> None:
    lc = machine()
    case = opened(lc)  # infrastruktur, at 63.71.pupr
    assert case["status"] == "dispatched"
    moved = applied(case, lc.recategorise(case, ADMIN, NOW, "air-bersih"))
    assert moved["category"] == "air-bersih"
    assert moved["agency_id"] != "63.71.pupr"
    assert [h["type"] for h in moved["history"][-2:]] == ["case.recategorised", "case.dispatched"]
    assert moved["history"][-2]["category"] == "air-bersih"
    with pytest.raises(IllegalTransitionError):
        lc.recategorise(moved, ADMIN, NOW, "air-bersih")  # already so
    assert can_act(Principal("k", "province_coordinator", "63"), case, "recategorise")
    assert not can_act(
        Principal("c", "agency_staff", "63", agency_id="63.71.pupr"), case, "recategorise"
    )


def test_an_agency_can_leave_the_next_agency_to_the_coordinator() -> None:
    lc = machine(max_transfers=9)
    case = opened(lc)  # at 63.71.pupr; by the rules the next would be 63.71.kominfo
    hop = applied(case, lc.decline(case, STAFF, NOW, "Bukan kami", to_coordinator=True))
    assert hop["agency_id"] == "63.71.kominfo"  # Banjarmasin's coordinator office
    assert hop["history"][-1]["rule"] == "declined-to-coordinator"
    suggested = applied(
        case, lc.decline(case, STAFF, NOW, "Bukan kami", suggested_agency_id="63.dlh")
    )
    assert suggested["agency_id"] == "63.dlh"


def test_manual_dispatch_refuses_agencies_of_another_province() -> None:
    lc = machine()
    case = opened(lc)
    with pytest.raises(UnknownAgencyError):
        lc.dispatch(case, ADMIN, NOW, agency_id="73.71.pupr")


def timer_of(effects: Effects, kind: str) -> dict[str, Any]:
    return next(t.doc() for t in effects.timers if t.kind == kind)


def test_missed_follow_up_escalates_along_the_chain_then_stops() -> None:
    lc = machine()
    case, effects = lc.open_case(factories.submitted(), NOW)
    case = applied(case, effects)
    deadline = timer_of(effects, "deadline")
    later = deadline["due_at"] + timedelta(seconds=1)
    targets = []
    for _ in range(4):
        step = lc.fire(case, deadline, later)
        if not step.events:
            break
        event = step.events[0]
        targets.append((event.data.level, event.data.to.id))
        case = applied(case, step)
        deadline = next((t.doc() for t in step.timers), deadline)
        later = (deadline["due_at"] or later) + timedelta(seconds=1)
    assert targets == [(1, "63.71.kominfo"), (2, "63.kominfo"), (3, "00.ombudsman")]
    assert case["escalation_level"] == 3


def test_reminders_go_to_whoever_must_act_and_stale_timers_do_nothing() -> None:
    lc = machine()
    case, effects = lc.open_case(factories.submitted(), NOW)
    case = applied(case, effects)
    reminder = lc.fire(case, timer_of(effects, "reminder"), NOW + timedelta(days=5))
    assert reminder.events[0].type == "case.reminder"
    assert reminder.events[0].data.recipient == "agency"
    done = applied(case, lc.follow_up(case, STAFF, NOW, "Selesai."))
    assert lc.fire(done, timer_of(effects, "deadline"), NOW + timedelta(days=30)).events == []


def test_a_verification_reminder_names_the_coordinator_who_must_verify() -> None:
    lc = machine(verification="manual")
    case, effects = lc.open_case(factories.submitted(), NOW)
    case = applied(case, effects)
    reminder = lc.fire(case, timer_of(effects, "reminder"), NOW + timedelta(days=2))
    [event] = reminder.events
    assert (event.data.stage, event.data.recipient) == ("verify", "coordinator")
    assert event.data.agency is not None
    assert event.data.agency.id == "63.71.kominfo"  # Banjarmasin's coordinator


def test_silence_after_follow_up_closes_the_case() -> None:
    lc = machine()
    case = opened(lc)
    follow = lc.follow_up(case, STAFF, NOW, "Selesai.")
    done = applied(case, follow)
    closed = lc.fire(done, timer_of(follow, "deadline"), NOW + timedelta(days=30))
    assert closed.events[0].type == "case.closed"
    assert closed.events[0].data.reason == "no_reply"
    assert closed.events[0].data.actor == SYSTEM


def test_tenant_isolation_of_reads_and_actions() -> None:
    lc = machine()
    case = opened(lc)  # Banjarmasin, Kalsel
    kalsel = Principal("a", "province_coordinator", "63")
    sulsel = Principal("b", "province_coordinator", "73")
    pupr = Principal("c", "agency_staff", "63", agency_id="63.71.pupr")
    dinkes = Principal("d", "agency_staff", "63", agency_id="63.71.dinkes")
    kota = Principal("e", "regency_coordinator", "63", region_code="63.71")
    tabalong = Principal("f", "regency_coordinator", "63", region_code="63.09")
    ombudsman = Principal("g", "ombudsman", "*")
    assert can_read(kalsel, case)
    assert not can_read(sulsel, case)
    assert not can_act(sulsel, case, "verify")
    assert can_act(pupr, case, "follow_up")
    assert not can_act(pupr, case, "verify")
    assert not can_read(dinkes, case)
    assert can_act(kota, case, "dispatch")
    assert not can_read(tabalong, case)
    assert not can_read(ombudsman, case)  # only what was escalated to it, as intake
    escalated = {**case, "escalated_to": "00.ombudsman"}
    assert can_read(ombudsman, escalated)
    assert not can_act(ombudsman, escalated, "close")
    assert scope_of(sulsel) == Scope(tenant="73")
    assert scope_of(pupr) == Scope(tenant="63", agency_id="63.71.pupr")
    assert scope_of(kota) == Scope(tenant="63", region_code="63.71", escalated_to="-")
    assert scope_of(ombudsman, tenant="63") == Scope(tenant="63", escalated_to="00.ombudsman")
    assert scope_of(Principal("h", "citizen", "63")).nothing


def test_a_cases_search_words_are_its_distinct_lower_case_words() -> None:
    assert words_of("Jalan RUSAK di Jl. A. Yani", "jalan berlubang, rusak!") == [
        "jalan",
        "rusak",
        "di",
        "jl",
        "yani",
        "berlubang",
    ]


def test_policies_come_from_the_directory_files() -> None:
    files = {f.tenant: f for f in load_seed_files()}
    assert files["21"].policy.timezone == "Asia/Jakarta"
    assert files["63"].policy.follow_up_days == 5
    bad = {**files["63"].model_dump(), "policy": {"verify_days": 0}}
    with pytest.raises(ValueError, match="verify_days"):
        DirectoryFile.model_validate(bad)
    assert TenantPolicy().escalation_chain == ("coordinator", "province", "ombudsman")


def test_a_coordinator_may_close_a_case_the_agency_is_working_on() -> None:
    lc = machine()
    case = opened(lc)
    closed = applied(case, lc.close(case, ADMIN, NOW, "Sudah ditangani di luar sistem"))
    assert closed["status"] == "closed"
    assert closed["due_at"] is None
    assert closed["history"][-1]["reason"] == "Sudah ditangani di luar sistem"


def test_a_case_without_any_agency_is_parked_not_failed() -> None:
    files = [
        f.model_copy(update={"agencies": [a for a in f.agencies if a.role != "coordinator"]})
        if f.tenant == "63"
        else f
        for f in load_seed_files()
    ]
    directory = directory_from(files)
    lc = Lifecycle(directory, lambda t: Calendar.for_tenant("Asia/Makassar"))
    neutral = {"title": "Hal umum", "description": "Sesuatu yang lain sekali."}
    case, effects = lc.open_case(factories.submitted(category="lainnya", **neutral), NOW)
    after = effects.applied_to(case)
    assert after["status"] == "submitted"
    assert "coordinator" in after["parked"]["reason"]
    assert after["stage"] == "verify"
    assert effects.events == []
    # its verification deadline escalates past the missing coordinators, never raises
    [deadline] = [t for t in effects.timers if t.kind == "deadline"]
    fired = lc.fire(after, deadline.doc(), deadline.due_at)
    assert [e.data.to.id for e in fired.events] == ["00.ombudsman"]
    # dispatching by hand clears the mark
    done = lc.dispatch({**after, "status": "verified"}, ADMIN, NOW, agency_id="63.71.pupr")
    assert done.sets["parked"] is None
