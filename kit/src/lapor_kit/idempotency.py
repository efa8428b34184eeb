"""Idempotent consumers: remember processed event ids in the same transaction as the effect."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

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
        docs = [{"_id": i, "at": at} for i in event_ids]
        if docs:
            # A concurrent consumer that processed the same event makes this raise (duplicate
            # key), the transaction aborts, and the batch is redelivered and skipped.
            await self.collection.insert_many(docs, ordered=False, session=session)
