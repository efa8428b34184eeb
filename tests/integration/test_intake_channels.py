"""Every intake door on the real broker and store: Open311, SMS, staff entry, attachments,
status secrets, repeats and idempotency under concurrency."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree as ET

import httpx
import pytest
import pytest_asyncio

from lapor_devstack.settings import StackSettings
from lapor_intake.main import build
from lapor_intake.service import ExternalItem, IntakeService
from lapor_intake.settings import IntakeSettings
from lapor_kit.auth import DEV_SIGNING_KEY, issue
from lapor_kit.runtime import Runtime
from lapor_schemas import ExternalSubmission, topics
from tests import factories
from tests.support import TopicReader, eventually, fast_settings, phone_photo, photo, publish

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

O311 = "/open311/v2"
API_KEY = "dev-open311-key"
SMS_TOKEN = "dev-sms-token-kalsel"
BODY: dict[str, Any] = {
    "type": "pengaduan",
    "title": "Lampu jalan mati di Jalan Sutoyo",
    "description": "Lampu penerangan jalan di Jalan Sutoyo mati sejak dua minggu.",
    "category": "infrastruktur",
    "region_code": "63.71",
    "reporter": {"name": "Rina Wati", "email": "rina@warga.example", "phone": "+628111222333"},
}


@dataclass
class Ctx:
    rt: Runtime
    client: httpx.AsyncClient
    settings: IntakeSettings
    service: IntakeService


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def intake(infra: object, stack_settings: StackSettings) -> AsyncIterator[Ctx]:
    settings = fast_settings(IntakeSettings, stack_settings)
    app, rt = build(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:
            yield Ctx(rt, client, settings, app.state.service)


async def verified(ctx: Ctx, tid: str) -> None:
    """The report verified and dispatched, as routing's events reach intake's view."""
    event = factories.dispatched(tid)
    await publish(
        ctx.settings.kafka_bootstrap, topics.CASES, event.model_dump_json().encode(), tid.encode()
    )

    async def seen() -> bool:
        doc = await ctx.rt.db["complaints"].find_one({"_id": tid})
        return bool(doc and doc.get("verified"))

    await eventually(seen, timeout=30)


# -- Open311 ----------------------------------------------------------------------------


async def test_open311_services_in_xml_and_json(intake: Ctx) -> None:
    client = intake.client
    xml = await client.get(f"{O311}/services.xml", params={"jurisdiction_id": "63"})
    assert xml.status_code == 200
    assert xml.headers["content-type"].startswith("text/xml")
    root = ET.fromstring(xml.content)
    codes = [s.findtext("service_code") for s in root.findall("service")]
    assert "infrastruktur" in codes
    js = (
        await client.get(f"{O311}/services.json", params={"jurisdiction_id": "kalselprov.go.id"})
    ).json()
    assert {s["service_code"] for s in js} == set(codes)
    definition = ET.fromstring(
        (
            await client.get(f"{O311}/services/kesehatan.xml", params={"jurisdiction_id": "63"})
        ).content
    )
    assert definition.tag == "service_definition"
    assert [a.findtext("code") for a in definition.iter("attribute")] == [
        "jenis",
        "anonim",
        "rahasia",
    ]


async def test_open311_errors_follow_the_spec(intake: Ctx) -> None:
    client = intake.client
    missing = await client.get(f"{O311}/services.xml")
    assert missing.status_code == 400
    err = ET.fromstring(missing.content)
    assert err.tag == "errors"
    assert err.findtext("error/code") == "400"
    assert "jurisdiction_id" in (err.findtext("error/description") or "")
    unknown = await client.get(f"{O311}/services.json", params={"jurisdiction_id": "99"})
    assert unknown.status_code == 404
    assert unknown.json()[0]["code"] == 404
    no_key = await client.post(f"{O311}/requests.json", data={"jurisdiction_id": "63"})
    assert no_key.status_code == 403
    assert "api_key" in no_key.json()[0]["description"]
    bad_code = await client.post(
        f"{O311}/requests.json",
        data={
            "api_key": API_KEY,
            "jurisdiction_id": "63",
            "service_code": "sihir",
            "lat": "-3.3",
            "long": "114.6",
            "description": "Ada masalah besar di sini.",
        },
    )
    assert bad_code.status_code == 404
    no_location = await client.post(
        f"{O311}/requests.json",
        data={
            "api_key": API_KEY,
            "jurisdiction_id": "63",
            "service_code": "infrastruktur",
            "description": "Ada masalah besar di sini.",
        },
    )
    assert no_location.status_code == 400
    short = await client.post(
        f"{O311}/requests.json",
        data={
            "api_key": API_KEY,
            "jurisdiction_id": "63",
            "service_code": "infrastruktur",
            "lat": "-3.3",
            "long": "114.6",
            "description": "Rusak",
        },
    )
    assert short.status_code == 400
    assert "description" in short.json()[0]["description"]
    too_long = await client.get(
        f"{O311}/requests.json",
        params={
            "jurisdiction_id": "63",
            "start_date": "2026-01-01T00:00:00Z",
            "end_date": "2026-06-01T00:00:00Z",
        },
    )
    assert too_long.status_code == 400


async def test_open311_client_creates_and_reads_requests(intake: Ctx) -> None:
    rt, client = intake.rt, intake.client
    form = {
        "api_key": API_KEY,
        "jurisdiction_id": "kalselprov.go.id",
        "service_code": "infrastruktur",
        "lat": "-3.3190",
        "long": "114.5920",
        "address_string": "Jl. Pramuka, Banjarmasin",
        "email": "budi@warga.example",
        "first_name": "Budi",
        "last_name": "Santoso",
        "description": "Jalan Pramuka berlubang besar di dekat jembatan, berbahaya.",
        "media_url": "https://foto.example/lubang.jpg",
    }
    created = await client.post(f"{O311}/requests.xml", data=form)
    assert created.status_code == 200, created.text
    tid = ET.fromstring(created.content).findtext("request/service_request_id")
    assert tid
    assert tid.startswith("LPR-")
    stored = await rt.db["complaints"].find_one({"_id": tid})
    assert stored["channel"] == "open311"
    assert stored["region_code"] == "63.71"
    assert stored["anonymous"] is False
    assert (await rt.db["reporters"].find_one({"_id": tid}))["name"] == "Budi Santoso"
    unverified = await client.get(f"{O311}/requests/{tid}.json", params={"jurisdiction_id": "63"})
    assert unverified.status_code == 404  # public only once verified
    await verified(intake, tid)

    one = (await client.get(f"{O311}/requests/{tid}.json", params={"jurisdiction_id": "63"})).json()
    assert one[0]["service_request_id"] == tid
    assert one[0]["status"] == "open"
    assert one[0]["service_code"] == "infrastruktur"
    assert one[0]["lat"] == pytest.approx(-3.319)
    assert "Budi" not in json.dumps(one)
    listed = ET.fromstring(
        (
            await client.get(
                f"{O311}/requests.xml",
                params={
                    "jurisdiction_id": "63",
                    "service_code": "infrastruktur",
                    "status": "open",
                },
            )
        ).content
    )
    assert tid in [r.findtext("service_request_id") for r in listed.findall("request")]
    closed = (
        await client.get(
            f"{O311}/requests.json", params={"jurisdiction_id": "63", "status": "closed"}
        )
    ).json()
    assert tid not in [r["service_request_id"] for r in closed]
    other_province = await client.get(
        f"{O311}/requests/{tid}.json", params={"jurisdiction_id": "73"}
    )
    assert other_province.status_code == 404


async def test_open311_address_only_and_confidential_requests(intake: Ctx) -> None:
    rt, client = intake.rt, intake.client
    created = await client.post(
        f"{O311}/requests.json",
        data={
            "api_key": API_KEY,
            "jurisdiction_id": "63",
            "service_code": "kesehatan",
            "address_string": "Jl. A. Yani Km 35, Banjarbaru",
            "description": "Puskesmas tutup pada jam pelayanan tanpa pemberitahuan.",
            "attribute[rahasia]": "true",
        },
    )
    assert created.status_code == 200, created.text
    tid = created.json()[0]["service_request_id"]
    stored = await rt.db["complaints"].find_one({"_id": tid})
    assert stored["region_code"] == "63.72"
    assert stored["confidential"] is True
    assert stored["anonymous"] is True  # no name given
    hidden = await client.get(f"{O311}/requests/{tid}.json", params={"jurisdiction_id": "63"})
    assert hidden.status_code == 404
    listed = (
        await client.get(
            f"{O311}/requests.json", params={"jurisdiction_id": "63", "service_request_id": tid}
        )
    ).json()
    assert listed == []


# -- SMS ----------------------------------------------------------------------------------


async def test_sms_report_reply_and_gateway_retry(
    intake: Ctx, stack_settings: StackSettings
) -> None:
    rt, client = intake.rt, intake.client
    denied = await client.post(
        "/sms/v1/inbound",
        json={"message_id": "x", "from": "+628123", "text": "LAPOR apa saja di sini"},
    )
    assert denied.status_code == 401
    auth = {"Authorization": f"Bearer {SMS_TOKEN}"}
    sender = f"+62812{uuid.uuid4().int % 10**7:07d}"
    msg = {
        "message_id": f"gw-{uuid.uuid4().hex[:8]}",
        "from": sender,
        "to": "1708",
        "text": "LAPOR 63.71 Lampu jalan di Jalan Sutoyo mati semua sejak kemarin.",
    }
    first = (await client.post("/sms/v1/inbound", json=msg, headers=auth)).json()
    assert first["outcome"] == "accepted"
    tid = first["tracking_id"]
    assert tid in first["reply"]
    again = (await client.post("/sms/v1/inbound", json=msg, headers=auth)).json()
    assert again["tracking_id"] == tid  # the gateway retried the same message
    stored = await rt.db["complaints"].find_one({"_id": tid})
    assert stored["channel"] == "sms"
    assert stored["region_code"] == "63.71"
    assert stored["anonymous"] is True
    default_region = (
        await client.post(
            "/sms/v1/inbound",
            headers=auth,
            json={
                **msg,
                "message_id": msg["message_id"] + "b",
                "text": "LAPOR banjir setinggi lutut di kompleks kami.",
            },
        )
    ).json()
    assert (await rt.db["complaints"].find_one({"_id": default_region["tracking_id"]}))[
        "region_code"
    ] == "63"

    cases = await TopicReader(stack_settings.kafka_bootstrap, topics.CASES).start()
    try:
        reply = (
            await client.post(
                "/sms/v1/inbound",
                headers=auth,
                json={
                    "message_id": msg["message_id"] + "r",
                    "from": sender.replace("+62", "0"),
                    "text": f"#{tid} sudah dua malam gelap gulita",
                },
            )
        ).json()
        assert reply["outcome"] == "taken_as_message"
        assert "PESAN" in reply["reply"]
        [event] = await cases.wait_for(
            lambda r: r.key == tid.encode() and b"case.reporter_messaged" in r.value
        )
        assert json.loads(event.value)["data"]["text"] == "sudah dua malam gelap gulita"
        assert sender.encode() not in event.value
        # before a follow-up SELESAI cannot be taken (the answer says why); after one, the
        # two keywords do what they say
        early = await sms_from(client, auth, sender, f"#{tid} SELESAI")
        assert early["outcome"] == "not_now"
        assert "Diterima, menunggu verifikasi" in early["reply"]
        await rt.db["complaints"].update_one({"_id": tid}, {"$set": {"status": "followed_up"}})
        missing = await sms_from(client, auth, sender, f"#{tid} BELUM")
        assert missing["outcome"] == "dispute_without_reason"
        disputed = await sms_from(client, auth, sender, f"#{tid} BELUM lampunya masih mati")
        assert disputed["outcome"] == "taken_as_dispute"
        accepted = await sms_from(client, auth, sender, f"#{tid} selesai, terima kasih")
        assert accepted["outcome"] == "taken_as_accept"
        assert "SELESAI" in accepted["reply"]
        found = await cases.wait_for(
            lambda r: (
                r.key == tid.encode()
                and (b"case.reporter_disputed" in r.value or b"case.reporter_accepted" in r.value)
            ),
            count=2,
        )
        kinds = [json.loads(r.value)["type"] for r in found]
        assert kinds == ["case.reporter_disputed", "case.reporter_accepted"]
        assert json.loads(found[0].value)["data"]["text"] == "lampunya masih mati"
    finally:
        await cases.stop()
    stranger = (
        await client.post(
            "/sms/v1/inbound",
            headers=auth,
            json={
                "message_id": msg["message_id"] + "s",
                "from": "+6289900000000",
                "text": f"#{tid} ini bukan laporan saya",
            },
        )
    ).json()
    assert stranger["outcome"] == "unknown_case"
    nonsense = (
        await client.post(
            "/sms/v1/inbound",
            headers=auth,
            json={"message_id": msg["message_id"] + "n", "from": sender, "text": "halo"},
        )
    ).json()
    assert nonsense["outcome"] == "unknown_format"
    assert "LAPOR <isi laporan>" in nonsense["reply"]


async def sms_from(
    client: httpx.AsyncClient, auth: dict[str, str], sender: str, text: str
) -> dict[str, Any]:
    answer = await client.post(
        "/sms/v1/inbound",
        headers=auth,
        json={"message_id": uuid.uuid4().hex, "from": sender, "text": text},
    )
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


# -- staff entry ---------------------------------------------------------------------------


async def test_staff_enter_offline_reports_within_their_province(intake: Ctx) -> None:
    rt, client = intake.rt, intake.client
    body = {**BODY, "channel": "walk_in", "reference": f"loket-{uuid.uuid4().hex[:6]}"}
    assert (await client.post("/api/v1/staff/complaints", json=body)).status_code == 401

    def token(role: str, tenant: str, **extra: str) -> dict[str, str]:
        return {
            "Authorization": "Bearer "
            + issue(DEV_SIGNING_KEY, subject="petugas-01", role=role, tenant=tenant, **extra)
        }

    ombudsman = await client.post(
        "/api/v1/staff/complaints", json=body, headers=token("ombudsman", "*")
    )
    assert ombudsman.status_code == 403
    elsewhere = await client.post(
        "/api/v1/staff/complaints",
        json={**body, "region_code": "73.71"},
        headers=token("province_coordinator", "63"),
    )
    assert elsewhere.status_code == 403
    ok = await client.post(
        "/api/v1/staff/complaints", json=body, headers=token("province_coordinator", "63")
    )
    assert ok.status_code == 202, ok.text
    tid = ok.json()["tracking_id"]
    again = await client.post(
        "/api/v1/staff/complaints", json=body, headers=token("province_coordinator", "63")
    )
    assert again.json()["tracking_id"] == tid
    assert again.json()["duplicate"] is True
    # the slip is the office's own: the same slip with other content is refused, and
    # another office's slip of the same number is another report
    other_text = await client.post(
        "/api/v1/staff/complaints",
        json={**body, "description": "Slip lain dengan nomor yang sama, isi yang berbeda."},
        headers=token("province_coordinator", "63"),
    )
    assert other_text.status_code == 409
    assert other_text.json()["errors"][0]["field"] == "reference"
    assert tid not in other_text.text
    office = await client.post(
        "/api/v1/staff/complaints",
        json=body,
        headers=token("agency_staff", "63", agency_id="63.71.pupr"),
    )
    assert office.status_code == 202
    assert office.json()["tracking_id"] != tid
    assert office.json()["duplicate"] is False
    stored = await rt.db["complaints"].find_one({"_id": tid})
    assert stored["channel"] == "walk_in"
    assert stored["entered_by"] == "petugas-01"
    box = await client.post(
        "/api/v1/staff/complaints",
        json={**BODY, "channel": "telepathy"},
        headers=token("agency_staff", "63", agency_id="63.71.pupr"),
    )
    assert box.status_code == 422
    assert box.json()["errors"][0]["field"] == "channel"


# -- attachments, secrets, public listing ----------------------------------------------------


async def test_attachments_are_stored_and_attached_by_their_handle(intake: Ctx) -> None:
    rt, client = intake.rt, intake.client
    session = {"X-Lapor-Upload-Key": uuid.uuid4().hex}
    png = photo()
    up = await client.post(
        "/api/v1/attachments", files={"file": ("lubang.png", png, "image/png")}, headers=session
    )
    assert up.status_code == 201, up.text
    meta = up.json()
    assert meta["content_type"] == "image/png"  # a photo is kept re-encoded, without metadata
    assert "ref" not in meta
    assert "gridfs" not in up.text
    created = await client.post(
        "/api/v1/complaints",
        json={**BODY, "attachments": [{"handle": meta["handle"]}]},
        headers=session,
    )
    assert created.status_code == 202, created.text
    tid, secret = created.json()["tracking_id"], created.json()["secret"]
    stored = await rt.db["complaints"].find_one({"_id": tid})
    assert stored["attachments"][0]["ref"].startswith("gridfs:")
    assert stored["attachments"][0]["sha256"] == meta["sha256"]
    # the reporter gets the file back through the report, and nobody else does
    mine = await client.get(
        f"/api/v1/complaints/{tid}/attachments/0", headers={"X-Lapor-Secret": secret}
    )
    assert mine.status_code == 200
    assert hashlib.sha256(mine.content).hexdigest() == meta["sha256"]
    assert mine.content[:8] == b"\x89PNG\r\n\x1a\n"
    small = await client.get(
        f"/api/v1/complaints/{tid}/attachments/0/thumbnail", headers={"X-Lapor-Secret": secret}
    )
    assert small.headers["content-type"] == "image/jpeg"
    assert small.headers["content-disposition"] == "inline"
    assert mine.headers["cache-control"] == "private, no-store"
    assert (await client.get(f"/api/v1/complaints/{tid}/attachments/0")).status_code == 404
    view = await client.get(f"/api/v1/complaints/{tid}", headers={"X-Lapor-Secret": secret})
    assert view.json()["attachments"] == [
        {"name": "lubang.png", "content_type": "image/png", "size": meta["size"]}
    ]
    exe = await client.post(
        "/api/v1/attachments",
        files={"file": ("x.exe", b"MZ...", "application/x-msdownload")},
        headers=session,
    )
    assert exe.status_code == 415
    big = await client.post(
        "/api/v1/attachments",
        files={"file": ("big.pdf", b"%PDF" + b"0" * (10 * 1024 * 1024), "application/pdf")},
        headers=session,
    )
    assert big.status_code == 413
    # a phone's photo is stored without its GPS position and device, at every door
    gps = await client.post(
        "/api/v1/staff/attachments",
        files={"file": ("rumah.jpg", phone_photo(), "image/jpeg")},
        headers={
            "Authorization": "Bearer "
            + issue(
                DEV_SIGNING_KEY,
                subject="p1",
                role="agency_staff",
                tenant="63",
                agency_id="63.71.pupr",
            )
        },
    )
    assert gps.status_code == 201, gps.text
    kept = await rt.db["fs.files"].find({"metadata.sha256": gps.json()["sha256"]}).to_list()
    assert len(kept) == 1
    for stored_file in kept:
        chunks = rt.db["fs.chunks"].find({"files_id": stored_file["_id"]}, sort=[("n", 1)])
        data = b"".join([c["data"] async for c in chunks])
        assert b"Exif" not in data
        assert b"PhoneMaker" not in data
        assert b"Pak Darto" not in data
        assert data[:2] == b"\xff\xd8"
    no_session = await client.post(
        "/api/v1/attachments", files={"file": ("lubang.png", png, "image/png")}
    )
    assert no_session.status_code == 400
    assert "X-Lapor-Upload-Key" in no_session.json()["detail_en"]
    too_many = await client.post(
        "/api/v1/complaints",
        json={**BODY, "attachments": [{"handle": meta["handle"]}] * 6},
        headers=session,
    )
    assert too_many.status_code == 422
    assert too_many.json()["errors"][0]["field"] == "attachments"


async def test_confidential_reports_need_the_secret_and_stay_out_of_listings(
    intake: Ctx,
) -> None:
    client = intake.client
    secret_case = (
        await client.post("/api/v1/complaints", json={**BODY, "confidential": True})
    ).json()
    public_case = (
        await client.post(
            "/api/v1/complaints",
            json={
                **BODY,
                "title": "Trotoar rusak di Jalan Lambung Mangkurat",
                "description": "Trotoar amblas dan membahayakan pejalan kaki di depan bank.",
            },
        )
    ).json()
    tid = secret_case["tracking_id"]
    assert (await client.get(f"/api/v1/complaints/{tid}")).status_code == 404
    assert (
        await client.get(f"/api/v1/complaints/{tid}", headers={"X-Lapor-Secret": "salah"})
    ).status_code == 404
    mine = await client.get(
        f"/api/v1/complaints/{tid}", headers={"X-Lapor-Secret": secret_case["secret"]}
    )
    assert mine.status_code == 200
    assert mine.json()["reporter"]["email"] == "rina@warga.example"
    await verified(intake, tid)
    await verified(intake, public_case["tracking_id"])
    assert (await client.get(f"/api/v1/complaints/{tid}")).status_code == 404  # verified too
    public = (await client.get(f"/api/v1/complaints/{public_case['tracking_id']}")).json()
    assert public["reporter"] is None
    listed = [
        c["tracking_id"]
        for c in (
            await client.get("/api/v1/complaints", params={"region_code": "63.71", "limit": 200})
        ).json()
    ]
    assert public_case["tracking_id"] in listed
    assert tid not in listed
    reply = await client.post(
        f"/api/v1/complaints/{tid}/replies",
        json={"text": "Kapan?"},
        headers={"X-Lapor-Secret": secret_case["secret"]},
    )
    assert reply.status_code == 202
    forged = await client.post(
        f"/api/v1/complaints/{tid}/replies", json={"text": "x"}, headers={"X-Lapor-Secret": "salah"}
    )
    assert forged.status_code == 404


async def test_repeat_reports_are_linked_and_flagged_on_the_case_log(
    intake: Ctx, stack_settings: StackSettings
) -> None:
    client = intake.client
    place = uuid.uuid4().hex[:6]
    first = (
        await client.post(
            "/api/v1/complaints",
            json={
                **BODY,
                "region_code": "63.09",
                "title": f"Jembatan {place} retak parah",
                "description": f"Jembatan gantung {place} di desa kami retak dan miring berbahaya.",
            },
        )
    ).json()
    cases = await TopicReader(stack_settings.kafka_bootstrap, topics.CASES).start()
    try:
        second = (
            await client.post(
                "/api/v1/complaints",
                json={
                    **BODY,
                    "region_code": "63.09",
                    "title": f"Jembatan gantung {place} miring",
                    "description": f"Jembatan {place} retak, miring dan berbahaya bagi warga.",
                },
            )
        ).json()
        assert second["repeat_of"] == first["tracking_id"]
        [event] = await cases.wait_for(lambda r: r.key == second["tracking_id"].encode())
        data = json.loads(event.value)["data"]
        assert data["repeat_of"] == first["tracking_id"]
        assert data["repeat_score"] >= 0.5
    finally:
        await cases.stop()
    unrelated = (
        await client.post(
            "/api/v1/complaints",
            json={
                **BODY,
                "region_code": "63.09",
                "title": "Gorong-gorong tersumbat",
                "description": "Saluran air di pasar tersumbat sampah plastik setiap hujan.",
            },
        )
    ).json()
    assert unrelated["repeat_of"] is None


# -- idempotency under concurrency -----------------------------------------------------------


async def test_same_idempotency_key_sent_at_once_yields_one_report(intake: Ctx) -> None:
    rt, client = intake.rt, intake.client
    key = f"app-{uuid.uuid4().hex}"
    answers = await asyncio.gather(
        *[
            client.post("/api/v1/complaints", json=BODY, headers={"Idempotency-Key": key})
            for _ in range(6)
        ]
    )
    assert {a.status_code for a in answers} == {202}
    ids = {a.json()["tracking_id"] for a in answers}
    assert len(ids) == 1
    assert {a.json()["secret"] for a in answers} == {answers[0].json()["secret"]}
    assert await rt.db["complaints"].count_documents({"external_id": key}) == 1


async def test_an_idempotency_key_reused_with_another_body_never_hands_over_the_report(
    intake: Ctx,
) -> None:
    client = intake.client
    key = f"app-{uuid.uuid4().hex}"
    confidential = {**BODY, "confidential": True, "title": "Pungutan liar di kantor camat"}
    first = await client.post(
        "/api/v1/complaints", json=confidential, headers={"Idempotency-Key": key}
    )
    assert first.status_code == 202
    other = await client.post("/api/v1/complaints", json=BODY, headers={"Idempotency-Key": key})
    assert other.status_code == 409
    assert first.json()["tracking_id"] not in other.text
    assert first.json()["secret"] not in other.text
    assert other.json()["detail_en"].startswith("This Idempotency-Key was already used")
    again = await client.post(
        "/api/v1/complaints", json=confidential, headers={"Idempotency-Key": key}
    )
    assert again.status_code == 202
    assert again.json()["tracking_id"] == first.json()["tracking_id"]
    assert again.json()["duplicate"] is True


async def test_same_channel_message_processed_twice_at_once_yields_one_report(
    intake: Ctx,
) -> None:
    rt = intake.rt
    ext = f"CRM-{uuid.uuid4().hex[:8]}"
    sub = ExternalSubmission.model_validate(
        {**BODY, "channel": "lapor-aa-banjarmasin", "external_id": ext}
    )
    intake_service = intake.service
    outcomes = await asyncio.gather(
        *[intake_service.submit_external([ExternalItem(sub, [])]) for _ in range(4)]
    )
    ids = {o.receipts[0].tracking_id for o in outcomes}
    assert len(ids) == 1
    assert sorted(o.receipts[0].duplicate for o in outcomes) == [False, True, True, True]
    assert await rt.db["complaints"].count_documents({"external_id": ext}) == 1


def intake_service_of(intake: Ctx) -> Any:
    rt = intake.rt
    return rt.services["intake"]


async def test_finished_and_confidential_reports_are_never_repeat_targets(intake: Ctx) -> None:
    client, rt = intake.client, intake.rt
    words = " ".join(uuid.uuid4().hex[:7] for _ in range(6))
    text = {"title": f"Pungli {words[:20]}", "description": f"Ada pungutan liar {words} di sini."}
    secret = await client.post("/api/v1/complaints", json={**BODY, **text, "confidential": True})
    assert secret.status_code == 202
    public = await client.post("/api/v1/complaints", json={**BODY, **text})
    assert public.json()["repeat_of"] is None
    assert secret.json()["tracking_id"] not in public.text
    shown = await client.get(f"/api/v1/complaints/{public.json()['tracking_id']}")
    assert secret.json()["tracking_id"] not in shown.text
    # the public one is open: a third copy is its repeat, until it is rated
    third = await client.post("/api/v1/complaints", json={**BODY, **text})
    assert third.json()["repeat_of"] == public.json()["tracking_id"]
    for tid in (public.json()["tracking_id"], third.json()["tracking_id"]):
        await rt.db["complaints"].update_one({"_id": tid}, {"$set": {"status": "rated"}})
    fourth = await client.post("/api/v1/complaints", json={**BODY, **text})
    assert fourth.json()["repeat_of"] is None


async def test_nul_and_control_characters_are_refused_at_every_door(intake: Ctx) -> None:
    client = intake.client
    json_api = await client.post("/api/v1/complaints", json={**BODY, "title": "Lampu\x00 mati"})
    assert json_api.status_code == 422
    [error] = json_api.json()["errors"]
    assert (error["field"], error["code"]) == ("title", "control_characters")
    assert "karakter kontrol" in error["message"]
    assert "control characters" in error["message_en"]
    email = await client.post(
        "/api/v1/complaints",
        json={**BODY, "reporter": {"name": "Rina", "email": "rina@wärga.example"}},
    )
    assert email.status_code == 422
    assert email.json()["errors"][0]["code"] == "email_not_ascii"
    open311 = await client.post(
        f"{O311}/requests.json",
        data={
            "api_key": API_KEY,
            "jurisdiction_id": "63",
            "service_code": "infrastruktur",
            "lat": "-3.3190",
            "long": "114.5920",
            "email": "budi@warga.example",
            "first_name": "Budi",
            "description": "Jalan berlubang\x00 besar di dekat jembatan, berbahaya.",
        },
    )
    assert open311.status_code == 400
    assert "description" in open311.json()[0]["description"]
    sms = await client.post(
        "/sms/v1/inbound",
        json={"message_id": "gw-nul", "from": "+6281234567", "text": "LAPOR 63.71 Lampu\x00 mati"},
        headers={"Authorization": f"Bearer {SMS_TOKEN}"},
    )
    assert sms.status_code == 422
    listed = await client.get(f"{O311}/requests.xml", params={"jurisdiction_id": "63"})
    ET.fromstring(listed.content)  # still well-formed XML
    one_line = await client.post(
        "/api/v1/complaints", json={**BODY, "title": "Lampu jalan\r\nmati total"}
    )
    tid, secret = one_line.json()["tracking_id"], one_line.json()["secret"]
    view = (
        await client.get(f"/api/v1/complaints/{tid}", headers={"X-Lapor-Secret": secret})
    ).json()
    assert view["title"] == "Lampu jalan mati total"


# -- places: the boundary decides, similar reports, supporters ---------------------------------


async def test_open311_lat_long_only_lands_in_the_regency_whose_boundary_holds_it(
    intake: Ctx,
) -> None:
    """400 m east of the Banjarmasin-Banjar border: the nearest seat is Banjarmasin's, the
    boundary says Kabupaten Banjar (and the report goes to Banjar's agencies). At sea, the
    request is refused in words, naming what is served."""
    client = intake.client
    form = {
        "api_key": API_KEY,
        "jurisdiction_id": "kalselprov.go.id",
        "service_code": "infrastruktur",
        "lat": "-3.34051",
        "long": "114.63408",
        "email": "budi@warga.example",
        "first_name": "Budi",
        "description": "Jalan desa berlubang di dekat perbatasan kota, berbahaya malam hari.",
    }
    created = await client.post(f"{O311}/requests.json", data=form)
    assert created.status_code == 200, created.text
    tid = created.json()[0]["service_request_id"]
    stored = await intake.rt.db["complaints"].find_one({"_id": tid})
    assert stored["region_code"] == "63.03"
    at_sea = await client.post(
        f"{O311}/requests.json", data={**form, "lat": "-5.0", "long": "112.0"}
    )
    assert at_sea.status_code == 400
    assert "Kalimantan Selatan" in at_sea.text  # names what is served


async def test_similar_reports_show_only_public_ones_and_a_supporter_counts_once(
    intake: Ctx, stack_settings: StackSettings
) -> None:
    client = intake.client
    place = uuid.uuid4().hex[:6]
    spot = {"lat": -3.3301, "lon": 114.6001}

    async def report(**extra: Any) -> str:
        body = {
            **BODY,
            "title": f"Lampu jalan mati di gang {place} {uuid.uuid4().hex[:4]}",
            "description": f"Lampu gang {place} {uuid.uuid4().hex} mati sejak seminggu.",
            "category": "infrastruktur",
            "location": spot,
            **extra,
        }
        body.pop("region_code")
        answer = await client.post("/api/v1/complaints", json=body)
        assert answer.status_code == 202, answer.text
        tid: str = answer.json()["tracking_id"]
        return tid

    public = await report()
    secret = await report(confidential=True)
    unverified = await report()
    far = await report(location={"lat": -3.36, "lon": 114.60})  # 3.3 km south
    for tid in (public, secret, far):
        await verified(intake, tid)
    near = await client.get(
        "/api/v1/complaints/similar",
        params={"category": "infrastruktur", "lat": -3.3305, "lon": 114.6005, "km": 1},
    )
    assert near.status_code == 200
    found = [r["tracking_id"] for r in near.json()]
    assert public in found
    assert secret not in found  # confidential: never
    assert unverified not in found  # not yet verified: never
    assert far not in found
    mine = next(r for r in near.json() if r["tracking_id"] == public)
    assert 0 < mine["distance_m"] < 100
    other = await client.get(
        "/api/v1/complaints/similar",
        params={"category": "kesehatan", "lat": -3.3305, "lon": 114.6005},
    )
    assert public not in [r["tracking_id"] for r in other.json()]
    by_region = await client.get(
        "/api/v1/complaints/similar",
        params={"category": "infrastruktur", "region_code": "63.71", "limit": 20},
    )
    assert secret not in [r["tracking_id"] for r in by_region.json()]

    cases = await TopicReader(stack_settings.kafka_bootstrap, topics.CASES).start()
    contacts = await TopicReader(stack_settings.kafka_bootstrap, topics.CONTACTS).start()
    try:
        join = {"email": f"dukung.{place}@warga.example", "notify_via": ["email"]}
        first = await client.post(
            f"/api/v1/complaints/{public}/supporters", json={**join, "key": "k" * 32}
        )
        assert first.status_code == 202, first.text
        assert first.json() == {"tracking_id": public, "supporters": 1, "joined": True}
        again = await client.post(
            f"/api/v1/complaints/{public}/supporters",
            json={**join, "email": join["email"].upper(), "key": "j" * 32},
        )
        assert again.json() == {"tracking_id": public, "supporters": 1, "joined": False}
        anonymous = await client.post(
            f"/api/v1/complaints/{public}/supporters", json={"key": "a" * 32}
        )
        assert anonymous.json()["supporters"] == 2
        [supported] = await cases.wait_for(
            lambda r: (
                r.key == public.encode()
                and b"case.supported" in r.value
                and b'"supporters":2' in r.value.replace(b" ", b"")
            )
        )
        [contact] = await contacts.wait_for(
            lambda r: r.key == public.encode() and b"supporter.contact" in r.value
        )
        data = json.loads(contact.value)["data"]
        assert data["email"] == join["email"]
        assert json.loads(supported.value)["data"]["supporters"] == 2
        assert join["email"].encode() not in supported.value  # the case log has no contact
    finally:
        await cases.stop()
        await contacts.stop()
    for tid in (secret, unverified):  # not public: "not found", as for an unknown one
        refused = await client.post(f"/api/v1/complaints/{tid}/supporters", json={"key": "b" * 32})
        assert refused.status_code == 404
    view = (await client.get(f"/api/v1/complaints/{public}")).json()
    assert view["supporters"] == 2
    assert view["location"] == {"lat": -3.33, "lon": 114.6, "address": None}  # to ~100 m
