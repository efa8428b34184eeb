"""MongoDB adapter for routing (database ``lapor_routing``)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from lapor_kit.idempotency import ProcessedEvents
from lapor_kit.outbox import OutMessage
from lapor_kit.runtime import Runtime

from ..domain.cases import Routed


class MongoCaseStore:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime
        self.cases = runtime.db["cases"]
        self.processed = ProcessedEvents(runtime.db["processed_events"])

    async def ensure_indexes(self) -> None:
        await self.cases.create_index([("tenant", 1), ("status", 1), ("agency_id", 1)])

    async def unseen(self, event_ids: Sequence[str]) -> set[str]:
        return await self.processed.unseen(event_ids)

    async def existing_cases(self, tracking_ids: Sequence[str]) -> set[str]:
        if not tracking_ids:
            return set()
        docs = await self.cases.find({"_id": {"$in": list(tracking_ids)}}, {"_id": 1}).to_list()
        return {d["_id"] for d in docs}

    async def record(
        self, event_ids: Sequence[str], routed: Sequence[Routed], messages: Sequence[OutMessage]
    ) -> None:
        async def work(session: AsyncClientSession) -> None:
            await self.processed.mark(event_ids, session, time.time())
            if routed:
                await self.cases.insert_many(
                    [r.case for r in routed], ordered=False, session=session
                )
            await self.rt.outbox.add(messages, session)

        await self.rt.in_transaction(work)
        self.rt.outbox.notify()

    async def get(self, tracking_id: str) -> dict[str, Any] | None:
        return await self.cases.find_one({"_id": tracking_id})
