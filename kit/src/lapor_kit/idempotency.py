"""Idempotent consumers: remember processed event ids in the same transaction as the effect."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol, TypeVar

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection


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
