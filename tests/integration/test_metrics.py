"""Metrics in-process on the real broker and store, with a fixed clock: a known set of cases
gives exact values in ``/metrics`` and in the reports API, and replaying the topics into a
fresh store rebuilds the same numbers."""

from __future__ import annotations

import asyncio
import csv
import io
import random
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from lapor_devstack.settings import StackSettings
from lapor_kit.runtime import Runtime
from lapor_metrics.domain.counters import COUNTERS, HISTOGRAMS
from lapor_metrics.main import build
from lapor_metrics.settings import MetricsSettings
from lapor_schemas import topics
from tests import factories
from tests import metrics_scenario as scenario
from tests.support import eventually, fast_settings, publish

pytestmark = pytest.mark.integration
GAUGES = (
    "lapor_open_cases",
    "lapor_overdue_cases",
    "lapor_region_complaints_365d",
    "lapor_region_low_volume",
)
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@asynccontextmanager
async def metrics(stack: StackSettings) -> AsyncIterator[tuple[httpx.AsyncClient, Runtime, str]]:
    """A metrics instance of its own: own database, own consumer groups (so it reads both
    topics from the beginning, like a rebuild)."""
    suffix = f"-t{uuid.uuid4().hex[:6]}"
    settings = fast_settings(MetricsSettings, stack, kafka_group_suffix=suffix)
    app, rt = build(settings, clock=lambda: scenario.NOW)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://metrics") as client:
            yield client, rt, suffix


async def scrape(client: httpx.AsyncClient) -> Samples:
    text = (await client.get("/metrics")).text
    out: Samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


async def caught_up(client: httpx.AsyncClient, suffix: str) -> Samples:
    """Scrape until this instance has processed everything on both topics."""

    async def done() -> Samples | None:
        seen = await scrape(client)
        lags = {
            dict(labels)["topic"]: value
            for (name, labels), value in seen.items()
            if name == "lapor_consumer_lag_records" and dict(labels)["group"].endswith(suffix)
        }
        wanted = {topics.CASES, topics.NOTIFICATIONS}
        return seen if set(lags) >= wanted and not any(lags.values()) else None

    result: Samples = await eventually(done, timeout=60, interval=0.3)
    return result


async def publish_all(stack: StackSettings, events: list[Any]) -> None:
    for event in events:
        topic = topics.NOTIFICATIONS if event.type == "notification.outcome" else topics.CASES
        await publish(
            stack.kafka_bootstrap,
            topic,
            event.model_dump_json().encode(),
            key=event.subject.encode(),
        )


def tracking_prefix() -> str:
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    return "LPR-" + "".join(random.choice(alphabet) for _ in range(3))


