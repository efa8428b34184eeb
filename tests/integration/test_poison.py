"""Poison records on the real broker and store: each kind is followed by good records on the
same partition, and the good ones are handled within seconds; every poison record is
dead-lettered with its reason, and the dead letter fits on the topic."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from aiokafka import AIOKafkaProducer

from lapor_devstack.settings import StackSettings
from lapor_intake.domain.model import new_tracking_id
from lapor_intake.main import build as build_intake
from lapor_intake.settings import IntakeSettings
from lapor_kit.auth import DEV_SIGNING_KEY, issue
from lapor_routing.main import build as build_routing
from lapor_routing.settings import RoutingSettings
from lapor_schemas import topics
from tests import factories
from tests.support import TopicReader, eventually, fast_settings, signed

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

BODY: dict[str, Any] = {
    "type": "pengaduan",
    "title": "Drainase tersumbat di Jalan Veteran",
    "description": "Saluran drainase di Jalan Veteran tersumbat dan air meluap ke jalan.",
    "category": "infrastruktur",
    "region_code": "73.71",
    "reporter": {"name": "Andi Baso", "email": "andi@warga.example"},
}


async def send_all(bootstrap: str, records: list[tuple[bytes, bytes, list[Any]]]) -> None:
    """Publish in order on one producer that allows large records (the broker accepts them,
    as a careless or hostile producer would send them)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, max_request_size=8 * 1024 * 1024)
    await producer.start()
    try:
        for topic_value, key, headers in records:
            topic, value = topic_value.split(b"|", 1)
            await producer.send_and_wait(topic.decode(), value, key=key, headers=headers)
    finally:
        await producer.stop()


def deep(levels: int) -> bytes:
    return b"[" * levels + b"]" * levels


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def intake(infra: object, stack_settings: StackSettings) -> AsyncIterator[httpx.AsyncClient]:
    app, _ = build_intake(fast_settings(IntakeSettings, stack_settings))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:
            yield client


async def test_poison_records_on_the_intake_topic_never_block_the_good_ones(
    intake: httpx.AsyncClient, stack_settings: StackSettings
) -> None:
    bootstrap = stack_settings.kafka_bootstrap
    receipts = await TopicReader(bootstrap, topics.INTAKE_RECEIPTS).start()
    dlq = await TopicReader(bootstrap, topics.DLQ).start()
    run = uuid.uuid4().hex[:8]
    key = f"poison-{run}".encode()
    nested = deep(100_000)
    nested_in_field = (
        b'{"channel": "baruga-sulsel", "external_id": "x", "title": ' + deep(50_000) + b"}"
    )
    huge = json.dumps({**BODY, "description": "x" * 1_500_000}).encode()
    garbage = b"\xff\xfe\x00not json at all"
    poison = [nested, nested_in_field, huge, garbage]
    goods = []
    for n in range(5):
        raw = json.dumps(
            {**BODY, "channel": "baruga-sulsel", "external_id": f"BRG-{run}-{n}"}
        ).encode()
        goods.append((topics.INTAKE.encode() + b"|" + raw, key, signed("baruga-sulsel", raw)))
    try:
        started = time.monotonic()
        await send_all(
            bootstrap,
            [(topics.INTAKE.encode() + b"|" + p, key, signed("baruga-sulsel", p)) for p in poison]
            + goods,
        )
        mine = await receipts.wait_for(
            lambda r: (json.loads(r.value).get("external_id") or "").startswith(f"BRG-{run}-"),
            count=5,
            timeout=30,
        )
        elapsed = time.monotonic() - started
        assert {json.loads(r.value)["status"] for r in mine} == {"accepted"}
        assert elapsed < 20, f"good records waited {elapsed:.1f}s behind the poison"
        dead = await dlq.wait_for(
            lambda r: dict(r.headers).get(topics.DLQ_SOURCE_KEY) == key, count=4, timeout=30
        )
        by_reason = {dict(r.headers)[topics.DLQ_REASON].decode(): r for r in dead}
        reasons = " | ".join(by_reason)
        assert "too deeply nested" in reasons
        assert "too large" in reasons
        big = next(
            r for r in dead if dict(r.headers).get(topics.DLQ_ORIGINAL_BYTES) == b"%d" % len(huge)
        )
        headers = dict(big.headers)
        assert headers[topics.DLQ_TRUNCATED] == b"true"
        assert headers[topics.DLQ_ORIGINAL_SHA256].decode() == hashlib.sha256(huge).hexdigest()
        assert len(big.value) < 100 * 1024
        assert huge.startswith(big.value)
    finally:
        await receipts.stop()
        await dlq.stop()


