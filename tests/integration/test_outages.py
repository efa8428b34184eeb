"""Intake under a store outage (503 + Retry-After, nothing lost) and a broker outage (queue in
the store, catch up). Each test runs its own broker or store process so that it can kill it."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from lapor_devstack.procs import Component, ProcessManager, free_port
from lapor_devstack.settings import StackSettings
from lapor_devstack.stack import infrastructure
from lapor_intake.main import build
from lapor_intake.settings import IntakeSettings
from lapor_schemas import topics
from tests.support import eventually, fast_settings

pytestmark = pytest.mark.integration

BODY: dict[str, Any] = {
    "title": "Air PDAM tidak mengalir",
    "description": "Air PDAM di kompleks kami tidak mengalir sudah tiga hari.",
    "category": "air-bersih",
    "region_code": "63.71",
    "anonymous": True,
}


class Own:
    """One infrastructure process of our own, to kill and restart."""

    def __init__(self, tmp: Path, which: int, settings: StackSettings) -> None:
        self.pm = ProcessManager(tmp)
        self.comp: Component = infrastructure(settings)[which]

    def start(self) -> None:
        self.pm.start(self.comp)
        self.pm.wait_ready(self.comp, 60)

    def kill(self) -> None:
        self.pm.resume(self.comp.name)
        self.pm.kill(self.comp.name)

    def freeze(self) -> None:
        self.pm.pause(self.comp.name)

    def thaw(self) -> None:
        self.pm.resume(self.comp.name)


@pytest.fixture
def own_settings(tmp_path: Path) -> StackSettings:
    return StackSettings(
        var_dir=tmp_path,
        kafka_port=free_port(),
        mongo_port=free_port(),
        smtp_port=free_port(),
        mail_http_port=free_port(),
    )


@pytest.fixture
def own_store(tmp_path: Path, own_settings: StackSettings) -> Iterator[Own]:
    (tmp_path / "data" / "secantusdb").mkdir(parents=True)
    store = Own(tmp_path, 1, own_settings)
    store.start()
    yield store
    store.kill()


@pytest.fixture
def own_broker(tmp_path: Path, own_settings: StackSettings) -> Iterator[Own]:
    broker = Own(tmp_path, 0, own_settings)
    broker.start()
    yield broker
    broker.kill()


async def test_store_outage_answers_503_with_retry_after_and_loses_nothing(
    infra: object, stack_settings: StackSettings, own_settings: StackSettings, own_store: Own
) -> None:
    settings = fast_settings(
        IntakeSettings, stack_settings, mongo_url=own_settings.mongo_url, mongo_timeout_ms=1500
    )
    app, rt = build(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:
            before = await client.post("/api/v1/complaints", json=BODY)
            assert before.status_code == 202

            own_store.kill()
            key = f"retry-{uuid.uuid4().hex}"
            down = await client.post(
                "/api/v1/complaints", json=BODY, headers={"Idempotency-Key": key}
            )
            assert down.status_code == 503
            assert down.headers["Retry-After"] == "5"
            assert "coba lagi" in down.json()["detail"]
            assert (await client.get("/health")).status_code == 503

            own_store.start()

            async def accepted() -> httpx.Response | None:
                again = await client.post(
                    "/api/v1/complaints", json=BODY, headers={"Idempotency-Key": key}
                )
                return again if again.status_code == 202 else None

            retried = await eventually(accepted, timeout=30, interval=0.5)
            complaints = rt.db["complaints"]
            assert await complaints.count_documents({"_id": retried.json()["tracking_id"]}) == 1
            assert await complaints.count_documents({"_id": before.json()["tracking_id"]}) == 1
            assert await complaints.count_documents({"external_id": key}) == 1


async def test_broker_outage_queues_in_the_store_and_catches_up(
    infra: object, stack_settings: StackSettings, own_settings: StackSettings, own_broker: Own
) -> None:
    settings = fast_settings(
        IntakeSettings, stack_settings, kafka_bootstrap=own_settings.kafka_bootstrap
    )
    app, rt = build(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:
            # The broker hangs (frozen, as a partitioned or overloaded Kafka would): it keeps
            # its data. (Killing Tansu would lose its in-memory topics; see the README.)
            own_broker.freeze()
            answers = [await client.post("/api/v1/complaints", json=BODY) for _ in range(3)]
            assert [a.status_code for a in answers] == [202, 202, 202]
            ids = {a.json()["tracking_id"] for a in answers}
            await asyncio.sleep(1.0)
            assert await rt.outbox.collection.count_documents({}) >= 3  # queued, not lost

            own_broker.thaw()
            seen = await _read_submitted(own_settings.kafka_bootstrap, ids, timeout=60)
            assert seen == ids
            assert await eventually(lambda: _outbox_empty(rt.outbox.collection), timeout=30)


async def _outbox_empty(collection: Any) -> bool:
    return await collection.count_documents({}) == 0


async def _read_submitted(bootstrap: str, ids: set[str], timeout: float) -> set[str]:
    consumer = AIOKafkaConsumer(
        topics.CASES,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        metadata_max_age_ms=500,
    )
    await consumer.start()
    seen: set[str] = set()
    try:
        async with asyncio.timeout(timeout):
            while seen != ids:
                batch = await consumer.getmany(timeout_ms=500)
                for records in batch.values():
                    for r in records:
                        event = json.loads(r.value)
                        if event["type"] == "complaint.submitted" and event["subject"] in ids:
                            seen.add(event["subject"])
    finally:
        await consumer.stop()
    return seen


async def test_a_frozen_store_gives_503_within_five_seconds_never_a_hang(
    infra: object, stack_settings: StackSettings, own_settings: StackSettings, own_store: Own
) -> None:
    """The store stops answering (SIGSTOP: connections stay open, nothing comes back, as a
    stalled primary would): every service's request path answers 503 + Retry-After within
    5 s, then works again once the store does."""
    import time

    from lapor_kit.auth import DEV_SIGNING_KEY, issue
    from lapor_notify.main import build as build_notify
    from lapor_notify.settings import NotifySettings
    from lapor_routing.main import build as build_routing
    from lapor_routing.settings import RoutingSettings

    intake_app, _ = build(
        fast_settings(IntakeSettings, stack_settings, mongo_url=own_settings.mongo_url)
    )
    routing_settings = fast_settings(
        RoutingSettings,
        stack_settings,
        mongo_url=own_settings.mongo_url,
        scheduler_interval_seconds=0,
    )
    routing_app, _ = build_routing(routing_settings)
    notify_app, _ = build_notify(
        fast_settings(NotifySettings, stack_settings, mongo_url=own_settings.mongo_url)
    )
    admin = issue(DEV_SIGNING_KEY, subject="a", role="national_admin", tenant="*")
    calls = [
        (intake_app, "POST", "/api/v1/complaints", {"json": BODY}),
        (intake_app, "GET", "/api/v1/complaints", {}),
        (routing_app, "GET", "/api/v1/inbox", {"headers": {"Authorization": f"Bearer {admin}"}}),
        (
            notify_app,
            "GET",
            "/api/v1/notifications",
            {
                "params": {"tracking_id": "LPR-ABCDEFGHJK"},
                "headers": {"Authorization": f"Bearer {admin}"},
            },
        ),
    ]
    async with (
        intake_app.router.lifespan_context(intake_app),
        routing_app.router.lifespan_context(routing_app),
        notify_app.router.lifespan_context(notify_app),
    ):
        clients = {
            id(app): httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://s")
            for app in (intake_app, routing_app, notify_app)
        }
        try:
            for app, method, path, kw in calls:
                ok = await clients[id(app)].request(method, path, **kw)
                assert ok.status_code < 300, (path, ok.text)
            own_store.freeze()
            try:
                for app, method, path, kw in calls:
                    started = time.monotonic()
                    frozen = await clients[id(app)].request(method, path, **kw)
                    took = time.monotonic() - started
                    assert frozen.status_code == 503, (path, frozen.text)
                    assert frozen.headers["Retry-After"] == "5"
                    assert took < 5.0, (path, took)
            finally:
                own_store.thaw()

            async def back() -> bool:
                r = await clients[id(intake_app)].post("/api/v1/complaints", json=BODY)
                return r.status_code == 202

            assert await eventually(back, timeout=30, interval=0.5)
        finally:
            for c in clients.values():
                await c.aclose()
