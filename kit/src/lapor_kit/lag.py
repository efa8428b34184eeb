"""Each service reports its own consumers' lag (``lapor_consumer_lag_records{group, topic}``),
read at scrape time from the consumers it runs: the committed offset of each assigned
partition against the partition's end. The metrics service still reports every group's lag
from the broker; with this a frozen or failing metrics service no longer blinds on-call to a
hung consumer elsewhere (the alerts take the max of both)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client.core import GaugeMetricFamily

from .scrape import BoundedRefresh

log = logging.getLogger("lapor.lag")


class OwnLag:
    """Read at scrape time through :class:`~lapor_kit.scrape.BoundedRefresh`: a scrape waits
    ``wait`` seconds at most for the broker, each read is cut off after ``timeout``."""

    def __init__(
        self,
        subscribers: Callable[[], Iterable[Any]],
        service: str,
        timeout: float = 10.0,
        wait: float = 0.5,
    ) -> None:
        self.subscribers = subscribers
        self.service = service
        self.timeout = timeout
        self.lag: dict[tuple[str, str], int] = {}
        self._bounded = BoundedRefresh(self._read_into_place, wait)

    async def refresh(self) -> None:
        await self._bounded()

    async def close(self) -> None:
        await self._bounded.close()

    async def _read_into_place(self) -> None:
        try:
            self.lag = await asyncio.wait_for(self._read(), self.timeout)
        except Exception as exc:  # best effort: the scrape must still answer
            log.warning("own consumer lag not read: %r", exc)

    async def _read(self) -> dict[tuple[str, str], int]:
        lag: dict[tuple[str, str], int] = {}
        for sub in list(self.subscribers()):
            consumer = getattr(sub, "consumer", None)
            group = getattr(consumer, "_group_id", None)
            if consumer is None or not group:
                continue
            assigned = sorted(consumer.assignment(), key=lambda tp: (tp.topic, tp.partition))
            if not assigned:
                continue
            ends = await consumer.end_offsets(assigned)
            committed = await asyncio.gather(*(consumer.committed(tp) for tp in assigned))
            for tp, done in zip(assigned, committed, strict=True):
                key = (str(group), tp.topic)
                behind = max(0, ends.get(tp, 0) - (done if done is not None and done >= 0 else 0))
                lag[key] = lag.get(key, 0) + behind
        return lag

    def collect(self) -> Iterator[Any]:
        gauge = GaugeMetricFamily(
            "lapor_consumer_lag_records",
            "Records not yet processed by this service's own consumers, per group and topic "
            "(committed offsets against the partitions' ends).",
            labels=["group", "topic"],
        )
        for (group, topic), value in sorted(self.lag.items()):
            gauge.add_metric([group, topic], value)
        yield gauge
