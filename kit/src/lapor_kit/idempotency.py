"""Idempotent consumers: remember processed event ids in the same transaction as the effect.

A unique index over the ids in ``processed_events`` is the guarantee. Reading which ids are already
there before acting is only an optimisation for redeliveries, which are rare: a consumer may
instead act :func:`optimistically` (assume every event is new, and let the insert of the
processed ids refuse a transaction that repeats one), and only after such a refusal take the
careful path that asks first.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, Protocol, TypeVar

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError, DuplicateKeyError, OperationFailure

from .migrations import backfill_once

DUPLICATE_KEY = 11000
IDS = "ids"


class AlreadyStoredError(Exception):
    """A write met a unique key already there (what unit-test fakes raise, like the store)."""


def is_duplicate_key(exc: BaseException) -> bool:
    """True for a unique-key violation, as the store or a fake reports it."""
    if isinstance(exc, AlreadyStoredError | DuplicateKeyError):
        return True
    if isinstance(exc, BulkWriteError):
        errors = (exc.details or {}).get("writeErrors", [])
        return any(e.get("code") == DUPLICATE_KEY for e in errors)
    return isinstance(exc, OperationFailure) and exc.code == DUPLICATE_KEY


R = TypeVar("R")


async def optimistically(handle: Callable[[bool], Awaitable[R]]) -> R:
    """``handle(True)``: process as if no event of the batch had been processed before (no
    read of the processed ids). If a write then meets a key already stored (an event
    redelivered, a case already opened), the transaction was aborted whole: run
    ``handle(False)``, which asks the store first, as a consumer always did."""
    try:
        return await handle(True)
    except Exception as exc:
        if not is_duplicate_key(exc):
            raise
    return await handle(False)


class ProcessedEvents:
    """Processed event ids, one document per marked batch: ``{ids: [...], at}``, under a
    unique index on ``ids`` (an index over an array's elements: an id can be in one document
    only, so a second writer of an event is refused). A batch costs one document, not one
    per event: at low load metrics wrote four documents per complaint for this alone.

    Documents of the older shape (``_id`` = the event id, no ``ids``) get ``ids`` once, at
    start (:meth:`ensure`), so the index covers them too. A process of the older version
    still running during a rolling upgrade writes that shape after the migration: its
    events are seen by :meth:`unseen` (which asks both ways), not refused by the index."""

    def __init__(self, collection: AsyncCollection[Any]) -> None:
        self.collection = collection
        self.ensured = False

    async def ensure(self) -> None:
        """Create the unique index (and convert older documents, once). Called at start:
        without the index, nothing would refuse a second writer."""
        await self.collection.create_index(IDS, unique=True, sparse=True, name=IDS)
        self.ensured = True
        await backfill_once(
            self.collection,
            f"{self.collection.name}.{IDS}",
            {IDS: {"$exists": False}},
            {"_id": 1},
            lambda d: {IDS: [d["_id"]]},
        )

    async def unseen(
        self, event_ids: Iterable[str], session: AsyncClientSession | None = None
    ) -> set[str]:
        ids = list(dict.fromkeys(event_ids))
        if not ids:
            return set()
        found = await self.collection.find({IDS: {"$in": ids}}, {IDS: 1}, session=session).to_list()
        seen = {i for d in found for i in d[IDS]}
        rest = [i for i in ids if i not in seen]
        if rest:  # the older shape, written by a process of the older version
            older = await self.collection.find(
                {"_id": {"$in": rest}}, {"_id": 1}, session=session
            ).to_list()
            seen |= {d["_id"] for d in older}
        return set(ids) - seen

    async def mark(self, event_ids: Iterable[str], session: AsyncClientSession, at: float) -> None:
        if not self.ensured:
            raise RuntimeError("ProcessedEvents.ensure() was not called at start")
        ids = list(dict.fromkeys(event_ids))
        if ids:
            # A concurrent consumer that processed one of these events makes this raise
            # (duplicate key), the transaction aborts, and the batch is redelivered and
            # skipped.
            await self.collection.insert_one({IDS: ids, "at": at}, session=session)


class _HasId(Protocol):
    @property
    def id(self) -> str: ...


E = TypeVar("E", bound=_HasId)


def first_unseen(events: Sequence[E], unseen: set[str]) -> list[E]:
    """The events still to process, each once: a batch may hold the same event twice (an
    outbox republished, a channel sent twice), and the second copy must not be processed
    (nor marked) again."""
    out: list[E] = []
    taken: set[str] = set()
    for event in events:
        if event.id in unseen and event.id not in taken:
            taken.add(event.id)
            out.append(event)
    return out
