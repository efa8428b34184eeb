"""One-off data changes, done once per database at start (marked in ``migrations``)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from typing import Any

from pymongo import UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError

BATCH = 1000


async def backfill_once(
    collection: AsyncCollection[Any],
    name: str,
    query: Mapping[str, Any],
    projection: Mapping[str, Any],
    change: Callable[[dict[str, Any]], Mapping[str, Any] | None],
) -> None:
    """``$set`` ``change(doc)`` on every document ``query`` finds (``None``: leave it), in
    unordered batches, then mark ``name`` done in the database's ``migrations`` collection so
    later starts skip it. Several processes running it at once write the same values; a
    write refused by a unique index means the value is there already."""
    migrations = collection.database["migrations"]
    if await migrations.find_one({"_id": name}) is not None:
        return
    updates: list[UpdateOne] = []
    async with collection.find(dict(query), dict(projection)) as cursor:
        async for doc in cursor:
            sets = change(doc)
            if sets is not None:
                updates.append(UpdateOne({"_id": doc["_id"]}, {"$set": dict(sets)}))
            if len(updates) >= BATCH:
                await _write(collection, updates)
                updates = []
    await _write(collection, updates)
    await migrations.update_one({"_id": name}, {"$set": {"done": True}}, upsert=True)


async def _write(collection: AsyncCollection[Any], updates: list[UpdateOne]) -> None:
    if updates:
        with contextlib.suppress(BulkWriteError):
            await collection.bulk_write(updates, ordered=False)
