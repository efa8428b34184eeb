"""MongoDB adapter for metrics (database ``lapor_metrics``): counters and processed ids."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from pymongo import UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession

from lapor_kit.idempotency import ProcessedEvents
from lapor_kit.runtime import Runtime

from ..domain.counters import Increment


class MongoCounterStore:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime
        self.counters = runtime.db["counters"]
        self.processed = ProcessedEvents(runtime.db["processed_events"])

    async def unseen(self, event_ids: Sequence[str]) -> set[str]:
        return await self.processed.unseen(event_ids)

    async def apply(self, event_ids: Sequence[str], incs: Sequence[Increment]) -> None:
        async def work(session: AsyncClientSession) -> None:
            await self.processed.mark(event_ids, session, time.time())
            if incs:
                await self.counters.bulk_write(
                    [
                        UpdateOne(
                            {"_id": i.key},
                            {
                                "$inc": {"value": i.amount},
                                "$setOnInsert": {"metric": i.metric, "labels": dict(i.labels)},
                            },
                            upsert=True,
                        )
                        for i in incs
                    ],
                    ordered=False,
                    session=session,
                )

        await self.rt.in_transaction(work)

    async def all(self) -> list[dict[str, Any]]:
        return await self.counters.find({}).to_list()