async def test_junk_on_the_case_log_does_not_stop_routing(
    infra: object, stack_settings: StackSettings
) -> None:
    """2 MB of junk and a record nested 100,000 deep on ``lapor.cases.v1``, then a report on
    the same partition: routing dead-letters the junk and dispatches the report."""
    settings = fast_settings(RoutingSettings, stack_settings, scheduler_interval_seconds=0)
    app, _ = build_routing(settings)
    bootstrap = stack_settings.kafka_bootstrap
    dlq = await TopicReader(bootstrap, topics.DLQ).start()
    admin = issue(DEV_SIGNING_KEY, subject="admin", role="national_admin", tenant="*")
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://routing") as client:
            tid = new_tracking_id()
            event = factories.submitted(tid, **unique())
            cases = topics.CASES.encode() + b"|"
            try:
                await send_all(
                    bootstrap,
                    [
                        (cases + b"\x00" * 2_000_000, tid.encode(), []),
                        (cases + deep(100_000), tid.encode(), []),
                        (cases + event.model_dump_json().encode(), tid.encode(), []),
                    ],
                )

                async def dispatched() -> bool:
                    r = await client.get(
                        f"/api/v1/cases/{tid}", headers={"Authorization": f"Bearer {admin}"}
                    )
                    return r.status_code == 200 and r.json()["status"] == "dispatched"

                await eventually(dispatched, timeout=20)
                dead = await dlq.wait_for(
                    lambda r: (
                        dict(r.headers).get(topics.DLQ_SOURCE_KEY) == tid.encode()
                        and dict(r.headers).get(topics.DLQ_SERVICE) == b"lapor-routing"
                    ),
                    count=2,
                )
                assert all(len(r.value) <= 64 * 1024 for r in dead)
            finally:
                await dlq.stop()


def unique() -> dict[str, str]:
    words = " ".join(uuid.uuid4().hex[:7] for _ in range(6))
    return {"title": f"Jalan {words[:15]}", "description": f"Laporan {words} mohon dibantu."}


async def test_an_unroutable_case_is_parked_and_the_next_province_is_routed(
    infra: object, stack_settings: StackSettings
) -> None:
    """Kalsel's directory loses its coordinators (written past the API's validation, as an
    old deployment or a hand edit would): a Kalsel case is parked for a person, and a Sulsel
    case behind it on the same partition is dispatched. The API refuses the same directory
    with every missing coordinator named, and a rollback restores the shipped one."""
    settings = fast_settings(RoutingSettings, stack_settings, scheduler_interval_seconds=0)
    app, _ = build_routing(settings)
    bootstrap = stack_settings.kafka_bootstrap
    admin = {
        "Authorization": "Bearer "
        + issue(DEV_SIGNING_KEY, subject="admin-1", role="national_admin", tenant="*")
    }
    coordinator = {
        "Authorization": "Bearer "
        + issue(DEV_SIGNING_KEY, subject="k-63", role="province_coordinator", tenant="63")
    }
    async with app.router.lifespan_context(app):
        service = app.state.service
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://routing") as client:
            shipped = (await client.get("/api/v1/directory/63")).json()
            broken = {
                **shipped,
                "agencies": [a for a in shipped["agencies"] if a["role"] != "coordinator"],
            }
            refused = await client.put("/api/v1/directory/63", json=broken, headers=admin)
            assert refused.status_code == 422
            body = refused.json()
            assert body["code"] == "invalid_directory"
            missing = " ".join(e["message_en"] for e in body["errors"])
            assert "Region 63.71 has no coordinator" in missing
            assert "Region 63 has no coordinator" in missing
            empty = await client.put(
                "/api/v1/directory/63", json={**shipped, "agencies": []}, headers=admin
            )
            assert empty.status_code == 422

            from lapor_routing.domain.directory import DirectoryFile

            await service.store.save_directory(DirectoryFile.model_validate(broken), "hand-edit")
            await service.refresh_directory(force=True)

            kalsel, sulsel = new_tracking_id(), new_tracking_id()
            key = kalsel.encode()  # one key: one partition, Kalsel's case first
            cases = topics.CASES.encode() + b"|"
            await send_all(
                bootstrap,
                [
                    (
                        cases
                        + factories.submitted(kalsel, category="lainnya", **unique())
                        .model_dump_json()
                        .encode(),
                        key,
                        [],
                    ),
                    (
                        cases
                        + factories.submitted(sulsel, region="73.71", **unique())
                        .model_dump_json()
                        .encode(),
                        key,
                        [],
                    ),
                ],
            )

            async def status(tid: str) -> dict[str, Any] | None:
                r = await client.get(f"/api/v1/cases/{tid}", headers=admin)
                return r.json() if r.status_code == 200 else None

            async def routed() -> bool:
                s = await status(sulsel)
                return s is not None and s["status"] == "dispatched"

            await eventually(routed, timeout=20)
            parked = await status(kalsel)
            assert parked is not None
            assert parked["status"] == "submitted"
            assert parked["parked"]["label"].startswith("perlu penanganan manual")
            assert "coordinator" in parked["parked"]["reason"]
            inbox = await client.get("/api/v1/inbox?parked=true", headers=coordinator)
            assert [c["tracking_id"] for c in inbox.json()] == [kalsel]
            metrics = (await client.get("/metrics")).text
            assert 'lapor_routing_parked_total{province="63"} 1.0' in metrics

            versions = (await client.get("/api/v1/directory/63/versions", headers=admin)).json()
            assert [v["by"] for v in versions][:2] == ["hand-edit", "seed"]
            back = await client.post(
                "/api/v1/directory/63/rollback",
                json={"revision": versions[-1]["revision"]},
                headers=admin,
            )
            assert back.status_code == 200, back.text
            assert back.json()["note"] == f"rollback to revision {versions[-1]['revision']}"
            assert back.json()["by"] == "admin-1"
            # the coordinator dispatches the parked case by hand: the mark is cleared
            done = await client.post(
                f"/api/v1/cases/{kalsel}/verify", json={"note": "dicek"}, headers=coordinator
            )
            assert done.status_code == 200, done.text
            assert done.json()["status"] == "dispatched"
            assert done.json()["parked"] is None
