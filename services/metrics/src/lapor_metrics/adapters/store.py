"""MongoDB adapter for metrics (database ``lapor_metrics``): the per-case projection
(``cases``: no identity, no text), durable counters (``counters``) and processed event ids,
all written in one transaction per batch."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo import ReplaceOne, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from lapor_kit.idempotency import ProcessedEvents
from lapor_kit.runtime import Runtime

from ..domain.counters import OPEN_STATUSES, Bump


class MongoMetricsStore:
    def __init__(self, runtime: Runtime, db: AsyncDatabase[dict[str, Any]] | None = None) -> None:
        self.rt = runtime
        self.db = db if db is not None else runtime.db
        self.counters_ = self.db["counters"]
        self.cases_ = self.db["cases"]
        self.processed = ProcessedEvents(self.db["processed_events"])

    async def ensure_indexes(self) -> None:
        await self.cases_.create_index([("province", 1), ("submitted_at", 1)])
        await self.cases_.create_index([("status", 1)])
        await self.processed.ensure()

    async def unseen(self, event_ids: Sequence[str]) -> set[str]:
        return await self.processed.unseen(event_ids)

    async def cases(self, tracking_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        if not tracking_ids:
            return {}
        docs = await self.cases_.find({"_id": {"$in": list(tracking_ids)}}).to_list()
        return {d["_id"]: d for d in docs}

    async def apply(
        self,
        event_ids: Sequence[str],
        cases: Sequence[dict[str, Any]],
        bumps: Sequence[Bump],
    ) -> None:
        async def work(session: AsyncClientSession) -> None:
            await self.processed.mark(event_ids, session, time.time())
            if cases:
                await self.cases_.bulk_write(
                    [ReplaceOne({"_id": c["_id"]}, c, upsert=True) for c in cases],
                    ordered=False,
                    session=session,
                )
            if bumps:
                await self.counters_.bulk_write(
                    [
                        UpdateOne(
                            {"_id": b.key},
                            {
                                "$inc": dict(b.fields),
                                "$setOnInsert": {"metric": b.metric, "labels": dict(b.labels)},
                            },
                            upsert=True,
                        )
                        for b in bumps
                    ],
                    ordered=False,
                    session=session,
                )

        await self.rt.in_transaction(work)

    async def counters(self) -> list[dict[str, Any]]:
        return await self.counters_.find({}).to_list()

    async def open_cases(self) -> list[dict[str, Any]]:
        """Open cases, with only the fields the backlog needs (the backlog is bounded by what
        is open, not by history)."""
        fields = [
            "province",
            "regency",
            "status",
            "closed_at",
            "screened_at",
            "verify_due",
            "followed_up_at",
            "follow_up_due",
        ]
        return await self.cases_.find(
            {"status": {"$in": sorted(OPEN_STATUSES)}, "closed_at": None},
            dict.fromkeys(fields, 1),
        ).to_list()

    async def volume_since(self, since: datetime) -> dict[str, int]:
        cursor = await self.cases_.aggregate(
            [
                {"$match": {"submitted_at": {"$gte": since}}},
                {"$group": {"_id": "$regency", "n": {"$sum": 1}}},
            ]
        )
        return {d["_id"]: int(d["n"]) for d in await cursor.to_list()}

    async def submissions_since(self, since: datetime) -> list[dict[str, Any]]:
        return await self.cases_.find(
            {"submitted_at": {"$gte": since}},
            {"_id": 0, "province": 1, "regency": 1, "category": 1, "submitted_at": 1},
        ).to_list()

    async def cases_between(
        self, province: str, start: datetime, end: datetime
    ) -> list[dict[str, Any]]:
        return await self.cases_.find(
            {"province": province, "submitted_at": {"$gte": start, "$lt": end}}
        ).to_list()
