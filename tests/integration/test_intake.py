"""Intake in-process on the real broker and store."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from pymongo.errors import DuplicateKeyError

from lapor_devstack.settings import StackSettings
from lapor_intake.adapters.store import MongoComplaintStore
from lapor_intake.main import build
from lapor_intake.settings import IntakeSettings
from lapor_kit.runtime import Runtime
from lapor_kit.settings import KitSettings
from lapor_schemas import topics
from tests.factories import dispatched
from tests.support import TopicReader, eventually, fast_settings, publish, signed

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

BODY: dict[str, Any] = {
    "type": "pengaduan",
    "title": "Jalan berlubang di Jalan Pramuka",
    "description": "Jalan Pramuka dekat jembatan berlubang besar dan membahayakan.",
    "category": "infrastruktur",
    "region_code": "63.71",
    "reporter": {"name": "Siti Rahmah", "email": "siti.rahmah@warga.example"},
}


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def intake(
    tmp_path_factory: pytest.TempPathFactory, infra: object, stack_settings: StackSettings
) -> AsyncIterator[tuple[FastAPI, Runtime, httpx.AsyncClient]]:
    settings = fast_settings(IntakeSettings, stack_settings)
    app, rt = build(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:
            yield app, rt, client


@pytest.fixture
def bootstrap(stack_settings: StackSettings) -> str:
    return stack_settings.kafka_bootstrap


async def test_submission_is_stored_then_published_without_identity(
    intake: tuple[FastAPI, Runtime, httpx.AsyncClient], bootstrap: str, kit_settings: KitSettings
) -> None:
    _, rt, client = intake
    cases = await TopicReader(bootstrap, topics.CASES).start()
    contacts = await TopicReader(bootstrap, topics.CONTACTS).start()
    try:
        resp = await client.post("/api/v1/complaints", json=BODY)
        assert resp.status_code == 202, resp.text
        tid = resp.json()["tracking_id"]
        stored = await rt.db["complaints"].find_one({"_id": tid})
        assert stored is not None
        assert stored["status"] == "submitted"
        assert "siti" not in json.dumps(stored, default=str).lower()
        identity = await rt.db["reporters"].find_one({"_id": tid})
        assert identity is not None
        assert identity["email"] == "siti.rahmah@warga.example"

        [event] = await cases.wait_for(lambda r: r.key == tid.encode())
        body = json.loads(event.value)
        assert body["type"] == "complaint.submitted"
        assert body["tenant"] == "63"
        assert body["data"]["region_code"] == "63.71"
        assert b"siti" not in event.value.lower()
        [contact] = await contacts.wait_for(lambda r: r.key == tid.encode())
        assert json.loads(contact.value)["data"]["email"] == "siti.rahmah@warga.example"
    finally:
        await cases.stop()
        await contacts.stop()


async def test_invalid_submission_gets_field_errors_in_both_languages(
    intake: tuple[FastAPI, Runtime, httpx.AsyncClient],
) -> None:
    _, _, client = intake
    body = {**BODY, "title": "Hi", "category": "sihir", "reporter": {"name": "Siti"}}
    resp = await client.post("/api/v1/complaints", json=body)
    assert resp.status_code == 422
    errors = {e["field"]: e for e in resp.json()["errors"]}
    assert errors["title"]["message"] == "terlalu pendek (minimal 5 karakter)"
    assert errors["title"]["message_en"] == "is too short (at least 5 characters)"
    # the catalogue check runs once the body is well-formed
    resp = await client.post("/api/v1/complaints", json={**BODY, "category": "sihir"})
    assert resp.status_code == 422
    [error] = resp.json()["errors"]
    assert error["field"] == "category"
    assert error["code"] == "unknown_category"
    resp = await client.post(
        "/api/v1/complaints", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert resp.status_code == 422
    assert resp.json()["errors"][0]["code"] == "json_invalid"


async def test_channel_messages_get_receipts_duplicates_reuse_ids_and_junk_is_dead_lettered(
    intake: tuple[FastAPI, Runtime, httpx.AsyncClient], bootstrap: str
) -> None:
    receipts = await TopicReader(bootstrap, topics.INTAKE_RECEIPTS).start()
    dlq = await TopicReader(bootstrap, topics.DLQ).start()
    ext = f"BRG-{uuid.uuid4().hex[:8]}"
    message = {**BODY, "channel": "baruga-sulsel", "external_id": ext, "region_code": "73.71"}
    junk = b'{"channel": "baruga-sulsel", "external_id": "' + ext.encode() + b'-x", "title": 7}'
    try:
        raw = json.dumps(message).encode()
        sig = signed("baruga-sulsel", raw)
        await publish(bootstrap, topics.INTAKE, raw, key=b"brg", headers=sig)
        await publish(bootstrap, topics.INTAKE, raw, key=b"brg", headers=sig)
        await publish(
            bootstrap, topics.INTAKE, junk, key=b"brg", headers=signed("baruga-sulsel", junk)
        )
        mine = await receipts.wait_for(
            lambda r: json.loads(r.value)["external_id"] in (ext, ext + "-x"), count=3
        )
        by_status = [json.loads(r.value) for r in mine]
        accepted = [r for r in by_status if r["status"] == "accepted"]
        rejected = [r for r in by_status if r["status"] == "rejected"]
        assert len(accepted) == 2
        assert accepted[0]["tracking_id"] == accepted[1]["tracking_id"]
        assert [r["duplicate"] for r in accepted] == [False, True]
        assert rejected[0]["external_id"] == ext + "-x"
        assert {e["field"] for e in rejected[0]["errors"]} >= {"title", "description"}

        [dead] = await dlq.wait_for(lambda r: r.value == junk)
        headers = {k: v.decode() for k, v in dead.headers}
        assert headers[topics.DLQ_SOURCE_TOPIC] == topics.INTAKE
        assert headers[topics.DLQ_SERVICE] == "lapor-intake"
        assert "title" in headers[topics.DLQ_REASON]
    finally:
        await receipts.stop()
        await dlq.stop()


async def test_case_log_events_update_the_status_view_once(
    intake: tuple[FastAPI, Runtime, httpx.AsyncClient], bootstrap: str
) -> None:
    _, _, client = intake
    answer = (await client.post("/api/v1/complaints", json=BODY)).json()
    tid = answer["tracking_id"]
    # before its verification a report is not public
    assert (await client.get(f"/api/v1/complaints/{tid}")).status_code == 404
    event = dispatched(tid, agency_name="Dinas PUPR Kota Banjarmasin")
    raw = event.model_dump_json().encode()
    await publish(bootstrap, topics.CASES, raw, key=tid.encode())
    await publish(bootstrap, topics.CASES, raw, key=tid.encode())  # redelivery

    async def is_dispatched() -> dict[str, Any] | None:
        view = (await client.get(f"/api/v1/complaints/{tid}")).json()  # public once verified
        return view if view.get("status") == "dispatched" else None

    view = await eventually(is_dispatched)
    assert view["agency"] == {
        "id": "63.71.pupr",
        "name": "Dinas PUPR Kota Banjarmasin",
        "region_code": "63.71",
    }
    assert [h["status"] for h in view["history"]] == ["submitted", "dispatched"]
    missing = await client.get("/api/v1/complaints/LPR-0000000000")
    assert missing.status_code == 404


async def test_channel_keys_of_reports_stored_before_they_carried_them_are_backfilled(
    stack_settings: StackSettings, infra: object
) -> None:
    rt = Runtime(fast_settings(IntakeSettings, stack_settings), "intake")
    store = MongoComplaintStore(rt)
    try:
        await rt.db["complaints"].insert_many(
            [
                {"_id": "LPR-OLD0000001", "channel_id": "baruga-sulsel", "external_id": "B-1"},
                {"_id": "LPR-OLD0000002", "channel_id": None, "external_id": None},
            ]
        )
        assert await store.external_ids([("baruga-sulsel", "B-1")]) == {}
        await store.ensure_indexes()
        known = await store.external_ids([("baruga-sulsel", "B-1"), ("baruga-sulsel", "B-2")])
        assert known == {("baruga-sulsel", "B-1"): "LPR-OLD0000001"}
        assert await rt.db["migrations"].count_documents({"_id": "channel_key"}) == 1
        # the key is unique now: the same report again is refused by the store
        with pytest.raises(DuplicateKeyError):
            await rt.db["complaints"].insert_one(
                {"_id": "LPR-NEW0000001", "channel_key": "baruga-sulsel|B-1"}
            )
    finally:
        await rt.mongo.drop_database(rt.db.name)
        await rt.mongo.close()


async def test_the_running_intake_suggests_a_category_and_counts_it(
    intake: tuple[FastAPI, Runtime, httpx.AsyncClient],
) -> None:
    _, _, client = intake
    from lapor_intake import triage

    await asyncio.to_thread(triage.default)  # intake builds it at start, in a thread
    before = (await client.get("/metrics")).text
    line = 'lapor_triage_suggestions_total{category="air-bersih",model="committed"}'
    assert f"{line} 0.0" in before  # at 0 from the start
    found = await client.post(
        "/api/v1/complaints/suggest",
        json={"title": "Air mati", "description": "air pdam ga ngalir udh 3 hari"},
    )
    assert found.status_code == 200
    assert found.json()["categories"][0]["code"] == "air-bersih"
    metrics = (await client.get("/metrics")).text
    assert f"{line} 1.0" in metrics
    assert 'lapor_triage_agreement_ratio{model="committed"}' in metrics
    # the store answers the agreement query (SecantusDB too: $expr)
    from lapor_intake import triage

    await asyncio.to_thread(triage.default)  # built: the next report carries a suggestion
    app, _, _ = intake
    made = await client.post(
        "/api/v1/complaints",
        json={**BODY, "description": f"Jalan berlubang besar ({uuid.uuid4().hex[:6]})"},
    )
    assert made.status_code == 202
    per_model = await app.state.service.store.suggestion_agreement(
        datetime.now(UTC) - timedelta(days=1)
    )
    # the report was suggested by the committed model (no province model in this test)
    agreeing, total = per_model["committed"]
    assert total >= 1
    assert 0 <= agreeing <= total
    stored = await app.state.service.store.complaints.find_one({"_id": made.json()["tracking_id"]})
    assert stored["suggestion_model"] == "committed"
    metrics = (await client.get("/metrics")).text
    assert f'lapor_triage_agreement_ratio{{model="committed"}} {agreeing / total}' in metrics


async def test_a_corrected_category_becomes_an_example_and_a_retrain_records_its_decision(
    intake: tuple[FastAPI, Runtime, httpx.AsyncClient], bootstrap: str
) -> None:
    from lapor_schemas import CaseRecategorised, RecategorisedData
    from lapor_schemas.events import Actor

    app, rt, client = intake
    body = {
        **BODY,
        "title": "Air mati di kompleks",
        "description": f"air pdam ga ngalir udh 3 hari ({uuid.uuid4().hex[:6]})",
    }
    tid = (await client.post("/api/v1/complaints", json=body)).json()["tracking_id"]
    event = CaseRecategorised(
        source="lapor-routing",
        tenant="63",
        subject=tid,
        correlation_id=tid,
        data=RecategorisedData(
            tracking_id=tid,
            status="submitted",
            at=datetime.now(UTC),
            actor=Actor(kind="staff", role="province_coordinator"),
            category="air-bersih",
            previous_category=body["category"],
        ),
    )
    await publish(bootstrap, topics.CASES, event.model_dump_json().encode(), key=tid.encode())

    async def kept() -> dict[str, Any] | None:
        found: dict[str, Any] | None = await rt.db["triage_examples"].find_one({"_id": event.id})
        return found

    example = await eventually(kept)
    assert example["category"] == "air-bersih"
    assert "ga ngalir" in example["text"]
    assert example["province"] == "63"
    # corrections that teach (Kalsel: the samsat's queues are "another service", not
    # health) and corrections that are wrong (Sulsel: water reports "corrected" to social aid)
    from lapor_intake import triage

    samsat = [
        "Pelayanan samsat lambat, antrean pajak kendaraan dari pagi sampai sore",
        "antri di samsat lama bgt, loket cuma 1 yg buka",
        "Samsat keliling tidak datang sesuai jadwal ke kecamatan kami",
        "bayar pajak motor di samsat ribet dan lama",
        "Petugas samsat meminta biaya tambahan untuk balik nama kendaraan",
    ]
    water = [e.text for e in triage.labelled() if e.category == "air-bersih"]
    service = app.state.service
    await service.store.save_corrections(
        [triage.Correction(f"s{i}", "63", "lainnya", "kesehatan", t) for i, t in enumerate(samsat)]
        + [triage.Correction(f"w{i}", "73", "bansos", "air-bersih", t) for i, t in enumerate(water)]
    )
    probe = "antrean perpanjangan stnk di samsat lama sekali"
    before = dict(service.triage_model("63").suggest(probe))["lainnya"]
    decisions = {d.province: d for d in await service.retrain_triage()}
    assert decisions["63"].accepted  # at least as good on the held-out reports
    assert decisions["63"].examples >= 6  # the event's correction and the five
    assert not decisions["73"].accepted  # worse: refused, the committed model stays
    assert service.triage_model("73") is triage.default()
    after = dict(service.triage_model("63").suggest(probe))["lainnya"]
    assert after > before  # the next suggestion is better
    recorded = await rt.db["triage_models"].find_one({"_id": "73"})
    assert recorded is not None
    assert recorded["accepted"] is False


async def test_a_decline_that_ends_at_an_agency_of_another_category_teaches_the_suggester(
    intake: tuple[FastAPI, Runtime, httpx.AsyncClient], bootstrap: str
) -> None:
    from lapor_schemas import CaseDeclined
    from lapor_schemas.events import Actor, AgencyRef, TransitionData

    _, rt, client = intake
    body = {**BODY, "title": "Air keruh", "description": f"air ledeng keruh ({uuid.uuid4().hex})"}
    tid = (await client.post("/api/v1/complaints", json=body)).json()["tracking_id"]
    now = datetime.now(UTC)
    declined = CaseDeclined(
        source="lapor-routing",
        tenant="63",
        subject=tid,
        correlation_id=tid,
        data=TransitionData(
            tracking_id=tid,
            status="declined",
            at=now,
            actor=Actor(kind="staff", role="agency_staff"),
            reason="Bukan wewenang kami",
        ),
    )
    moved = dispatched(tid, agency_id="63.71.pdam", agency_name="PDAM", time=now)
    pdam = AgencyRef(id="63.71.pdam", name="PDAM", region_code="63.71", categories=["air-bersih"])
    moved = moved.model_copy(update={"data": moved.data.model_copy(update={"agency": pdam})})
    for event in (declined, moved):
        raw = event.model_dump_json().encode()
        await publish(bootstrap, topics.CASES, raw, key=tid.encode())

    async def kept() -> dict[str, Any] | None:
        found: dict[str, Any] | None = await rt.db["triage_examples"].find_one({"_id": moved.id})
        return found

    example = await eventually(kept)
    assert (example["category"], example["previous"]) == ("air-bersih", "infrastruktur")
