"""MongoDB adapter for routing (database ``lapor_routing``).

``cases`` (with a ``version`` for optimistic concurrency), ``timers`` (durable deadlines and
reminders; a timer fires by a conditional update in the same transaction as its effects, so
a restart or a second process can never fire it twice), ``directory`` (one document per
tenant, editable at run time), ``processed_events``, ``outbox``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pymongo import UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession

from lapor_kit.idempotency import ProcessedEvents
from lapor_kit.outbox import OutMessage
from lapor_kit.runtime import Runtime
from lapor_schemas import topics

from ..domain.directory import DirectoryFile, DirectoryRevision
from ..domain.inbox import InboxFilter, words_of
from ..domain.lifecycle import Effects
from ..ports import ConflictError, InboxPage

# A case's deadline as a sort key: MongoDB puts a missing or null value before every date,
# so a finished case (no deadline) would head a "nearest deadline" list. ``due_key`` holds
# the deadline, or this far date when there is none; kept beside ``due_at`` by every write.
NO_DEADLINE = datetime(9999, 12, 31, tzinfo=UTC)


def due_key(due_at: datetime | None) -> datetime:
    return due_at or NO_DEADLINE


SORTS: dict[str, list[tuple[str, int]]] = {
    # urgency: what went up a level first, then the nearest (or longest missed) deadline
    "urgency": [("escalation_level", -1), ("due_key", 1), ("submitted_at", 1)],
    "deadline": [("due_key", 1), ("submitted_at", 1)],
    "newest": [("submitted_at", -1)],
    "oldest": [("submitted_at", 1)],
}


def inbox_query(f: InboxFilter) -> dict[str, Any]:
    """An inbox filter in MongoDB's terms: the token's scope, and each narrowing ANDed."""
    s = f.scope
    if s.nothing:
        return {"_id": None}
    parts: list[dict[str, Any]] = []
    if s.tenant:
        parts.append({"tenant": s.tenant})
    if s.region_code:
        parts.append({"$or": [{"region_code": s.region_code}, {"escalated_to": s.escalated_to}]})
    elif s.escalated_to:
        parts.append({"escalated_to": s.escalated_to})
    if s.agency_id:
        parts.append({"agency_id": s.agency_id})
    if f.statuses:
        parts.append({"status": {"$in": list(f.statuses)}})
    if f.category:
        parts.append({"category": f.category})
    if f.region_code:
        parts.append({"region_code": f.region_code})
    if f.agency_id:
        parts.append({"agency_id": f.agency_id})
    if f.parked is not None:
        parts.append({"parked": {"$ne": None}} if f.parked else {"parked": None})
    if f.assignee:
        parts.append({"assignee.username": f.assignee})
    if f.possible_repeat:
        parts.append({"status": "submitted", "repeat_of": {"$ne": None}})
    if f.words:
        parts.append({"words": {"$all": list(f.words)}})
    if f.overdue is not None:
        late = [{"due_at": {"$lt": f.now}}, {"overdue_since": {"$ne": None}}]
        parts.append({"$or": late} if f.overdue else {"$nor": late})
    if not parts:
        return {}
    return parts[0] if len(parts) == 1 else {"$and": parts}


class _AbortError(Exception):
    pass


class MongoCaseStore:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime
        self.cases = runtime.db["cases"]
        self.timers = runtime.db["timers"]
        self.directory = runtime.db["directory"]
        self.directory_versions = runtime.db["directory_versions"]
        self.processed = ProcessedEvents(runtime.db["processed_events"])

    async def ensure_indexes(self) -> None:
        await self.cases.create_index([("words", 1)])
        await self.cases.create_index([("tenant", 1), ("submitted_at", -1)])
        await self._backfill_words()
        await self.cases.create_index([("tenant", 1), ("status", 1), ("agency_id", 1)])
        await self.cases.create_index([("tenant", 1), ("due_at", 1)])
        await self.cases.create_index([("tenant", 1), ("due_key", 1)])
        await self.directory_versions.create_index([("tenant", 1), ("revision", -1)])
        await self.timers.create_index([("fired", 1), ("due_at", 1)])
        await self.timers.create_index([("tracking_id", 1), ("fired", 1)])
        await self.processed.ensure()

    async def _backfill_words(self) -> None:
        """Cases stored before search words (or the deadline's sort key) were kept get them
        (once, in batches)."""
        while True:
            docs = await self.cases.find(
                {"$or": [{"words": {"$exists": False}}, {"due_key": {"$exists": False}}]},
                {"title": 1, "description": 1, "due_at": 1},
                limit=500,
            ).to_list()
            if not docs:
                return
            await self.cases.bulk_write(
                [
                    UpdateOne(
                        {"_id": d["_id"]},
                        {
                            "$set": {
                                "words": words_of(d.get("title"), d.get("description")),
                                "due_key": due_key(d.get("due_at")),
                            }
                        },
                    )
                    for d in docs
                ]
            )

    # -- directory ---------------------------------------------------------------------------

    async def directory_files(self) -> list[DirectoryFile]:
        docs = await self.directory.find(
            {}, {"_id": 0, "updated_at": 0, "updated_by": 0, "revision": 0}
        ).to_list()
        return [DirectoryFile.model_validate(d) for d in docs]

    async def seed_directory(self, files: Sequence[DirectoryFile]) -> None:
        """Insert the shipped files for tenants that have none yet (never overwrites)."""
        for f in files:
            now = time.time()
            result = await self.directory.update_one(
                {"_id": f.tenant},
                {
                    "$setOnInsert": {
                        **f.model_dump(mode="json"),
                        "updated_at": now,
                        "updated_by": "seed",
                        "revision": 1,
                    }
                },
                upsert=True,
            )
            if result.upserted_id is not None:
                await self.directory_versions.update_one(
                    {"_id": f"{f.tenant}:1"},
                    {
                        "$setOnInsert": {
                            "tenant": f.tenant,
                            "revision": 1,
                            "file": f.model_dump(mode="json"),
                            "by": "seed",
                            "at": now,
                            "note": "shipped directory",
                        }
                    },
                    upsert=True,
                )

    async def save_directory(self, f: DirectoryFile, by: str, note: str | None = None) -> int:
        """Replace the tenant's directory and keep the new file as the next revision, with who
        changed it and when (the history that a rollback picks from). Returns the revision."""
        now = time.time()
        body = f.model_dump(mode="json")

        async def work(session: AsyncClientSession) -> int:
            last = await self.directory_versions.find_one(
                {"tenant": f.tenant}, {"revision": 1}, sort=[("revision", -1)], session=session
            )
            revision = int(last["revision"]) + 1 if last else 1
            await self.directory_versions.insert_one(
                {
                    "_id": f"{f.tenant}:{revision}",
                    "tenant": f.tenant,
                    "revision": revision,
                    "file": body,
                    "by": by,
                    "at": now,
                    "note": note,
                },
                session=session,
            )
            await self.directory.replace_one(
                {"_id": f.tenant},
                {**body, "updated_at": now, "updated_by": by, "revision": revision},
                upsert=True,
                session=session,
            )
            return revision

        return await self.rt.in_transaction(work)

    async def directory_versions_of(self, tenant: str, limit: int = 100) -> list[DirectoryRevision]:
        docs = await self.directory_versions.find(
            {"tenant": tenant}, {"_id": 0}, sort=[("revision", -1)], limit=limit
        ).to_list()
        return [
            DirectoryRevision(
                revision=int(d["revision"]),
                version=int(d["file"].get("version", 0)),
                by=str(d["by"]),
                at=datetime.fromtimestamp(d["at"], UTC),
                note=d.get("note"),
                agencies=len(d["file"].get("agencies", [])),
            )
            for d in docs
        ]

    async def directory_version(self, tenant: str, revision: int) -> DirectoryFile | None:
        doc = await self.directory_versions.find_one({"_id": f"{tenant}:{revision}"})
        return DirectoryFile.model_validate(doc["file"]) if doc else None

    async def directory_stamp(self) -> float:
        doc = await self.directory.find_one({}, {"updated_at": 1}, sort=[("updated_at", -1)])
        return float(doc["updated_at"]) if doc else 0.0

    # -- cases -------------------------------------------------------------------------------

    async def unseen(self, event_ids: Sequence[str]) -> set[str]:
        return await self.processed.unseen(event_ids)

    async def get(self, tracking_id: str) -> dict[str, Any] | None:
        return await self.cases.find_one({"_id": tracking_id})

    async def existing(self, tracking_ids: Sequence[str]) -> set[str]:
        if not tracking_ids:
            return set()
        docs = await self.cases.find({"_id": {"$in": list(tracking_ids)}}, {"_id": 1}).to_list()
        return {d["_id"] for d in docs}

    async def add_note(self, tracking_id: str, note: dict[str, Any]) -> None:
        """Appended atomically; a note changes neither the status nor the version (it can
        never make a concurrent action retry)."""
        await self.cases.update_one({"_id": tracking_id}, {"$push": {"notes": note}})

    async def set_assignee(self, tracking_id: str, assignee: dict[str, Any] | None) -> None:
        await self.cases.update_one({"_id": tracking_id}, {"$set": {"assignee": assignee}})

    async def find_inbox(self, f: InboxFilter, limit: int = 200, skip: int = 0) -> InboxPage:
        query = inbox_query(f)
        found, total = await asyncio.gather(
            self.cases.find(
                query,
                {"history": 0, "description": 0, "words": 0, "notes": 0},
                sort=SORTS[f.sort],
                limit=limit,
                skip=skip,
            ).to_list(),
            self.cases.count_documents(query),
        )
        return InboxPage(found, total)

    async def apply(
        self,
        case: dict[str, Any],
        effects: Effects,
        *,
        new: bool = False,
        processed: Sequence[str] = (),
        timer_id: str | None = None,
    ) -> bool:
        """Write the effects of one decision atomically: the case (conditional on its
        version), its timers, its events (outbox), the processed event ids and, for a timer,
        the timer itself (only if not fired yet). Returns False when a timer had already
        fired; raises ConflictError when the case changed meanwhile."""

        async def work(session: AsyncClientSession) -> None:
            if timer_id is not None:
                fired = await self.timers.update_one(
                    {"_id": timer_id, "fired": False},
                    {"$set": {"fired": True, "fired_at": time.time()}},
                    session=session,
                )
                if fired.modified_count == 0:
                    raise _AbortError
            if processed:
                await self.processed.mark(processed, session, time.time())
            tid = case["_id"]
            if new:
                doc = effects.applied_to(case)
                doc["version"] = 1
                doc["due_key"] = due_key(doc.get("due_at"))
                await self.cases.insert_one(doc, session=session)
            elif effects.sets or effects.history:
                update: dict[str, Any] = {"$set": {**effects.sets}, "$inc": {"version": 1}}
                if "due_at" in effects.sets:
                    update["$set"]["due_key"] = due_key(effects.sets["due_at"])
                if effects.history:
                    update["$push"] = {"history": {"$each": effects.history}}
                result = await self.cases.update_one(
                    {"_id": tid, "version": case.get("version", 0)}, update, session=session
                )
                if result.matched_count == 0:
                    raise ConflictError(tid)
            if effects.cancel_timers:
                await self.timers.delete_many({"tracking_id": tid, "fired": False}, session=session)
            if effects.timers:
                await self.timers.insert_many([t.doc() for t in effects.timers], session=session)
            await self.rt.outbox.add(
                [OutMessage.of(topics.CASES, tid, e) for e in effects.events], session
            )

        try:
            await self.rt.in_transaction(work)
        except _AbortError:
            return False
        self.rt.outbox.notify()
        return True

    async def open_many(
        self, opened: Sequence[tuple[dict[str, Any], Effects]], processed: Sequence[str]
    ) -> None:
        """Open a batch of new cases at once: cases, timers, events (outbox) and the processed
        event ids in one transaction, with bulk inserts."""
        cases: list[dict[str, Any]] = []
        timers: list[dict[str, Any]] = []
        messages: list[OutMessage] = []
        for case, effects in opened:
            doc = effects.applied_to(case)
            doc["version"] = 1
            cases.append(doc)
            timers.extend(t.doc() for t in effects.timers)
            messages.extend(OutMessage.of(topics.CASES, case["_id"], e) for e in effects.events)

        async def work(session: AsyncClientSession) -> None:
            await self.processed.mark(processed, session, time.time())
            await self.cases.insert_many(cases, session=session)
            if timers:
                await self.timers.insert_many(timers, session=session)
            await self.rt.outbox.add(messages, session)

        await self.rt.in_transaction(work)
        self.rt.outbox.notify()

    async def mark_processed(self, event_ids: Sequence[str]) -> None:
        async def work(session: AsyncClientSession) -> None:
            await self.processed.mark(event_ids, session, time.time())

        if event_ids:
            await self.rt.in_transaction(work)

    # -- timers ------------------------------------------------------------------------------

    async def due_timers(self, now: datetime, limit: int = 200) -> list[dict[str, Any]]:
        return await self.timers.find(
            {"fired": False, "due_at": {"$lte": now}}, sort=[("due_at", 1)], limit=limit
        ).to_list()

    async def pending_timers(self, tracking_id: str) -> list[dict[str, Any]]:
        return await self.timers.find(
            {"tracking_id": tracking_id, "fired": False}, sort=[("due_at", 1)]
        ).to_list()

    async def discard_timer(self, timer_id: str) -> None:
        await self.timers.update_one(
            {"_id": timer_id, "fired": False},
            {"$set": {"fired": True, "fired_at": time.time(), "discarded": True}},
        )
