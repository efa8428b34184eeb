"""Transactional outbox: events are written to the service's store in the same transaction as
the state they describe, and a relay publishes them to Kafka afterwards.

One transaction's messages are stored together, as one outbox document (split only when very
large). The relay publishes a committed document **from memory**, right after the commit that
wrote it (so the store is not read back for it), and deletes published documents in one
command a little later (``delete_delay``) for all that were published meanwhile. A *sweep*
reads the collection for documents that no relay published: at start, then every
``sweep_seconds`` for documents older than ``sweep_grace`` (a process that died between its
commit and its publish, or between publish and delete). So:

* a process that dies after the commit and before the publish: its documents are published
  by the next sweep (of any process of the service);
* a process that dies after the publish and before the delete: published twice, and the
  consumers drop the copy by event id (every Lapor consumer is idempotent);
* messages of a key keep their commit order: the relay publishes what is committed in the
  order the commits returned, stops at the first failure and retries it before anything
  after it. If the broker is away for long, the relay forgets its memory (bounded) and
  catches up from the store in ``seq`` order instead.

Documents of the older one-message shape, with ``topic`` at the top, are still published.
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
        self._staged: dict[int, list[dict[str, Any]]] = {}
        self._committed: list[dict[str, Any]] = []

    async def ensure_indexes(self) -> None:
        await self.collection.create_index("seq")

    async def add(self, messages: Sequence[OutMessage], session: AsyncClientSession) -> None:
        """Insert inside the caller's transaction (:meth:`Runtime.in_transaction`, which
        hands the documents to the relay once the transaction has committed)."""
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
        self._staged.setdefault(id(session), []).extend(docs)

    def begin(self, session: AsyncClientSession) -> None:
        """A transaction attempt starts: what an aborted attempt staged is forgotten."""
        self._staged.pop(id(session), None)

    def commit(self, session: AsyncClientSession) -> None:
        """The session's transaction committed: its documents go to the relay."""
        docs = self._staged.pop(id(session), None)
        if docs:
            self._committed.extend(docs)
            self._wake.set()

    def take_committed(self) -> list[dict[str, Any]]:
        docs, self._committed = self._committed, []
        return docs

    def notify(self) -> None:
        self._wake.set()

    async def wait(self, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), max(timeout, 0.0))
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
    """Publishes committed outbox documents in order; one relay per service process."""

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
        delete_delay: float = 1.0,
        sweep_seconds: float = 5.0,
        sweep_grace: float = 10.0,
        memory_limit: int = 20_000,
    ) -> None:
        self.outbox = outbox
        self.broker = broker
        self.batch = batch
        self.idle_seconds = idle_seconds
        self.hold_seconds = hold_seconds
        self.exit_after_publish = exit_after_publish
        self.delete_delay = delete_delay
        self.sweep_seconds = sweep_seconds
        self.sweep_grace = sweep_grace
        self.memory_limit = memory_limit
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
        self._ready: list[dict[str, Any]] = []  # committed, to publish, in commit order
        self._held: list[dict[str, Any]] = []  # test hook: committed, published after a hold
        self._done: list[Any] = []  # published, to delete
        self._done_since = 0.0
        self._swept_at: float | None = None  # None: sweep everything (at start)
        self._catching_up = False

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        with contextlib.suppress(Exception):  # best effort: a sweep would find them again
            await asyncio.wait_for(self._delete_done(), 2.0)

    async def _run(self) -> None:
        failures = 0
        while True:
            try:
                busy = await self.step()
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failures += 1
                delay = min(0.2 * 2**failures, 5.0)
                log.warning("outbox relay failed (retry in %.1fs): %r", delay, exc)
                await asyncio.sleep(delay)
                continue
            if not busy:
                await self.outbox.wait(self._next_due())

    def _next_due(self) -> float:
        now = time.monotonic()
        due = [self.idle_seconds]
        if self._done:
            due.append(self._done_since + self.delete_delay - now)
        if self._swept_at is not None:
            due.append(self._swept_at + self.sweep_seconds - now)
        if self._held:
            due.append(0.2)
        return min(due)

    async def step(self) -> bool:
        """One round: publish what was committed, delete what was published a while ago,
        sweep when due. Returns True when there may be more to do at once."""
        self._take()
        busy = False
        if self._ready:
            docs = self._ready[: self._docs_for_batch(self._ready)]
            await self._publish(docs)
            del self._ready[: len(docs)]
            busy = bool(self._ready)
        now = time.monotonic()
        if self._done and (
            len(self._done) >= self.batch or now - self._done_since >= self.delete_delay
        ):
            await self._delete_done()
        if not self._ready and (
            self._catching_up
            or self._swept_at is None
            or now - self._swept_at >= self.sweep_seconds
        ):
            start = self._swept_at is None or self._catching_up
            found = await self.sweep(grace=0.0 if start else None)
            self._swept_at = time.monotonic()
            self._catching_up = found >= self.batch
            busy = busy or self._catching_up
        self._pending.set(sum(d.get("n", 1) for d in self._ready))
        return busy

    def _take(self) -> None:
        fresh = self.outbox.take_committed()
        if self.hold_seconds > 0 or self._held:  # test hook: as if the process were slow
            self._held.extend(fresh)
            cutoff = time.time() - self.hold_seconds
            n = 0
            while n < len(self._held) and self._held[n]["created"] < cutoff:
                n += 1
            fresh, self._held = self._held[:n], self._held[n:]
        if self._catching_up:
            return  # the sweep publishes them in seq order
        self._ready.extend(fresh)
        if len(self._ready) > self.memory_limit:
            # the broker has been away for long: forget, and catch up from the store
            self._ready.clear()
            self._catching_up = True

    def _docs_for_batch(self, docs: Sequence[dict[str, Any]]) -> int:
        count = taken = 0
        for d in docs:
            taken += 1
            count += d.get("n", 1)
            if count >= self.batch:
                break
        return taken

    async def _publish(self, docs: Sequence[dict[str, Any]]) -> int:
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
        if not self._done:
            self._done_since = time.monotonic()
        self._done.extend(d["_id"] for d in docs)
        self._published.inc(len(futures))
        return len(futures)

    async def _delete_done(self) -> None:
        if not self._done:
            return
        done = self._done[:]
        coll = self.outbox.collection
        if len(done) == 1:
            await coll.delete_one({"_id": done[0]})
        else:
            await coll.delete_many({"_id": {"$in": done}})
        del self._done[: len(done)]

    async def sweep(self, grace: float | None = None) -> int:
        """Publish, in ``seq`` order, documents that no relay has published: those older
        than ``grace`` seconds (default ``sweep_grace``; 0 at start). Returns how many
        messages it published."""
        age = max(self.sweep_grace if grace is None else grace, self.hold_seconds)
        query: dict[str, Any] = {}
        if age > 0:
            query = {"created": {"$lt": time.time() - age}}
        known = set(self._done)
        docs: list[dict[str, Any]] = []
        count = 0
        coll = self.outbox.collection
        async with coll.find(query, sort=[("seq", 1)], limit=self.batch, batch_size=8) as cursor:
            async for doc in cursor:
                if doc["_id"] in known:
                    continue
                docs.append(doc)
                count += doc.get("n", 1)
                if count >= self.batch:
                    break
        if not docs:
            return 0
        await self._publish(docs)
        await self._delete_done()
        return count

    async def publish_pending(self) -> int:
        """Publish everything committed and sweep once (tests and tools); returns how many
        messages the sweep found."""
        while True:
            self._take()
            if not self._ready:
                break
            docs = self._ready[: self._docs_for_batch(self._ready)]
            await self._publish(docs)
            del self._ready[: len(docs)]
        await self._delete_done()
        return await self.sweep(grace=0.0)
