"""Idempotent consumers: remember processed event ids in the same transaction as the effect.

The unique ``_id`` of ``processed_events`` is the guarantee. Reading which ids are already
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

DUPLICATE_KEY = 11000


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
    """A collection whose ``_id`` is an event id: the unique index is the guarantee."""

    def __init__(self, collection: AsyncCollection[Any]) -> None:
        self.collection = collection

    async def unseen(
        self, event_ids: Iterable[str], session: AsyncClientSession | None = None
    ) -> set[str]:
        ids = list(dict.fromkeys(event_ids))
        if not ids:
            return set()
        seen = await self.collection.find(
            {"_id": {"$in": ids}}, {"_id": 1}, session=session
        ).to_list()
        return set(ids) - {d["_id"] for d in seen}

    async def mark(self, event_ids: Iterable[str], session: AsyncClientSession, at: float) -> None:
        docs = [{"_id": i, "at": at} for i in dict.fromkeys(event_ids)]
        if docs:
            # A concurrent consumer that processed the same event makes this raise (duplicate
            # key), the transaction aborts, and the batch is redelivered and skipped.
            await self.collection.insert_many(docs, ordered=False, session=session)


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
