"""Transactional outbox: events are written to the service's store in the same transaction as
the state they describe, and a relay publishes them to Kafka afterwards.

If the process dies between the commit and the publish, the relay publishes on restart; if it
dies between the publish and the delete, the event is published twice and consumers drop the
copy by event id. Events keep their insertion order per key (the relay publishes in ``seq``
order and stops at the first failure).

One transaction's messages are stored together, as one outbox document (split only when very
large): the store writes, reads and deletes one document per batch instead of one per event,
which is most of what an outbox costs. (Documents of the older one-message shape, with
``topic`` at the top, are still published.)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry, Counter, Gauge
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection

from .kafka import encode

log = logging.getLogger("lapor.outbox")


@dataclass(frozen=True, slots=True)
class OutMessage:
    topic: str
    key: str
    value: bytes
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, topic: str, key: str, model: Any, **headers: str) -> OutMessage:
        return cls(topic=topic, key=key, value=encode(model), headers=dict(headers))


_last_seq = [0]


def _next_seq() -> int:
    """Strictly increasing within the process (nanoseconds since the epoch, bumped on ties)."""
    value = max(time.time_ns(), _last_seq[0] + 1)
    _last_seq[0] = value
    return value


class Outbox:
    def __init__(self, collection: AsyncCollection[Any]) -> None:
        self.collection = collection
        self._wake = asyncio.Event()

    async def ensure_indexes(self) -> None:
        await self.collection.create_index("seq")

    async def add(self, messages: Sequence[OutMessage], session: AsyncClientSession) -> None:
        """Insert inside the caller's transaction; call :meth:`notify` after the commit."""
        if not messages:
            return
        now = time.time()
        docs = [
            {
                "seq": _next_seq(),
                "n": len(chunk),
                "messages": [
                    {"topic": m.topic, "key": m.key, "value": m.value, "headers": m.headers}
                    for m in chunk
                ],
                "created": now,
            }
            for chunk in _chunks(messages)
        ]
        await self.collection.insert_many(docs, ordered=True, session=session)

    def notify(self) -> None:
        self._wake.set()

    async def wait(self, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout)
        self._wake.clear()


MAX_DOC_MESSAGES = 1000
MAX_DOC_BYTES = 4 * 1024 * 1024  # well under MongoDB's 16 MB document limit


def _chunks(messages: Sequence[OutMessage]) -> list[Sequence[OutMessage]]:
    chunks: list[Sequence[OutMessage]] = []
    start = size = 0
    for i, m in enumerate(messages):
        weight = len(m.value) + len(m.key) + 64
        if i > start and (i - start >= MAX_DOC_MESSAGES or size + weight > MAX_DOC_BYTES):
            chunks.append(messages[start:i])
            start, size = i, 0
        size += weight
    chunks.append(messages[start:])
    return chunks


def _messages(doc: dict[str, Any]) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = doc.get("messages", [doc])
    return messages


class OutboxRelay:
    """Publishes pending outbox entries in order; one relay per service process."""

    def __init__(
        self,
        outbox: Outbox,
        broker: KafkaBroker,
        *,
        registry: CollectorRegistry,
        service: str,
        batch: int = 500,
        idle_seconds: float = 1.0,
        hold_seconds: float = 0.0,
        exit_after_publish: bool = False,
    ) -> None:
        self.outbox = outbox
        self.broker = broker
        self.batch = batch
        self.idle_seconds = idle_seconds
        self.hold_seconds = hold_seconds
        self.exit_after_publish = exit_after_publish
        self._published = Counter(
            "lapor_outbox_published_total",
            "Outbox entries published to Kafka.",
            ["service"],
            registry=registry,
        ).labels(service)
        self._pending = Gauge(
            "lapor_outbox_pending",
            "Outbox entries not yet published.",
            ["service"],
            registry=registry,
        ).labels(service)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        failures = 0
        while True:
            try:
                sent = await self.publish_pending()
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failures += 1
                delay = min(0.2 * 2**failures, 5.0)
                log.warning("outbox relay failed (retry in %.1fs): %r", delay, exc)
                await asyncio.sleep(delay)
                continue
            if sent < self.batch:
                await self.outbox.wait(self.idle_seconds)

    async def publish_pending(self) -> int:
        """Publish one batch; returns how many entries were published."""
        coll = self.outbox.collection
        query: dict[str, Any] = {}
        if self.hold_seconds > 0:  # test hook: simulate a process that dies before publishing
            query = {"created": {"$lt": time.time() - self.hold_seconds}}
        docs: list[dict[str, Any]] = []
        count = 0
        async with coll.find(query, sort=[("seq", 1)], limit=self.batch, batch_size=8) as cursor:
            async for doc in cursor:
                docs.append(doc)
                count += doc.get("n", 1)
                if count >= self.batch:
                    break
        if not docs:
            self._pending.set(0)
            return 0
        futures = [
            await self.broker.publish(
                m["value"],
                m["topic"],
                key=m["key"].encode(),
                headers=m["headers"] or None,
                no_confirm=True,
            )
            for d in docs
            for m in _messages(d)
        ]
        await asyncio.gather(*futures)
        if self.exit_after_publish:  # test hook: die between publish (acknowledged) and delete
            os._exit(137)
        if len(docs) == 1:
            await coll.delete_one({"_id": docs[0]["_id"]})
        else:
            await coll.delete_many({"_id": {"$in": [d["_id"] for d in docs]}})
        self._published.inc(len(futures))
        if count < self.batch:
            self._pending.set(0)
        return count
