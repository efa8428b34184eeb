"""Routing in-process on the real broker and store, with an injected clock."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio

from lapor_devstack.settings import StackSettings
from lapor_intake.domain.model import new_tracking_id
from lapor_kit.auth import DEV_SIGNING_KEY, SigningKey, issue
from lapor_routing.main import build
from lapor_routing.service import RoutingService
from lapor_routing.settings import RoutingSettings
from lapor_schemas import ReporterRated, ReporterReplied, topics
from lapor_schemas.events import ReplyData, ReporterRatingData
from tests import factories
from tests.support import TopicReader, eventually, fast_settings, publish

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]
START = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # Monday 09:00 WITA


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Ctx:
    client: httpx.AsyncClient
    service: RoutingService
    settings: RoutingSettings
    clock: Clock
    bootstrap: str

    def token(self, role: str, tenant: str, **extra: str) -> dict[str, str]:
        jwt = issue(DEV_SIGNING_KEY, subject=f"{role}-{tenant}", role=role, tenant=tenant, **extra)
        return {"Authorization": f"Bearer {jwt}"}


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def routing(infra: object, stack_settings: StackSettings) -> AsyncIterator[Ctx]:
    settings = fast_settings(RoutingSettings, stack_settings, scheduler_interval_seconds=0)
    clock = Clock()
    app, _ = build(settings, clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://routing") as client:
            yield Ctx(client, app.state.service, settings, clock, stack_settings.kafka_bootstrap)


async def submit(ctx: Ctx, **data: Any) -> str:
    tid = new_tracking_id()
    event = factories.submitted(tid, time=ctx.clock.now, **data)
    await publish(ctx.bootstrap, topics.CASES, event.model_dump_json().encode(), key=tid.encode())
    admin = ctx.token("national_admin", "*")

    async def opened() -> bool:
        return (await ctx.client.get(f"/api/v1/cases/{tid}", headers=admin)).status_code == 200

    await eventually(opened, timeout=30)
    return tid


async def reporter_event(ctx: Ctx, cls: Any, tid: str, **data: Any) -> None:
    data_cls = ReporterRatingData if cls is ReporterRated else ReplyData
    event = cls(
        source="lapor-intake",
        tenant=tid and "63",
        subject=tid,
        correlation_id=tid,
        time=ctx.clock.now,
        data=data_cls(
            tracking_id=tid, channel="web", replied_at=ctx.clock.now, **{"text": "oke", **data}
        ),
    )
    await publish(ctx.bootstrap, topics.CASES, event.model_dump_json().encode(), key=tid.encode())


async def status_becomes(ctx: Ctx, tid: str, status: str) -> dict[str, Any]:
    admin = ctx.token("national_admin", "*")

    async def check() -> dict[str, Any] | None:
        case: dict[str, Any] = (await ctx.client.get(f"/api/v1/cases/{tid}", headers=admin)).json()
        return case if case.get("status") == status else None

    result: dict[str, Any] = await eventually(check, timeout=30)
    return result


async def test_a_province_never_sees_or_touches_another_provinces_cases(routing: Ctx) -> None:
    tid = await submit(routing)
    path = f"/api/v1/cases/{tid}"
    kalsel = routing.token("province_coordinator", "63")
    sulsel = routing.token("province_coordinator", "73")
    assert (await routing.client.get(path, headers=kalsel)).status_code == 200
    assert (await routing.client.get(path, headers=sulsel)).status_code == 404
    refused = await routing.client.post(
        f"{path}/close", json={"reason": "bukan urusan"}, headers=sulsel
    )
    assert refused.status_code == 404
    inbox = (await routing.client.get("/api/v1/inbox", headers=sulsel)).json()
    assert tid not in [c["tracking_id"] for c in inbox]
    own = (
        await routing.client.get("/api/v1/inbox", params={"status": "dispatched"}, headers=kalsel)
    ).json()
    assert tid in [c["tracking_id"] for c in own]
    assert (await routing.client.get(path)).status_code == 401
    bad = {
        "Authorization": "Bearer "
        + issue(SigningKey.generate(), subject="x", role="national_admin", tenant="*")
    }
    assert (await routing.client.get(path, headers=bad)).status_code == 401


async def test_agency_staff_see_only_their_agency_whatever_the_query_says(routing: Ctx) -> None:
    tid = await submit(routing)  # dispatched to 63.71.pupr
    dinkes = routing.token("agency_staff", "63", agency_id="63.71.dinkes")
    pupr = routing.token("agency_staff", "63", agency_id="63.71.pupr")
    for params in ({"agency_id": "63.71.pupr"}, {}, {"tenant": "63"}):
        listed = await routing.client.get("/api/v1/inbox", params=params, headers=dinkes)
        assert tid not in [c["tracking_id"] for c in listed.json()], params
    mine = await routing.client.get(
        "/api/v1/inbox", params={"agency_id": "63.71.pupr"}, headers=pupr
    )
    assert tid in [c["tracking_id"] for c in mine.json()]
    # a staff token without its agency, a province role claiming every tenant, a role that
    # is not a string: refused, never widened
    for claims in (
        {"role": "agency_staff", "tenant": "63"},
        {"role": "province_coordinator", "tenant": "*"},
        {"role": ["national_admin"], "tenant": "*"},
    ):
        import jwt

        token = jwt.encode(
            {"sub": "x", "iss": "lapor", "iat": 1, "exp": 4_000_000_000, **claims},
            DEV_SIGNING_KEY.private,
            algorithm="EdDSA",
            headers={"kid": DEV_SIGNING_KEY.kid},
        )
        r = await routing.client.get("/api/v1/inbox", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401, claims


async def test_the_inbox_finds_words_counts_all_and_sorts_on_the_real_store(
    routing: Ctx,
) -> None:
    word = f"kata{new_tracking_id()[-6:].lower()}"
    tids = []
    for i in range(3):
        routing.clock.now = START + timedelta(minutes=i)
        tids.append(
            await submit(
                routing,
                title=f"Lampu {word} mati nomor {i}",
                region="63.03",
                submitted_at=START + timedelta(minutes=i),
            )
        )
    routing.clock.now = START
    other = await submit(routing, title="Sampah menumpuk", region="63.03")
    kalsel = routing.token("province_coordinator", "63")
    found = await routing.client.get(
        "/api/v1/inbox",
        params={"q": f"LAMPU, {word}!", "sort": "newest", "limit": 2},
        headers=kalsel,
    )
    assert found.status_code == 200
    assert found.headers["x-total-count"] == "3"  # all that match, not the page
    assert [c["tracking_id"] for c in found.json()] == [tids[2], tids[1]]
    assert all(c["submitted_at"] for c in found.json())
    oldest = await routing.client.get(
        "/api/v1/inbox", params={"q": word, "sort": "oldest"}, headers=kalsel
    )
    assert [c["tracking_id"] for c in oldest.json()] == tids
    assert other not in [c["tracking_id"] for c in oldest.json()]
    regency = await routing.client.get(
        "/api/v1/inbox", params={"q": word, "region_code": "63.71"}, headers=kalsel
    )
    assert (regency.json(), regency.headers["x-total-count"]) == ([], "0")
    sulsel = routing.token("province_coordinator", "73")
    hidden = await routing.client.get("/api/v1/inbox", params={"q": word}, headers=sulsel)
    assert hidden.headers["x-total-count"] == "0"  # the words never widen the scope
    bad = await routing.client.get("/api/v1/inbox", params={"sort": "x"}, headers=kalsel)
    assert bad.status_code == 422


async def test_cases_without_a_deadline_sort_after_those_with_one(routing: Ctx) -> None:
    """A finished case has no deadline: under "nearest deadline" and "urgency" it comes after
    every open case, not first (MongoDB sorts a missing value before any date)."""
    word = f"tenggat{new_tracking_id()[-6:].lower()}"
    finished = await submit(routing, title=f"Lampu {word} satu", region="63.03")
    open_ = await submit(routing, title=f"Lampu {word} dua", region="63.03")
    kalsel = routing.token("province_coordinator", "63")
    closed = await routing.client.post(
        f"/api/v1/cases/{finished}/close", json={"reason": "sudah selesai"}, headers=kalsel
    )
    assert closed.status_code == 200
    assert closed.json()["due_at"] is None
    for sort in ("deadline", "urgency"):
        listed = await routing.client.get(
            "/api/v1/inbox",
            params={"q": word, "sort": sort, "status": "dispatched,closed"},
            headers=kalsel,
        )
        assert [c["tracking_id"] for c in listed.json()] == [open_, finished], sort


async def test_notes_stay_inside_and_a_case_is_handed_to_an_officer(routing: Ctx) -> None:
    tid = await submit(routing)  # dispatched to 63.71.pupr
    pupr = routing.token("agency_staff", "63", agency_id="63.71.pupr", name="Budi")
    dinkes = routing.token("agency_staff", "63", agency_id="63.71.dinkes")
    noted = await routing.client.post(
        f"/api/v1/cases/{tid}/notes", json={"text": "Sudah dicek ke lokasi."}, headers=pupr
    )
    assert noted.status_code == 200
    assert [n["text"] for n in noted.json()["notes"]] == ["Sudah dicek ke lokasi."]
    assert noted.json()["notes"][0]["name"] == "Budi"
    other = await routing.client.post(
        f"/api/v1/cases/{tid}/notes", json={"text": "x" * 5}, headers=dinkes
    )
    assert other.status_code == 404  # not its case: the same as no case
    given = await routing.client.put(
        f"/api/v1/cases/{tid}/assignee",
        json={"username": "budi.pupr", "name": "Budi"},
        headers=pupr,
    )
    assert given.json()["assignee"] == {"username": "budi.pupr", "name": "Budi"}
    mine = await routing.client.get("/api/v1/inbox", params={"assignee": "budi.pupr"}, headers=pupr)
    assert [c["tracking_id"] for c in mine.json()] == [tid]
    assert "notes" not in mine.json()[0] or mine.json()[0]["notes"] == []  # lists stay light
    refused = await routing.client.put(
        f"/api/v1/cases/{tid}/assignee", json={"username": "x.dinkes"}, headers=dinkes
    )
    assert refused.status_code == 404


async def test_a_coordinator_corrects_the_category_and_the_rules_route_it_again(
    routing: Ctx,
) -> None:
    tid = await submit(
        routing,
        title="Air mati",
        description="air pdam ga ngalir 3 hari",
        suggested_category="air-bersih",
        suggested_score=0.97,
    )
    kalsel = routing.token("province_coordinator", "63")
    before = (await routing.client.get(f"/api/v1/cases/{tid}", headers=kalsel)).json()
    assert before["agency"]["id"] == "63.71.pupr"  # filed as infrastruktur
    assert before["suggested_category"] == "air-bersih"  # flagged for the verifier
    wrong = await routing.client.post(
        f"/api/v1/cases/{tid}/recategorise", json={"category": "jalan-tol"}, headers=kalsel
    )
    assert wrong.status_code == 422
    pupr = routing.token("agency_staff", "63", agency_id="63.71.pupr")
    refused = await routing.client.post(
        f"/api/v1/cases/{tid}/recategorise", json={"category": "air-bersih"}, headers=pupr
    )
    assert refused.status_code == 403
    fixed = await routing.client.post(
        f"/api/v1/cases/{tid}/recategorise", json={"category": "air-bersih"}, headers=kalsel
    )
    assert fixed.status_code == 200, fixed.text
    after = fixed.json()
    assert after["category"] == "air-bersih"
    assert after["agency"]["id"] != "63.71.pupr"
    assert [h["type"] for h in after["history"][-2:]] == ["case.recategorised", "case.dispatched"]
    assert after["history"][-2]["category"] == "air-bersih"


async def test_a_repeat_links_only_cases_of_one_province(routing: Ctx) -> None:
    kalsel_case = await submit(routing, **unique_words())
    sulsel_case = await submit(routing, region="73.71", **unique_words())
    admin = routing.token("national_admin", "*")
    coordinator = routing.token("province_coordinator", "63")
    fresh = new_tracking_id()
    event = factories.submitted(fresh, time=routing.clock.now, repeat_of=kalsel_case)
    await publish(routing.bootstrap, topics.CASES, event.model_dump_json().encode(), key=b"r")

    async def opened() -> bool:
        r = await routing.client.get(f"/api/v1/cases/{fresh}", headers=admin)
        return r.status_code == 200

    await eventually(opened)
    across = await routing.client.post(
        f"/api/v1/cases/{fresh}/mark-repeat", json={"repeat_of": sulsel_case}, headers=admin
    )
    assert across.status_code == 404
    unknown = await routing.client.post(
        f"/api/v1/cases/{fresh}/mark-repeat",
        json={"repeat_of": new_tracking_id()},
        headers=coordinator,
    )
    assert unknown.status_code == 404
    same = await routing.client.post(
        f"/api/v1/cases/{fresh}/mark-repeat", json={"repeat_of": kalsel_case}, headers=coordinator
    )
    assert same.status_code == 200, same.text
    assert same.json()["repeat_of"] == kalsel_case


def unique_words() -> dict[str, str]:
    import uuid

    words = " ".join(uuid.uuid4().hex[:7] for _ in range(6))
    return {"title": f"Jalan {words[:15]}", "description": f"Laporan {words} mohon dibantu."}


async def test_decline_re_routes_with_history_and_agencies_only_act_on_their_cases(
    routing: Ctx,
) -> None:
    tid = await submit(routing, description="Jalan rusak dan air PDAM mati di kompleks kami.")
    path = f"/api/v1/cases/{tid}"
    pupr = routing.token("agency_staff", "63", agency_id="63.71.pupr")
    pdam = routing.token("agency_staff", "63", agency_id="63.71.pdam")
    assert (
        await routing.client.post(f"{path}/follow-up", json={"text": "Kami tangani"}, headers=pdam)
    ).status_code == 404
    cases = await TopicReader(routing.bootstrap, topics.CASES).start()
    try:
        declined = await routing.client.post(
            f"{path}/decline", headers=pupr, json={"reason": "Ini urusan PDAM"}
        )
        assert declined.status_code == 200, declined.text
        body = declined.json()
        assert body["agency"]["id"] == "63.71.pdam"
        assert body["transfers"] == 1
        [declined_event] = await cases.wait_for(
            lambda r: r.key == tid.encode() and b'"case.declined"' in r.value
        )
        [redispatch] = await cases.wait_for(
            lambda r: r.key == tid.encode() and b'"previous_agency_id":"63.71.pupr"' in r.value
        )
        assert declined_event.offset < redispatch.offset  # same partition, in order
        assert json.loads(declined_event.value)["data"]["reason"] == "Ini urusan PDAM"
        dispatched = json.loads(redispatch.value)["data"]
        assert dispatched["agency"]["id"] == "63.71.pdam"
        assert dispatched["rule"] == "keyword:63-air"
    finally:
        await cases.stop()
    late = await routing.client.post(f"{path}/follow-up", json={"text": "Sudah"}, headers=pupr)
    assert late.status_code == 403  # no longer its case, but it may still read the history
    assert (await routing.client.get(path, headers=pupr)).status_code == 200
    illegal = await routing.client.post(
        f"{path}/verify", json={}, headers=routing.token("province_coordinator", "63")
    )
    assert illegal.status_code == 409
    assert illegal.json()["code"] == "illegal_transition"
    assert "Sent to the agency" in illegal.json()["detail_en"]  # in words, not a status key
    assert "dispatched" not in illegal.json()["detail_en"]
    hops = [(h["status"], h.get("agency_id")) for h in body["history"]]
    assert hops[-2:] == [("declined", "63.71.pupr"), ("dispatched", "63.71.pdam")]


async def test_follow_up_reply_and_rating_through_the_case_log(routing: Ctx) -> None:
    tid = await submit(routing)
    pupr = routing.token("agency_staff", "63", agency_id="63.71.pupr")
    done = await routing.client.post(
        f"/api/v1/cases/{tid}/follow-up",
        headers=pupr,
        json={"text": "Lubang sudah ditambal pada 24 Nov."},
    )
    assert done.json()["status"] == "followed_up"
    await reporter_event(routing, ReporterRated, tid, score=5)  # too early: refused
    await reporter_event(routing, ReporterReplied, tid, text="Terima kasih, sudah bagus.")
    await status_becomes(routing, tid, "closed")
    await reporter_event(routing, ReporterRated, tid, score=4, text="Cepat")
    rated = await status_becomes(routing, tid, "rated")
    assert [h.get("score") for h in rated["history"] if h["status"] == "rated"] == [4]


async def test_directory_changes_take_effect_without_a_redeploy(routing: Ctx) -> None:
    admin = routing.token("national_admin", "*")
    kepri = (await routing.client.get("/api/v1/directory/21")).json()
    kepri["policy"]["verification"] = "manual"
    kepri["version"] += 1
    for role, tenant, extra in (
        ("province_coordinator", "63", {}),  # another province's coordinator
        ("regency_coordinator", "21", {"region_code": "21.72"}),
        ("agency_staff", "21", {"agency_id": "21.72.dinkes"}),
    ):
        refused = await routing.client.put(
            "/api/v1/directory/21", json=kepri, headers=routing.token(role, tenant, **extra)
        )
        assert refused.status_code == 403, role
    saved = await routing.client.put("/api/v1/directory/21", json=kepri, headers=admin)
    assert saved.status_code == 200, saved.text
    kepri["version"] += 1  # the province's own coordinator edits its own directory
    own = await routing.client.put(
        "/api/v1/directory/21", json=kepri, headers=routing.token("province_coordinator", "21")
    )
    assert own.status_code == 200, own.text
    tid = await submit(routing, region="21.72", category="kesehatan")
    case = await status_becomes(routing, tid, "submitted")
    assert case["stage"] == "verify"
    verified = await routing.client.post(
        f"/api/v1/cases/{tid}/verify", json={}, headers=routing.token("province_coordinator", "21")
    )
    assert verified.json()["agency"]["id"] == "21.72.dinkes"  # Kota Tanjungpinang


async def test_a_breach_escalates_exactly_once_across_restarts_and_two_schedulers(
    routing: Ctx, stack_settings: StackSettings
) -> None:
    tid = await submit(routing)
    admin = routing.token("national_admin", "*")
    case = (await routing.client.get(f"/api/v1/cases/{tid}", headers=admin)).json()
    due = datetime.fromisoformat(case["due_at"])
    routing.clock.now = due + timedelta(hours=1)
    cases = await TopicReader(routing.bootstrap, topics.CASES).start()
    try:
        # a second routing process on the same store (what a restart or a replica is)
        second_clock = Clock()
        second_clock.now = routing.clock.now
        app2, _ = build(routing.settings, clock=second_clock)
        async with app2.router.lifespan_context(app2):
            other: RoutingService = app2.state.service
            fired = await asyncio.gather(routing.service.tick(), other.tick())
        again = await routing.service.tick()  # after the "restart": nothing left to fire
        escalations = await cases.wait_for(
            lambda r: r.key == tid.encode() and b'"case.escalated"' in r.value
        )
        await asyncio.sleep(1.0)
        all_escalations = [
            r for r in cases.records if r.key == tid.encode() and b'"case.escalated"' in r.value
        ]
    finally:
        await cases.stop()
    # One escalation event. Its record may appear twice: both processes' outbox relays can
    # pick up the same entry (at least once, by design), and consumers drop the copy by id.
    assert len({json.loads(r.value)["id"] for r in all_escalations}) == 1
    assert sum(fired) >= 1
    assert again == 0
    data = json.loads(escalations[0].value)["data"]
    assert (data["level"], data["to"]["id"], data["stage"]) == (1, "63.71.kominfo", "follow_up")
    after = (await routing.client.get(f"/api/v1/cases/{tid}", headers=admin)).json()
    assert after["escalation_level"] == 1
    assert after["escalated_to"] == "63.71.kominfo"
    overdue = (
        await routing.client.get(
            "/api/v1/inbox",
            params={"overdue": "true"},
            headers=routing.token("province_coordinator", "63"),
        )
    ).json()
    assert tid in [c["tracking_id"] for c in overdue]
    routing.clock.now = START


async def test_the_same_event_twice_in_one_batch_neither_doubles_nor_blocks(
    routing: Ctx,
) -> None:
    tid = new_tracking_id()
    raw = factories.submitted(tid, time=routing.clock.now).model_dump_json().encode()
    await publish(routing.bootstrap, topics.CASES, raw, key=tid.encode())
    await publish(routing.bootstrap, topics.CASES, raw, key=tid.encode())
    case = await status_becomes(routing, tid, "dispatched")
    assert [h["status"] for h in case["history"]] == ["submitted", "verified", "dispatched"]
    pupr = routing.token("agency_staff", "63", agency_id="63.71.pupr")
    await routing.client.post(
        f"/api/v1/cases/{tid}/follow-up", headers=pupr, json={"text": "Sudah ditambal."}
    )
    await reporter_event(routing, ReporterReplied, tid, text="Terima kasih.")
    await status_becomes(routing, tid, "closed")  # the partition was not left stuck


async def test_a_submission_seen_again_opens_nothing_on_the_careful_path(routing: Ctx) -> None:
    """Opening writes no processed-event record (the case's unique _id is the guard) and reads
    nothing first: a copy of the submission meets the stored case, the transaction aborts, and
    the batch is handled again after asking the store, which skips the copy."""
    tid = await submit(routing)
    event = factories.submitted(tid, time=routing.clock.now)
    fresh = new_tracking_id()
    other = factories.submitted(fresh, time=routing.clock.now)
    again = factories.submitted(tid, time=routing.clock.now).model_copy(update={"id": event.id})
    assert await routing.service.handle([again, other]) == 1  # only the new report opens
    admin = routing.token("national_admin", "*")
    case = (await routing.client.get(f"/api/v1/cases/{fresh}", headers=admin)).json()
    assert case["status"] in {"dispatched", "submitted", "verified"}
    assert await routing.service.handle([again]) == 0
