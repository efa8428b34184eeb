"""Load for the real services, and what the case log says happened."""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass, field
from datetime import datetime

from aiokafka import AIOKafkaConsumer, TopicPartition

from lapor_schemas import topics

from .data import external
from .raw import producer


async def produce(bootstrap: str, n: int, run: str, rate: float | None = None) -> float:
    """Publish ``n`` signed complaints on ``lapor.intake.v1`` (at ``rate``/s if given);
    returns the wall time the first was sent."""
    rng = random.Random(hash(run) & 0xFFFF)
    messages = [external(i, rng, run) for i in range(n)]
    out = producer(bootstrap)
    await out.start()
    start = time.time()
    try:
        for i, (key, value, headers) in enumerate(messages):
            await out.send(topics.INTAKE, value, key=key, headers=headers)
            if rate:
                delay = start + (i + 1) / rate - time.time()
                if delay > 0:
                    await out.flush()
                    await asyncio.sleep(delay)
        await out.flush()
    finally:
        await out.stop()
    return start


@dataclass
class Observer:
    """Reads the case log and the notification outcomes from their current end."""

    bootstrap: str
    submitted: dict[str, float] = field(default_factory=dict)
    dispatched: dict[str, float] = field(default_factory=dict)
    notified: dict[str, float] = field(default_factory=dict)
    consumer: AIOKafkaConsumer | None = None

    async def start(self) -> Observer:
        c = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False)
        await c.start()
        tps = []
        for topic in (topics.CASES, topics.NOTIFICATIONS):
            for _ in range(50):
                parts = c.partitions_for_topic(topic)
                if parts:
                    break
                await c.topics()
                await asyncio.sleep(0.1)
            tps += [TopicPartition(topic, p) for p in sorted(parts or ())]
        c.assign(tps)
        ends = await c.end_offsets(tps)
        for tp in tps:
            c.seek(tp, ends[tp])
        self.consumer = c
        return self

    async def stop(self) -> None:
        if self.consumer is not None:
            await self.consumer.stop()

    async def until(self, n: int, timeout: float) -> None:
        """Read until ``n`` cases are dispatched and the agency has been sent the dispatch
        (the reporters here are anonymous without a contact: their copy is in the inbox)."""
        assert self.consumer is not None
        deadline = time.monotonic() + timeout
        while self._count(self.dispatched) < n or self._count(self.notified) < n:
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"{len(self.submitted)} submitted, {len(self.dispatched)} dispatched, "
                    f"{len(self.notified)} notified of {n} after {timeout:.0f}s"
                )
            batch = await self.consumer.getmany(timeout_ms=200, max_records=5000)
            for records in batch.values():
                for r in records:
                    self._see(r.topic, json.loads(r.value))

    def _count(self, seen: dict[str, float]) -> int:
        return sum(1 for t in seen if t in self.submitted)

    def _see(self, topic: str, event: dict[str, object]) -> None:
        data = event["data"]
        assert isinstance(data, dict)
        kind = event["type"]
        tid = str(data.get("tracking_id"))
        if kind == "complaint.submitted":
            self.submitted[tid] = _ts(event["time"])
        elif kind == "case.dispatched" and tid not in self.dispatched:
            self.dispatched[tid] = _ts(data["dispatched_at"])
        elif (
            kind == "notification.outcome"
            and data.get("cause_event_type") == "case.dispatched"
            and data.get("status") == "sent"
            and tid not in self.notified
        ):
            self.notified[tid] = _ts(data["at"])

    def latencies(self, start: float) -> dict[str, object]:
        to_dispatch = sorted(
            self.dispatched[t] - s for t, s in self.submitted.items() if t in self.dispatched
        )
        to_notify = sorted(
            self.notified[t] - s for t, s in self.submitted.items() if t in self.notified
        )
        accepted = sorted(self.submitted.values())
        done = [self.dispatched[t] for t in self.submitted if t in self.dispatched]
        return {
            "complaints": len(done),
            "seconds_to_all_dispatched": round(max(done) - start, 3),
            "per_second": round(len(done) / (max(done) - start), 1),
            # from the first message sent: intake stamps a whole batch with one time, so the
            # spread of acceptance times alone says nothing for small runs
            "intake_accepted_per_second": round(len(accepted) / max(accepted[-1] - start, 1e-3), 1),
            "accepted_to_dispatched_ms": _percentiles(to_dispatch),
            "accepted_to_notified_ms": _percentiles(to_notify),
        }


def _ts(value: object) -> float:
    return datetime.fromisoformat(str(value)).timestamp()


def _percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}

    def p(q: float) -> float:
        return round(1000 * values[min(len(values) - 1, int(q * len(values)))], 1)

    return {"p50": p(0.50), "p95": p(0.95), "p99": p(0.99), "max": round(1000 * values[-1], 1)}
