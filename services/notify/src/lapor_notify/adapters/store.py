"""MongoDB adapter for notify (database ``lapor_notify``).

Collections: ``deliveries`` (``_id`` = event:recipient:channel, so a redelivered event cannot
create a second delivery), ``contacts`` (reporter contacts, only here), ``case_facts``,
``processed_events``, ``outbox``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ReplaceOne
from pymongo.asynchronous.client_session import AsyncClientSession

from lapor_kit.idempotency import ProcessedEvents
from lapor_kit.outbox import OutMessage
from lapor_kit.runtime import Runtime

from ..domain.planning import Delivery


class MongoNotifyStore:
    def __init__(self, runtime: Runtime, *, stale_claim_seconds: float = 120.0) -> None:
        self.rt = runtime
        self.deliveries = runtime.db["deliveries"]
        self.contacts = runtime.db["contacts"]
        self.case_facts = runtime.db["case_facts"]
        self.processed = ProcessedEvents(runtime.db["processed_events"])
        self.stale_claim = stale_claim_seconds

    async def ensure_indexes(self) -> None:
        await self.deliveries.create_index([("status", 1), ("due_at", 1)])
        await self.deliveries.create_index([("tracking_id", 1), ("created_at", 1)])

    async def unseen(self, event_ids: Sequence[str]) -> set[str]:
        return await self.processed.unseen(event_ids)

    async def record(
        self,
        event_ids: Sequence[str],
        facts: Sequence[dict[str, Any]],
        deliveries: Sequence[Delivery],
        changes: Sequence[tuple[str, dict[str, Any]]] = (),
    ) -> None:
        now = datetime.now(UTC)
        docs = []
        for d in deliveries:
            doc = asdict(d)
            doc.update(
                _id=d.id,
                status="pending",
                attempts=0,
                created_at=now,
                due_at=now,
                sent_at=None,
                last_error=None,
            )
            docs.append(doc)

        async def work(session: AsyncClientSession) -> None:
            await self.processed.mark(event_ids, session, time.time())
            if facts:
                await self.case_facts.bulk_write(
                    [ReplaceOne({"_id": f["_id"]}, f, upsert=True) for f in facts],
                    session=session,
                )
            for tracking_id, update in changes:  # in order: the latest dispatch wins
                await self.case_facts.update_one(
                    {"_id": tracking_id}, {"$set": update}, session=session
                )
            if docs:
                await self.deliveries.insert_many(docs, ordered=False, session=session)

        await self.rt.in_transaction(work)

    async def save_contacts(self, contacts: Sequence[dict[str, Any]]) -> None:
        if not contacts:
            return
        await self.contacts.bulk_write(
            [ReplaceOne({"_id": c["_id"]}, c, upsert=True) for c in contacts], ordered=False
        )
        await self.deliveries.update_many(
            {"tracking_id": {"$in": [c["_id"] for c in contacts]}, "status": "awaiting_contact"},
            {"$set": {"status": "pending", "due_at": datetime.now(UTC)}},
        )

    async def claim(self, limit: int) -> list[dict[str, Any]]:
        """Take up to ``limit`` due deliveries for this worker (three round trips per batch)."""
        now = datetime.now(UTC)
        # Claims left behind by a crashed process become due again.
        await self.deliveries.update_many(
            {"status": "sending", "claimed_at": {"$lt": now - timedelta(seconds=self.stale_claim)}},
            {"$set": {"status": "pending"}},
        )
        due = await self.deliveries.find(
            {"status": "pending", "due_at": {"$lte": now}},
            {"_id": 1},
            sort=[("due_at", 1)],
            limit=limit,
        ).to_list()
        if not due:
            return []
        token = uuid.uuid4().hex
        await self.deliveries.update_many(
            {"_id": {"$in": [d["_id"] for d in due]}, "status": "pending"},
            {"$set": {"status": "sending", "claimed_at": now, "claim": token}},
        )
        # Only what this worker won: another worker may have claimed some meanwhile.
        return await self.deliveries.find(
            {"claim": token, "status": "sending"}, sort=[("due_at", 1)]
        ).to_list()

    async def contact(self, tracking_id: str) -> dict[str, Any] | None:
        return await self.contacts.find_one({"_id": tracking_id})

    async def facts(self, tracking_id: str) -> dict[str, Any] | None:
        return await self.case_facts.find_one({"_id": tracking_id}, {"_id": 0})

    async def set_awaiting_contact(self, delivery_id: str) -> None:
        await self.deliveries.update_one(
            {"_id": delivery_id}, {"$set": {"status": "awaiting_contact"}}
        )
        # The contact may have arrived between the look-up and this update.
        doc = await self.deliveries.find_one({"_id": delivery_id}, {"tracking_id": 1})
        if doc and await self.contacts.find_one({"_id": doc["tracking_id"]}, {"_id": 1}):
            await self.deliveries.update_one(
                {"_id": delivery_id, "status": "awaiting_contact"},
                {"$set": {"status": "pending"}},
            )

    async def finish(
        self,
        delivery_id: str,
        status: str,
        attempts: int,
        error: str | None,
        retry_in: float | None,
        outcome: OutMessage | None,
    ) -> None:
        now = datetime.now(UTC)
        sets: dict[str, Any] = {"status": status, "attempts": attempts, "last_error": error}
        if status == "sent":
            sets["sent_at"] = now
        if retry_in is not None:
            sets["due_at"] = now + timedelta(seconds=retry_in)

        async def work(session: AsyncClientSession) -> None:
            await self.deliveries.update_one({"_id": delivery_id}, {"$set": sets}, session=session)
            if outcome is not None:
                await self.rt.outbox.add([outcome], session)

        await self.rt.in_transaction(work)
        self.rt.outbox.notify()

    async def list_for_case(self, tracking_id: str) -> list[dict[str, Any]]:
        return await self.deliveries.find(
            {"tracking_id": tracking_id}, sort=[("created_at", 1)]
        ).to_list()
