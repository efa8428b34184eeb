"""Metrics' service layer: fold events into durable counters; expose them to Prometheus."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Protocol

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from lapor_kit.idempotency import first_unseen
from lapor_schemas.reference import regions

from .domain.counters import COUNTERS, Increment, family_samples, increments, merge


class CounterStore(Protocol):
    async def unseen(self, event_ids: Sequence[str]) -> set[str]: ...

    async def apply(self, event_ids: Sequence[str], incs: Sequence[Increment]) -> None: ...

    async def all(self) -> list[dict[str, Any]]: ...


class MetricsService:
    def __init__(self, store: CounterStore) -> None:
        self.store = store
        self._docs: list[dict[str, Any]] = []

    async def handle(self, events: Sequence[Any]) -> int:
        """Count each event once (events carry ``id``)."""
        fresh = await self.store.unseen([e.id for e in events])
        todo = first_unseen(events, fresh)
        if not todo:
            return 0
        incs = list(merge([i for e in todo for i in increments(e)]).values())
        await self.store.apply([e.id for e in todo], incs)
        return len(todo)

    async def refresh(self) -> None:
        self._docs = await self.store.all()

    def collector(self) -> Collector:
        return _BusinessCollector(self)


class _BusinessCollector(Collector):
    def __init__(self, service: MetricsService) -> None:
        self.service = service

    def collect(self) -> Iterator[Any]:
        samples = family_samples(self.service._docs)
        for metric, (help_text, label_names) in COUNTERS.items():
            family = CounterMetricFamily(metric, help_text, labels=list(label_names))
            for labels, value in samples[metric]:
                family.add_metric([labels.get(n, "") for n in label_names], value)
            yield family
        info = GaugeMetricFamily(
            "lapor_region_info",
            "Known regions (join on regency/province codes for names).",
            labels=["region", "name", "kind", "province"],
        )
        for r in regions().values():
            info.add_metric([r.code, r.name, r.kind, r.province_code], 1.0)
        yield info
