"""Metrics' domain and service layer with an in-memory store: a known set of cases gives
exact values for every indicator, in Prometheus and in the reports."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from lapor_kit.idempotency import AlreadyStoredError
from lapor_metrics.domain import reports
from lapor_metrics.domain.counters import COUNTERS, Bump, agency_level, fold
from lapor_metrics.service import MetricsService
from tests import metrics_scenario as scenario


class FakeStore:
    def __init__(self) -> None:
        self.processed: set[str] = set()
        self.cases_: dict[str, dict[str, Any]] = {}
        self.values: dict[str, dict[str, Any]] = {}
        self.updates = 0
        self.counter_reads = 0
        self.written: list[list[str]] = []
        self.read: list[list[str]] = []

    async def unseen(self, event_ids: Sequence[str]) -> set[str]:
        return set(event_ids) - self.processed

    async def cases(self, tracking_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        self.read.append(list(tracking_ids))
        return {t: dict(self.cases_[t]) for t in tracking_ids if t in self.cases_}

    async def apply(
        self, event_ids: Sequence[str], cases: Sequence[dict[str, Any]], bumps: Sequence[Bump]
    ) -> None:
        if self.processed & set(event_ids):
            raise AlreadyStoredError("processed_events")
        self.processed.update(event_ids)
        self.written.append([c["_id"] for c in cases])
        for c in cases:
            self.cases_[c["_id"]] = dict(c)
        self.updates += len(bumps)
        for b in bumps:
            doc = self.values.setdefault(b.key, {"metric": b.metric, "labels": dict(b.labels)})
            for field, amount in b.fields.items():
                doc[field] = doc.get(field, 0.0) + amount

    async def counters(self) -> list[dict[str, Any]]:
        self.counter_reads += 1
        return [dict(v) for v in self.values.values()]

    async def open_cases(self) -> list[dict[str, Any]]:
        return [c for c in self.cases_.values() if reports.is_open(c)]

    async def volume_since(self, since: datetime) -> dict[str, int]:
        out: dict[str, int] = {}
        for c in self.cases_.values():
            if c["submitted_at"] >= since:
                out[c["regency"]] = out.get(c["regency"], 0) + 1
        return out

    async def submissions_since(self, since: datetime) -> list[dict[str, Any]]:
        return [c for c in self.cases_.values() if c["submitted_at"] >= since]

    async def cases_between(
        self, province: str, start: datetime, end: datetime
    ) -> list[dict[str, Any]]:
        return [
            c
            for c in self.cases_.values()
            if c["province"] == province and start <= c["submitted_at"] < end
        ]


def scrape(service: MetricsService) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    registry = CollectorRegistry()
    registry.register(service.collector())
    out = {}
    for family in text_string_to_metric_families(generate_latest(registry).decode()):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


async def loaded(events: list[Any] | None = None) -> tuple[MetricsService, FakeStore, list[Any]]:
    store = FakeStore()
    service = MetricsService(store, clock=lambda: scenario.NOW)
    if events is None:
        events, ids = scenario.events()
        events.append(scenario.notification(ids["A"]))
    await service.handle(events[:7])
    await service.handle(events[7:])
    await service.refresh()
    return service, store, events


async def test_every_indicator_has_its_exact_value_in_prometheus() -> None:
    service, _, _ = await loaded()
    seen = scrape(service)
    wrong = {k: (v, seen.get(k)) for k, v in scenario.EXPECTED.items() if seen.get(k, 0.0) != v}
    assert wrong == {}
    low = {k[1][1][1] for k, v in seen.items() if k[0] == "lapor_region_low_volume" and v == 1}
    assert "63.71" in low  # 3 complaints a year is far under 50
    assert len([k for k in seen if k[0] == "lapor_region_low_volume"]) == 13 + 7 + 24


async def test_redelivered_events_do_not_count_twice() -> None:
    service, _, events = await loaded()
    before = scrape(service)
    assert await service.handle(events) == 0
    assert await service.handle(events[3:9] + events[3:9]) == 0
    await service.refresh()
    assert scrape(service) == before
    # and a batch holding the same event twice counts it once
    again, _, _ = await loaded(events[:3] + events[:3] + events[3:])
    assert scrape(again) == before


async def test_the_reports_rank_regions_and_compare_levels() -> None:
    _, store, _ = await loaded()
    cases = list(store.cases_.values())
    rows = reports.ranking(cases, "63", scenario.NOW)
    top = [{k: r[k] for k in scenario.RANKING_TOP[0]} for r in rows[:3]]
    assert top == scenario.RANKING_TOP
    assert rows[0]["summary"] == (
        "Kota Banjarmasin: 3 pengaduan, tindak lanjut rata-rata 1.0 hari kerja"
    )
    assert [r["complaints"] for r in rows[3:]] == [0] * 10
    assert len(reports.low_volume(cases, "63")) == 13
    assert [r["region_code"] for r in reports.low_volume(cases, "63", threshold=2)] == [
        r["region_code"] for r in rows if r["complaints"] < 2
    ]
    assert reports.speed_by_level(cases, scenario.NOW) == scenario.SPEED
    kota = next(r for r in reports.category_map(cases, "63") if r["region_code"] == "63.71")
    assert kota["top_category"] == "infrastruktur"
    assert [(c["category"], c["complaints"]) for c in kota["categories"]] == [
        ("infrastruktur", 2),
        ("kesehatan", 1),
    ]


def test_labels_are_bounded_and_levels_come_from_directory_ids() -> None:
    for _, labels in COUNTERS.values():
        assert "tracking_id" not in labels
        assert "title" not in labels
    assert agency_level("63.71.pupr") == "regency"
    assert agency_level("63.pupr") == "province"
    assert agency_level("00.ombudsman") == "national"
    events, _ = scenario.events()
    assert fold(None, events[1]) == (None, [])  # no submission seen: nothing to fold into


def test_a_case_waiting_for_the_reporters_details_is_not_late_for_verification() -> None:
    events, _ = scenario.events()
    d_submitted = next(e for e in events if e.subject.endswith("D" + "0" * 6))
    doc, _ = fold(None, d_submitted)
    assert doc is not None
    assert reports.overdue(doc, scenario.NOW)  # past its verification deadline
    waiting = {**doc, "status": "needs_info"}
    assert not reports.overdue(waiting, scenario.NOW)
    sla = reports.Sla()
    reports.verify_sla(waiting, scenario.NOW, sla)
    assert (sla.met, sla.missed, sla.pending) == (0, 0, 1)
    assert reports.backlog([waiting], scenario.NOW) == {("63", "63.72", "reply"): (1, 0)}


def test_a_hotspot_is_three_times_the_usual_week_of_one_category_in_one_region() -> None:
    from datetime import UTC, timedelta

    now = datetime(2026, 11, 30, 12, tzinfo=UTC)

    def cases(regency: str, category: str, days_ago: list[float]) -> list[dict[str, Any]]:
        return [
            {
                "province": regency[:2],
                "regency": regency,
                "category": category,
                "submitted_at": now - timedelta(days=d),
            }
            for d in days_ago
        ]

    history = [8 + 4 * i for i in range(12)]  # 12 in the 8 weeks before: 1.5 a week
    found = (
        cases("63.71", "infrastruktur", [1, 2, 2.5, 3, 5, 6, *history])  # 6 vs 1.5: 4x
        + cases("63.71", "air-bersih", [1, 2, 3, 4] + [10 + 3 * i for i in range(16)])  # 4 vs 2
        + cases("63.02", "bansos", [1, 2])  # 2 from nothing: under the minimum of 3
        + cases("63.03", "kesehatan", [1, 1.5, 2])  # 3 from nothing
        + cases("73.71", "infrastruktur", [1, 2, 3, 4])  # another province
        + cases("63.04", "pendidikan", [70, 71, 72, 73])  # older than the 8 weeks
    )
    rows = reports.hotspots(found, "63", now)
    assert [(r["region_code"], r["category_code"]) for r in rows] == [
        ("63.03", "kesehatan"),  # a rise from nothing first
        ("63.71", "infrastruktur"),
    ]
    assert rows[1]["this_week"] == 6
    assert rows[1]["weekly_average"] == 1.5
    assert rows[1]["ratio"] == 4.0
    weeks = reports.category_weeks(found, now)
    assert weeks[("63", "63.71", "air-bersih")] == (4, 2.0)
    assert ("63.04", "pendidikan") not in {k[1:] for k in weeks}


async def test_a_histogram_observation_is_one_store_update_and_old_shapes_still_count() -> None:
    events, _ = scenario.events()
    verified = next(i for i, e in enumerate(events) if e.type == "case.verified")
    store = FakeStore()
    service = MetricsService(store, clock=lambda: scenario.NOW)
    await service.handle(events[:verified])
    before = store.updates
    await service.handle([events[verified]])
    # the verification: screened, verified, and the time-to-verify histogram (11 buckets, a
    # sum and a count in one document)
    assert store.updates - before == 3
    await service.refresh()
    now = scrape(service)
    # a series stored one bucket per document (before this shape) adds to the new one
    labels = dict(next(d["labels"] for d in store.values.values() if "count" in d))
    legacy = [
        {"metric": "lapor_time_to_verify_seconds_bucket", "labels": {**labels, "le": "+Inf"}},
        {"metric": "lapor_time_to_verify_seconds_count", "labels": labels},
    ]
    for i, doc in enumerate(legacy):
        store.values[f"legacy{i}"] = {**doc, "value": 2.0}
    await service.refresh()
    then = scrape(service)
    for name in ("lapor_time_to_verify_seconds_bucket", "lapor_time_to_verify_seconds_count"):
        key = next(
            k
            for k in now
            if k[0] == name
            and dict(k[1]).get("le", "+Inf") == "+Inf"
            and dict(k[1])["regency"] == labels["regency"]
        )
        assert then[key] == now[key] + 2.0


async def test_a_batch_reads_back_no_case_it_opens_and_rewrites_no_unchanged_projection() -> None:
    from lapor_schemas import ReporterReplied
    from lapor_schemas.events import ReplyData

    events, _ = scenario.events()
    store = FakeStore()
    service = MetricsService(store, clock=lambda: scenario.NOW)
    first = events[0]
    assert first.type == "complaint.submitted"
    await service.handle([first])
    assert store.read == [[]]  # opened by the batch itself
    assert store.written == [[first.subject]]
    reply = ReporterReplied(
        source="lapor-intake",
        tenant=first.tenant,
        subject=first.subject,
        correlation_id=first.subject,
        data=ReplyData(
            tracking_id=first.subject, text="Terima kasih", channel="web", replied_at=scenario.NOW
        ),
    )
    await service.handle([reply])
    assert store.read[-1] == [first.subject]
    assert store.written[-1] == []  # the reply changes nothing metrics keeps


async def test_scrapes_share_one_reading_of_the_store_within_the_refresh_interval() -> None:
    events, _ = scenario.events()
    store = FakeStore()
    clock = [0.0]
    service = MetricsService(
        store, clock=lambda: scenario.NOW, refresh_seconds=5.0, monotonic=lambda: clock[0]
    )
    await service.handle(events[:1])
    await asyncio.gather(*(service.refresh() for _ in range(5)))  # five scrapes at once
    assert store.counter_reads == 1
    first = scrape(service)
    await service.handle(events[1:])
    clock[0] += 4.0
    await service.refresh()
    assert store.counter_reads == 1
    assert scrape(service) == first  # the last reading, until the interval has passed
    clock[0] += 1.5
    await service.refresh()
    assert store.counter_reads == 2
    assert scrape(service) != first


def test_a_dispatched_case_is_at_its_follow_up_stage_and_late_after_its_deadline() -> None:
    """Found: case.dispatched carries no status and the projection read data.status alone, so a
    dispatched case stayed "verified" (stage verify) and was never late for its follow-up."""
    from datetime import timedelta

    from tests import factories

    submitted = factories.submitted(time=scenario.NOW - timedelta(days=20))
    doc, _ = fold(None, submitted)
    due = scenario.NOW - timedelta(days=2)
    dispatched = factories.dispatched(time=scenario.NOW - timedelta(days=19))
    dispatched = dispatched.model_copy(
        update={"data": dispatched.data.model_copy(update={"due_at": due})}
    )
    doc, _ = fold(doc, dispatched)
    assert doc is not None
    assert doc["status"] == "dispatched"
    assert reports.overdue(doc, scenario.NOW)
    assert reports.backlog([doc], scenario.NOW) == {("63", "63.71", "follow_up"): (1, 1)}
    assert not reports.overdue(doc, due - timedelta(hours=1))


def test_known_series_start_at_zero_so_the_first_event_is_an_increase() -> None:
    """Found: a counter series appeared at its first event with the value 1, so increase()
    never saw the first repeat or escalation of a province (nor a single parked case)."""
    from lapor_metrics.domain.counters import samples

    empty = samples([])
    assert ({"province": "63", "level": "1", "stage": "follow_up"}, 0.0) in empty[
        "lapor_escalations"
    ]
    received = {tuple(sorted(labels.items())) for labels, _ in empty["lapor_complaints_received"]}
    assert (
        ("channel", "sms"),
        ("province", "73"),
        ("regency", "73.24"),
        ("type", "pengaduan"),
    ) in received
    one = samples(
        [
            {
                "metric": "lapor_escalations",
                "labels": {"province": "63", "level": "1", "stage": "follow_up"},
                "value": 1.0,
            }
        ]
    )
    assert ({"province": "63", "level": "1", "stage": "follow_up"}, 1.0) in one["lapor_escalations"]
    assert "lapor_escalations" not in samples([], zeros=False)


async def test_the_reports_period_ends_with_the_provinces_today_not_utcs() -> None:
    """Found when the statistics page went empty at 16:00 UTC: at 01:00 in Makassar (17:00
    UTC the day before) the period ended at the province's midnight of the UTC date, and
    every report of the local day was left out."""
    import httpx
    from fastapi import FastAPI

    from lapor_metrics.api import install

    asked: list[tuple[str, datetime, datetime]] = []

    class Service:
        async def report_cases(
            self, province: str, start: datetime, end: datetime
        ) -> list[dict[str, Any]]:
            asked.append((province, start, end))
            return []

    from datetime import UTC

    late_evening_utc = datetime(2026, 12, 5, 17, 0, tzinfo=UTC)  # 6 Dec, 01:00 WITA
    app = FastAPI()
    install(app, Service(), lambda: late_evening_utc)  # type: ignore[arg-type]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://m") as client:
        answer = await client.get("/api/v1/reports/ranking", params={"province": "73"})
    assert answer.status_code == 200
    assert answer.json()["to"] == "2026-12-06"
    _, _, end = asked[0]
    just_filed = datetime(2026, 12, 5, 16, 30, tzinfo=UTC)  # 6 Dec, 00:30 WITA
    assert end > just_filed
