"""Metrics' service layer: fold events into the case projection and durable counters, expose
them to Prometheus, and answer the evaluation reports."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)
from prometheus_client.registry import Collector

from lapor_kit.idempotency import first_unseen, optimistically
from lapor_schemas.reference import regions

from .domain import reports
from .domain.counters import BUCKETS, COUNTERS, HISTOGRAMS, Bump, Increment, fold, merge, samples


class MetricsStore(Protocol):
    async def unseen(self, event_ids: Sequence[str]) -> set[str]: ...

    async def cases(self, tracking_ids: Sequence[str]) -> dict[str, dict[str, Any]]: ...

    async def apply(
        self,
        event_ids: Sequence[str],
        cases: Sequence[dict[str, Any]],
        bumps: Sequence[Bump],
    ) -> None: ...

    async def counters(self) -> list[dict[str, Any]]: ...

    async def open_cases(self) -> list[dict[str, Any]]: ...

    async def volume_since(self, since: datetime) -> dict[str, int]: ...

    async def cases_between(
        self, province: str, start: datetime, end: datetime
    ) -> list[dict[str, Any]]: ...

    async def submissions_since(self, since: datetime) -> list[dict[str, Any]]:
        """Province, regency, category and submitted_at of every case since ``since``."""
        ...


class MetricsService:
    def __init__(
        self,
        store: MetricsStore,
        clock: Callable[[], datetime],
        refresh_seconds: float = 0.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.clock = clock
        self.refresh_seconds = refresh_seconds
        self.monotonic = monotonic
        self._refreshed: float | None = None
        self._refreshing = asyncio.Lock()
        self._counters: list[dict[str, Any]] = []
        self._backlog: dict[tuple[str, str, str], tuple[int, int]] = {}
        self._volume: dict[str, int] = {}
        self._weeks: dict[tuple[str, str, str], tuple[int, float]] = {}
        self.extra_collect: list[Callable[[], Iterator[Any]]] = []

    async def handle(self, events: Sequence[Any]) -> int:
        """Fold each event once (events carry ``id``), in order, per case."""
        return await optimistically(lambda assume_new: self._fold(events, assume_new))

    async def _fold(self, events: Sequence[Any], assume_new: bool) -> int:
        ids = [e.id for e in events]
        fresh = set(ids) if assume_new else await self.store.unseen(ids)
        todo = first_unseen(events, fresh)
        if not todo:
            return 0
        # a case the batch itself opens is not read back; a projection an event leaves as
        # it was is not written again
        opened = set()
        tids: list[str] = []
        for e in todo:
            if e.type == "complaint.submitted":
                opened.add(e.subject)
            elif e.type != "notification.outcome" and e.subject not in opened:
                tids.append(e.subject)
        cases = await self.store.cases(list(dict.fromkeys(tids)))
        changed: dict[str, dict[str, Any]] = {}
        incs: list[Increment] = []
        for event in todo:
            before = cases.get(event.subject)
            doc, more = fold(before, event)
            incs.extend(more)
            if doc is not None and event.type != "notification.outcome" and doc != before:
                cases[event.subject] = changed[event.subject] = doc
        await self.store.apply(
            [e.id for e in todo], list(changed.values()), list(merge(incs).values())
        )
        return len(todo)

    async def refresh(self) -> None:
        """Before a scrape: the counters, the backlog now and the last 365 days' volume. They
        are read at most once every ``refresh_seconds`` (scrapes in between, from every
        Prometheus and the bench, share the last reading: what the store is asked no longer
        grows with how often, or by how many, the service is scraped)."""
        async with self._refreshing:
            at = self.monotonic()
            if self._refreshed is not None and at - self._refreshed < self.refresh_seconds:
                return
            await self._read()
            self._refreshed = at

    async def _read(self) -> None:
        now = self.clock()
        self._counters = await self.store.counters()
        self._backlog = reports.backlog(await self.store.open_cases(), now)
        self._volume = await self.store.volume_since(now - timedelta(days=365))
        recent = await self.store.submissions_since(
            now - timedelta(days=7 * (reports.HOTSPOT_WEEKS + 1))
        )
        self._weeks = reports.category_weeks(recent, now)

    def collector(self) -> Collector:
        return _Collector(self)

    async def report_cases(
        self, province: str, start: datetime, end: datetime
    ) -> list[dict[str, Any]]:
        return await self.store.cases_between(province, start, end)


class _Collector(Collector):
    def __init__(self, service: MetricsService) -> None:
        self.service = service

    def collect(self) -> Iterator[Any]:
        s = self.service
        by_metric = samples(s._counters)
        for metric, (help_text, label_names) in COUNTERS.items():
            family = CounterMetricFamily(metric, help_text, labels=list(label_names))
            for labels, value in by_metric.get(f"{metric}", []):
                family.add_metric([labels.get(n, "") for n in label_names], value)
            yield family
        for metric, (help_text, label_names) in HISTOGRAMS.items():
            yield _histogram(metric, help_text, label_names, by_metric)
        open_cases = GaugeMetricFamily(
            "lapor_open_cases",
            "Cases open now, by stage (verify, follow_up, reply).",
            labels=["province", "regency", "stage"],
        )
        late = GaugeMetricFamily(
            "lapor_overdue_cases",
            "Open cases past their stage's deadline now.",
            labels=["province", "regency", "stage"],
        )
        for (province, regency, stage), (n, n_late) in sorted(s._backlog.items()):
            open_cases.add_metric([province, regency, stage], n)
            late.add_metric([province, regency, stage], n_late)
        yield open_cases
        yield late
        volume = GaugeMetricFamily(
            "lapor_region_complaints_365d",
            "Complaints received in the last 365 days, per regency/city.",
            labels=["province", "regency"],
        )
        low = GaugeMetricFamily(
            "lapor_region_low_volume",
            f"1 when a regency/city received fewer than {reports.LOW_VOLUME_PER_YEAR} "
            "complaints in the last 365 days (it needs outreach).",
            labels=["province", "regency"],
        )
        info = GaugeMetricFamily(
            "lapor_region_info",
            "Known regions (join on regency/province codes for names).",
            labels=["region", "name", "kind", "province"],
        )
        for r in regions().values():
            info.add_metric([r.code, r.name, r.kind, r.province_code], 1.0)
            if r.kind == "province":
                continue
            n = s._volume.get(r.code, 0)
            volume.add_metric([r.province_code, r.code], n)
            low.add_metric([r.province_code, r.code], float(n < reports.LOW_VOLUME_PER_YEAR))
        yield volume
        yield low
        yield info
        week = GaugeMetricFamily(
            "lapor_category_complaints_7d",
            "Complaints of one category in one regency/city in the last 7 days.",
            labels=["province", "regency", "category"],
        )
        usual = GaugeMetricFamily(
            "lapor_category_complaints_weekly_avg_8w",
            "The same, as a weekly average over the 8 weeks before (hotspot baseline).",
            labels=["province", "regency", "category"],
        )
        for key, (n, average) in sorted(s._weeks.items()):
            week.add_metric(list(key), n)
            usual.add_metric(list(key), average)
        yield week
        yield usual
        for extra in s.extra_collect:
            yield from extra()


def _histogram(
    metric: str,
    help_text: str,
    label_names: tuple[str, ...],
    by_metric: dict[str, list[tuple[dict[str, str], float]]],
) -> HistogramMetricFamily:
    family = HistogramMetricFamily(metric, help_text, labels=list(label_names))
    series: dict[tuple[str, ...], dict[str, float]] = defaultdict(dict)
    sums: dict[tuple[str, ...], float] = {}
    for labels, value in by_metric.get(f"{metric}_bucket", []):
        series[tuple(labels[n] for n in label_names)][labels["le"]] = value
    for labels, value in by_metric.get(f"{metric}_sum", []):
        sums[tuple(labels[n] for n in label_names)] = value
    for key, buckets in sorted(series.items()):
        bounds = [repr(float(b)) for b in BUCKETS] + ["+Inf"]
        family.add_metric(
            list(key),
            [(b, buckets.get(b, 0.0)) for b in bounds],
            sum_value=sums.get(key, 0.0),
        )
    return family
