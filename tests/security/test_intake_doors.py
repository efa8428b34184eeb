"""Attacks on intake's and routing's doors, each of which must fail: attaching another
report's stored file by its reference, a stolen, forged or foreign upload handle, an
external link passed off as an attachment, a staff slip number that hands over another
office's report, a secret in a URL. Intake and routing run in-process on the real broker and
store."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio

from lapor_devstack.settings import StackSettings
from lapor_intake.domain.model import new_tracking_id
from lapor_intake.main import build as build_intake
from lapor_intake.settings import IntakeSettings
from lapor_kit.auth import DEV_SIGNING_KEY, issue
from lapor_kit.runtime import Runtime
from lapor_kit.uploads import web_binding
from lapor_routing.main import build as build_routing
from lapor_routing.settings import RoutingSettings
from lapor_schemas import topics
from lapor_schemas.events import parse_case_event
from tests import factories
from tests.support import TopicReader, eventually, fast_settings, photo, publish

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

PNG = photo()
BODY: dict[str, Any] = {
    "type": "pengaduan",
    "title": "Foto rumah pelapor",
    "description": "Banjir masuk rumah kami di gang sempit, foto terlampir.",
    "category": "infrastruktur",
    "region_code": "63.71",
    "reporter": {"name": "Siti Aminah", "phone": "+628111000222"},
}


@dataclass
class Ctx:
    intake: httpx.AsyncClient
    routing: httpx.AsyncClient
    rt: Runtime
    bootstrap: str


def staff(
    subject: str, role: str = "agency_staff", tenant: str = "63", **extra: str
) -> dict[str, str]:
    token = issue(DEV_SIGNING_KEY, subject=subject, role=role, tenant=tenant, **extra)
    return {"Authorization": f"Bearer {token}"}


PUPR = staff("pupr-1", agency_id="63.71.pupr")
PUPR_2 = staff("pupr-2", agency_id="63.71.pupr")
MAKASSAR = staff("mks-1", tenant="73", agency_id="73.71.pupr")


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def ctx(infra: object, stack_settings: StackSettings) -> AsyncIterator[Ctx]:
    intake_app, rt = build_intake(fast_settings(IntakeSettings, stack_settings))
    routing_app, _ = build_routing(
        fast_settings(RoutingSettings, stack_settings, scheduler_interval_seconds=0)
    )
    async with (
        intake_app.router.lifespan_context(intake_app),
        routing_app.router.lifespan_context(routing_app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=intake_app), base_url="http://intake"
        ) as intake,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=routing_app), base_url="http://routing"
        ) as routing,
    ):
        yield Ctx(intake, routing, rt, stack_settings.kafka_bootstrap)


async def upload(ctx: Ctx, key: str) -> dict[str, Any]:
    answer = await ctx.intake.post(
        "/api/v1/attachments",
        files={"file": ("rumah.png", PNG, "image/png")},
        headers={"X-Lapor-Upload-Key": key},
    )
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


async def victims_report(ctx: Ctx) -> tuple[str, str, str]:
    """A confidential report with a photo; its stored reference, read from the store (an
    attacker guesses it: consecutive uploads differ by a few)."""
    key = uuid.uuid4().hex
    photo = await upload(ctx, key)
    filed = await ctx.intake.post(
        "/api/v1/complaints",
        json={**BODY, "confidential": True, "attachments": [{"handle": photo["handle"]}]},
        headers={"X-Lapor-Upload-Key": key},
    )
    assert filed.status_code == 202, filed.text
    tid = filed.json()["tracking_id"]
    stored = await ctx.rt.db["complaints"].find_one({"_id": tid})
    return tid, stored["attachments"][0]["ref"], photo["handle"]


async def verify(ctx: Ctx, tid: str) -> None:
    event = factories.dispatched(tid)
    await publish(ctx.bootstrap, topics.CASES, event.model_dump_json().encode(), tid.encode())

    async def seen() -> bool:
        doc = await ctx.rt.db["complaints"].find_one({"_id": tid})
        return bool(doc and doc.get("verified"))

    await eventually(seen, timeout=30)


async def test_a_report_cannot_name_another_reports_stored_file(ctx: Ctx) -> None:
    """Found: attachments[].ref was taken from the client; a confidential report's photo
    leaked to Makassar through a report that named its reference."""
    _, ref, _ = await victims_report(ctx)
    stolen = {
        "name": "x.png",
        "content_type": "image/png",
        "size": len(PNG),
        "sha256": "0" * 64,
        "ref": ref,
    }
    for doorway, headers in (
        ("/api/v1/complaints", {"X-Lapor-Upload-Key": uuid.uuid4().hex}),
        ("/api/v1/staff/complaints", MAKASSAR),
    ):
        body = {**BODY, "region_code": "73.71", "attachments": [stolen]}
        if doorway.startswith("/api/v1/staff"):
            body["channel"] = "walk_in"
        answer = await ctx.intake.post(doorway, json=body, headers=headers)
        assert answer.status_code == 422, (doorway, answer.text)
        assert answer.json()["errors"][0]["field"].startswith("attachments.0")


async def test_a_handle_works_only_for_its_own_upload_session(ctx: Ctx) -> None:
    _, _, handle = await victims_report(ctx)
    other_browser = {"X-Lapor-Upload-Key": uuid.uuid4().hex}
    reused = await ctx.intake.post(
        "/api/v1/complaints",
        json={**BODY, "attachments": [{"handle": handle}]},
        headers=other_browser,
    )
    assert reused.status_code == 422
    assert reused.json()["errors"][0]["code"] == "attachment_unknown"
    # a handle whose payload names another object, with the signature kept, is refused
    payload, mac = handle.split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    body["o"] = "0" * 24
    forged = base64.urlsafe_b64encode(json.dumps(body).encode()).decode().rstrip("=")
    key = uuid.uuid4().hex
    bound = {**body, "b": web_binding(key)}  # bound to the attacker's own session instead
    rebound = base64.urlsafe_b64encode(json.dumps(bound).encode()).decode().rstrip("=")
    for fake in (f"{forged}.{mac}", f"{rebound}.{mac}"):
        answer = await ctx.intake.post(
            "/api/v1/complaints",
            json={**BODY, "attachments": [{"handle": fake}]},
            headers={"X-Lapor-Upload-Key": key},
        )
        assert answer.status_code == 422, answer.text


async def test_a_staff_members_handle_is_theirs_alone(ctx: Ctx) -> None:
    mine = await ctx.intake.post(
        "/api/v1/staff/attachments",
        files={"file": ("slip.png", PNG, "image/png")},
        headers=PUPR,
    )
    assert mine.status_code == 201, mine.text
    handle = mine.json()["handle"]
    entry = {**BODY, "channel": "walk_in", "attachments": [{"handle": handle}]}
    assert (
        await ctx.intake.post("/api/v1/staff/complaints", json=entry, headers=PUPR_2)
    ).status_code == 422
    assert (
        await ctx.intake.post(
            "/api/v1/complaints",
            json={**BODY, "attachments": [{"handle": handle}]},
            headers={"X-Lapor-Upload-Key": uuid.uuid4().hex},
        )
    ).status_code == 422
    own = await ctx.intake.post("/api/v1/staff/complaints", json=entry, headers=PUPR)
    assert own.status_code == 202, own.text
    # a follow-up names files the same way: never a reference, never another's handle
    tid = own.json()["tracking_id"]
    for files in (
        [
            {
                "name": "x.png",
                "content_type": "image/png",
                "size": 9,
                "sha256": "0" * 64,
                "ref": "gridfs:" + "0" * 24,
            }
        ],
        [{"handle": handle}],
    ):
        refused = await ctx.routing.post(
            f"/api/v1/cases/{tid}/follow-up",
            json={"text": "Sudah kami tangani.", "attachments": files},
            headers=PUPR_2,
        )
        assert refused.status_code == 422, refused.text


async def test_a_follow_up_carries_its_agencys_own_upload(ctx: Ctx) -> None:
    tid = new_tracking_id()
    event = factories.submitted(tid)
    reader = await TopicReader(ctx.bootstrap, topics.CASES).start()
    try:
        await publish(ctx.bootstrap, topics.CASES, event.model_dump_json().encode(), tid.encode())

        async def dispatched() -> bool:
            case = await ctx.routing.get(f"/api/v1/cases/{tid}", headers=PUPR)
            return case.status_code == 200 and case.json()["status"] == "dispatched"

        await eventually(dispatched, timeout=30)
        photo = await ctx.intake.post(
            "/api/v1/staff/attachments",
            files={"file": ("tambal.png", PNG, "image/png")},
            headers=PUPR,
        )
        done = await ctx.routing.post(
            f"/api/v1/cases/{tid}/follow-up",
            json={
                "text": "Lubang sudah ditambal.",
                "attachments": [{"handle": photo.json()["handle"]}],
            },
            headers=PUPR,
        )
        assert done.status_code == 200, done.text
        assert "gridfs" not in done.text
        found = await reader.wait_for(
            lambda r: r.key == tid.encode() and b"case.followed_up" in r.value
        )
        data = parse_case_event(found[0].value).data
        assert [a.sha256 for a in data.attachments] == [photo.json()["sha256"]]
        assert data.attachments[0].ref.startswith("gridfs:")
    finally:
        await reader.stop()


async def test_no_answer_ever_shows_where_a_file_is_stored(ctx: Ctx) -> None:
    """Found: references were guessable and the public list showed them."""
    tid, _, _ = await victims_report(ctx)
    key = uuid.uuid4().hex
    photo = await upload(ctx, key)
    public = await ctx.intake.post(
        "/api/v1/complaints",
        json={**BODY, "attachments": [{"handle": photo["handle"]}]},
        headers={"X-Lapor-Upload-Key": key},
    )
    ptid, secret = public.json()["tracking_id"], public.json()["secret"]
    await verify(ctx, ptid)  # public reports are listed only once verified
    coordinator = staff("k-63", role="province_coordinator")
    answers = [
        await ctx.intake.get("/api/v1/complaints", params={"region_code": "63.71", "limit": 200}),
        await ctx.intake.get(f"/api/v1/complaints/{ptid}"),
        await ctx.intake.get(f"/api/v1/complaints/{ptid}", headers={"X-Lapor-Secret": secret}),
        await ctx.intake.get(f"/api/v1/staff/complaints/{tid}", headers=coordinator),
        await ctx.intake.get("/open311/v2/requests.json", params={"jurisdiction_id": "63"}),
    ]
    for answer in answers:
        assert answer.status_code == 200, answer.url
        assert "gridfs" not in answer.text, answer.url
        assert "handle" not in answer.text, answer.url
    assert any(photo["name"] in a.text for a in answers[:3])
    # the other province's agency reaches no file of it, by any index
    for index in range(2):
        leak = await ctx.intake.get(
            f"/api/v1/staff/complaints/{tid}/attachments/{index}", headers=MAKASSAR
        )
        assert leak.status_code == 404


async def test_an_external_link_is_not_an_attachment(ctx: Ctx) -> None:
    """Found: a web report could attach any https link, which showed publicly and as
    Open311 media_url."""
    link = {
        "name": "foto.jpg",
        "content_type": "image/jpeg",
        "size": 100,
        "sha256": "a" * 64,
        "ref": "https://evil.example/track.jpg",
    }
    answer = await ctx.intake.post(
        "/api/v1/complaints",
        json={**BODY, "attachments": [link]},
        headers={"X-Lapor-Upload-Key": uuid.uuid4().hex},
    )
    assert answer.status_code == 422
    listed = await ctx.intake.get("/open311/v2/requests.json", params={"jurisdiction_id": "63"})
    assert "evil.example" not in listed.text


async def test_a_slip_number_never_hands_over_another_report(ctx: Ctx) -> None:
    """Found: another office entering the same slip number got the first report's
    tracking id and secret, and its own report was silently not filed."""
    slip = f"slip-{uuid.uuid4().hex[:6]}"
    first = await ctx.intake.post(
        "/api/v1/staff/complaints",
        json={**BODY, "channel": "complaint_box", "reference": slip, "confidential": True},
        headers=PUPR,
    )
    assert first.status_code == 202
    other_office = staff("pdam-1", agency_id="63.71.pdam")
    theirs = await ctx.intake.post(
        "/api/v1/staff/complaints",
        json={
            **BODY,
            "channel": "complaint_box",
            "reference": slip,
            "category": "air-bersih",
            "description": "Air PDAM mati sejak tiga hari di kompleks kami.",
        },
        headers=other_office,
    )
    assert theirs.status_code == 202, theirs.text
    assert theirs.json()["tracking_id"] != first.json()["tracking_id"]
    assert first.json()["secret"] not in theirs.text
    # the same office, the same slip, other content: refused in words, nothing handed over
    clash = await ctx.intake.post(
        "/api/v1/staff/complaints",
        json={**BODY, "channel": "complaint_box", "reference": slip, "title": "Slip yang lain"},
        headers=PUPR_2,
    )
    assert clash.status_code == 409
    assert clash.json()["errors"][0]["field"] == "reference"
    assert first.json()["secret"] not in clash.text
    assert first.json()["tracking_id"] not in clash.text


async def test_a_secret_in_a_url_is_refused_with_where_it_goes(
    ctx: Ctx, infra: object, stack_settings: StackSettings
) -> None:
    """Found: the reporter's secret was still accepted as ?secret= by intake and notify."""
    filed = await ctx.intake.post(
        "/api/v1/complaints", json=BODY, headers={"X-Lapor-Upload-Key": uuid.uuid4().hex}
    )
    tid, secret = filed.json()["tracking_id"], filed.json()["secret"]
    assert filed.headers["cache-control"] == "no-store"  # the answer carries the secret
    in_url = await ctx.intake.get(f"/api/v1/complaints/{tid}", params={"secret": secret})
    assert in_url.status_code == 400
    assert "X-Lapor-Secret" in in_url.json()["detail"]
    in_header = await ctx.intake.get(
        f"/api/v1/complaints/{tid}", headers={"X-Lapor-Secret": secret}
    )
    assert in_header.status_code == 200
    assert in_header.headers["cache-control"] == "no-store"
    from lapor_notify.main import build as build_notify
    from lapor_notify.settings import NotifySettings

    app, _ = build_notify(fast_settings(NotifySettings, stack_settings))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://n") as notify,
    ):
        refused = await notify.get(
            "/api/v1/notifications", params={"tracking_id": tid, "secret": secret}
        )
        assert refused.status_code == 400
        assert "X-Lapor-Secret" in refused.json()["detail_en"]
        fine = await notify.get(
            "/api/v1/notifications",
            params={"tracking_id": tid},
            headers={"X-Lapor-Secret": secret},
        )
        assert fine.status_code == 200