async def test_exact_indicators_reports_and_a_replay_that_rebuilds_them(
    infra: object, stack_settings: StackSettings
) -> None:
    # something on both topics, so that a new consumer group has offsets to report
    warm = factories.submitted(f"{tracking_prefix()}0000000"[:14], region="63.05")
    await publish_all(stack_settings, [warm, scenario.notification(warm.subject)])
    events, ids = scenario.events(tracking_prefix())
    events.append(scenario.notification(ids["A"]))

    async with metrics(stack_settings) as (client, live, suffix):
        before = await caught_up(client, suffix)
        await publish_all(stack_settings, events)
        await publish_all(stack_settings, events[:5])  # redelivered: counted once

        async def moved() -> Samples | None:
            seen = await caught_up(client, suffix)
            key = (
                "lapor_complaints_received_total",
                (
                    ("channel", "web"),
                    ("province", "63"),
                    ("regency", "63.01"),
                    ("type", "pengaduan"),
                ),
            )
            return seen if seen.get(key, 0) > before.get(key, 0) else None

        after = await eventually(moved, timeout=60)
        wrong = {
            key: (expected, after.get(key, 0.0) - before.get(key, 0.0))
            for key, expected in scenario.EXPECTED.items()
            if after.get(key, 0.0) - before.get(key, 0.0) != expected
        }
        assert wrong == {}
        assert after[("lapor_dead_letter_topic_records", ())] >= 0

        march = {"province": "63", "from": "2025-03-01", "to": "2025-03-31"}
        ranking = (await client.get("/api/v1/reports/ranking", params=march)).json()
        assert ranking["from"] == "2025-03-01"
        top = [{k: r[k] for k in scenario.RANKING_TOP[0]} for r in ranking["rows"][:3]]
        assert top == scenario.RANKING_TOP
        speed = (await client.get("/api/v1/reports/speed", params=march)).json()["rows"]
        assert speed == scenario.SPEED
        low = (await client.get("/api/v1/reports/low-volume", params=march)).json()["rows"]
        assert len(low) == 13
        table = await client.get("/api/v1/reports/ranking", params={**march, "format": "csv"})
        assert table.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(table.text)))
        assert (rows[0]["rank"], rows[0]["region_code"], rows[0]["complaints"]) == (
            "1",
            "63.71",
            "3",
        )
        assert rows[0]["avg_follow_up_working_days"] == "1.0"
        assert len(rows) == 13
        themes = (await client.get("/api/v1/reports/categories", params=march)).json()["rows"]
        kota = next(r for r in themes if r["region_code"] == "63.71")
        assert kota["top_category"] == "infrastruktur"
        bad = await client.get("/api/v1/reports/ranking", params={**march, "from": "2025-04-01"})
        assert bad.status_code == 422
        assert (
            await client.get("/api/v1/reports/ranking", params={"province": "99"})
        ).status_code == 404
        malformed = await client.get("/api/v1/reports/ranking", params={"province": "Kalsel"})
        assert malformed.status_code == 422
        assert malformed.json()["errors"][0]["field"] == "province"
        assert "tidak valid" in malformed.json()["detail"]

        # A replay: a second instance with its own store and groups reads both topics from the
        # beginning; its numbers equal the live ones.
        async with metrics(stack_settings) as (rebuilt_client, rebuilt, rebuilt_suffix):
            await caught_up(rebuilt_client, rebuilt_suffix)
            assert await state(rebuilt) == await state(live)
            replayed = await scrape(rebuilt_client)
        families = (*COUNTERS, *HISTOGRAMS, *GAUGES)
        business = {
            k: v
            for k, v in after.items()
            if not k[0].endswith("_created") and k[0].startswith(families)
        }
        assert len(business) > len(scenario.EXPECTED)
        assert {k: replayed.get(k) for k in business} == business


async def state(rt: Runtime) -> tuple[list[Any], list[Any]]:
    counters = await rt.db["counters"].find({}, sort=[("_id", 1)]).to_list()
    cases = await rt.db["cases"].find({}, sort=[("_id", 1)]).to_list()
    return counters, cases


async def test_the_dead_letter_topic_is_counted_in_records_not_offsets(
    infra: object, stack_settings: StackSettings
) -> None:
    """Found: 47 dead letters read back showed as 15 (Tansu's offsets count batches)."""
    from aiokafka import AIOKafkaProducer

    async with metrics(stack_settings) as (client, _, _):

        async def counted() -> tuple[float] | None:
            value = (await scrape(client)).get(("lapor_dead_letter_topic_records", ()))
            return None if value is None else (value,)

        (before,) = await eventually(counted, timeout=30)
        producer = AIOKafkaProducer(bootstrap_servers=stack_settings.kafka_bootstrap, linger_ms=200)
        await producer.start()
        try:
            sent = [
                await producer.send(topics.DLQ, b'{"dead": %d}' % i, partition=0) for i in range(9)
            ]  # lingering: one batch on the broker
            await asyncio.gather(*sent)
        finally:
            await producer.stop()

        async def nine_more() -> tuple[float] | None:
            value = await counted()
            return value if value is not None and value[0] >= before + 9 else None

        assert await eventually(nine_more, timeout=30) == (before + 9,)
