"""MongoDB adapter for intake (database ``lapor_intake``).

Collections: ``complaints`` (the report and its reporter-facing view, no identity; a
channel's report carries ``channel_key`` = channel|external id, the channel's idempotency
key, under a unique index), ``reporters`` (identity, stored apart), ``supporters`` (people
who joined a report with the same problem, and how to reach them), ``outbox``,
``migrations`` (one-off data changes done). ``external_keys`` (the keys in a collection of
their own, one more document and command per report) is no longer used: the backfill takes
the keys from the reports themselves, so a deployment may drop it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from pymongo import ReplaceOne, ReturnDocument, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import OperationFailure

from lapor_kit.idempotency import is_duplicate_key
from lapor_kit.migrations import backfill_once
from lapor_kit.outbox import OutMessage
from lapor_kit.runtime import Runtime
from lapor_schemas import status as case_status

from ..domain.model import Accepted
from ..domain.repeats import Candidate, Indexed
from ..ports import DuplicateExternalIdError, PublicFilter
from ..service import events_of
from ..triage import Correction, Retrained

CHANNEL_KEY = "channel_key"
CLOSED = sorted(case_status.FINISHED)  # finished reports are never repeat targets


class MongoComplaintStore:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime
        self.complaints = runtime.db["complaints"]
        self.reporters = runtime.db["reporters"]
        # people who joined a report ("the same problem"): their contact, like a reporter's
        # identity, never leaves intake except to notify
        self.supporters = runtime.db["supporters"]
        # corrections of categories (labelled examples for the suggester) and the decisions
        # of each retrain
        self.triage_examples = runtime.db["triage_examples"]
        self.triage_models = runtime.db["triage_models"]

    async def ensure_indexes(self) -> None:
        # A single-field unique index: SecantusDB answers a lookup by it as a point lookup,
        # while a query on the partial compound index below is planned as a collection scan
        # (116 ms at 6,000 reports, growing). Sparse: reports from the web have no key.
        await self.complaints.create_index(CHANNEL_KEY, unique=True, sparse=True, name=CHANNEL_KEY)
        # The older guard, kept: a process of the previous version may still be writing
        # reports without ``channel_key`` while the new one starts (a rolling upgrade).
        await self.complaints.create_index(
            [("channel_id", 1), ("external_id", 1)],
            unique=True,
            name="channel_external_id",
            partialFilterExpression={"external_id": {"$type": "string"}},
        )
        await self.complaints.create_index(
            [("region_code", 1), ("category", 1), ("submitted_at", -1)]
        )
        await self.complaints.create_index(
            [("tenant", 1), ("confidential", 1), ("submitted_at", -1)]
        )
        # similar reports near a spot, before filing: one category, recent weeks
        await self.complaints.create_index([("category", 1), ("submitted_at", -1)])
        await self._backfill_channel_keys()
        await self._backfill_verified()

    async def _backfill_channel_keys(self) -> None:
        """Reports stored before ``channel_key`` existed get it (once; several processes
        doing it at once write the same values)."""
        await backfill_once(
            self.complaints,
            CHANNEL_KEY,
            {"external_id": {"$type": "string"}, CHANNEL_KEY: {"$exists": False}},
            {"channel_id": 1, "external_id": 1},
            lambda d: (
                {CHANNEL_KEY: _key(d["channel_id"], d["external_id"])}
                if d.get("channel_id")
                else None
            ),
        )

    async def _backfill_verified(self) -> None:
        """Reports stored before ``verified`` was kept: verified if their history holds a
        verification or a dispatch (only verified reports are public). Once."""
        await backfill_once(
            self.complaints,
            "verified",
            {"verified": {"$exists": False}},
            {"history.type": 1},
            lambda d: {
                "verified": any(
                    h.get("type") in ("case.verified", "case.dispatched")
                    for h in d.get("history") or ()
                )
            },
        )

    async def external_ids(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], str]:
        if not keys:
            return {}
        wanted = {_key(c, e): (c, e) for c, e in keys}
        found = await self.complaints.find(
            {CHANNEL_KEY: {"$in": list(wanted)}}, {CHANNEL_KEY: 1}
        ).to_list()
        return {wanted[d[CHANNEL_KEY]]: d["_id"] for d in found}

    async def request_digest(self, key: tuple[str, str]) -> str | None:
        doc = await self.complaints.find_one({CHANNEL_KEY: _key(*key)}, {"request_sha256": 1})
        return str(doc["request_sha256"]) if doc and doc.get("request_sha256") else None

    async def add(self, accepted: Sequence[Accepted], extra: Sequence[OutMessage]) -> None:
        messages = [m for a in accepted for m in events_of(a)] + list(extra)

        async def work(session: AsyncClientSession) -> None:
            if accepted:
                await self.complaints.insert_many(
                    [_with_key(a.complaint) for a in accepted], ordered=False, session=session
                )
                identities = [a.identity for a in accepted if a.identity is not None]
                if identities:
                    await self.reporters.insert_many(identities, ordered=False, session=session)
            await self.rt.outbox.add(messages, session)

        try:
            await self.rt.in_transaction(work)
        except OperationFailure as exc:
            if is_duplicate_key(exc):
                raise DuplicateExternalIdError(str(exc)) from exc
            raise
        self.rt.outbox.notify()

    async def open_among(self, tracking_ids: Collection[str]) -> set[str]:
        if not tracking_ids:
            return set()
        docs = await self.complaints.find(
            {
                "_id": {"$in": list(tracking_ids)},
                "status": {"$nin": CLOSED},
                "confidential": {"$ne": True},
            },
            {"_id": 1},
        ).to_list()
        return {d["_id"] for d in docs}

    async def recent_open(self, since: datetime) -> list[Indexed]:
        out: list[Indexed] = []
        async with self.complaints.find(
            {
                "submitted_at": {"$gte": since},
                "status": {"$nin": CLOSED},
                "confidential": {"$ne": True},
            },
            {"fp": 1, "repeat_of": 1, "region_code": 1, "category": 1, "submitted_at": 1},
            batch_size=2000,
        ) as cursor:
            async for d in cursor:
                out.append(
                    Indexed(
                        Candidate(d["_id"], d.get("fp") or [], d.get("repeat_of")),
                        d["region_code"],
                        d["category"],
                        d["submitted_at"],
                    )
                )
        out.sort(key=lambda e: e.submitted_at)
        return out

    async def get(self, tracking_id: str) -> dict[str, Any] | None:
        return await self.complaints.find_one({"_id": tracking_id})

    async def identity(self, tracking_id: str) -> dict[str, Any] | None:
        return await self.reporters.find_one({"_id": tracking_id})

    async def add_reply(self, tracking_id: str, entry: dict[str, Any], message: OutMessage) -> None:
        async def work(session: AsyncClientSession) -> None:
            await self.complaints.update_one(
                {"_id": tracking_id},
                {"$push": {"history": entry}, "$set": {"updated_at": entry["at"]}},
                session=session,
            )
            await self.rt.outbox.add([message], session)

        await self.rt.in_transaction(work)
        self.rt.outbox.notify()

    async def public_list(
        self, which: PublicFilter, *, limit: int, skip: int = 0
    ) -> list[dict[str, Any]]:
        return await self.complaints.find(
            _public_query(which), sort=[("submitted_at", -1)], limit=limit, skip=skip
        ).to_list()

    async def set_public(self, tracking_id: str, hidden: bool, redactions: Sequence[str]) -> None:
        await self.complaints.update_one(
            {"_id": tracking_id},
            {"$set": {"hidden": hidden, "public_redactions": list(redactions)}},
        )

    async def add_supporter(
        self,
        tracking_id: str,
        supporter: dict[str, Any],
        messages: Callable[[int], Sequence[OutMessage]],
    ) -> int | None:
        async def work(session: AsyncClientSession) -> int | None:
            if await self.supporters.find_one({"_id": supporter["_id"]}, session=session):
                return None  # joined before: counted once
            await self.supporters.insert_one(supporter, session=session)
            doc = await self.complaints.find_one_and_update(
                {"_id": tracking_id},
                {"$inc": {"supporters": 1}},
                projection={"supporters": 1},
                return_document=ReturnDocument.AFTER,
                session=session,
            )
            count = int((doc or {}).get("supporters") or 1)
            await self.rt.outbox.add(list(messages(count)), session)
            return count

        try:
            count = await self.rt.in_transaction(work)
        except OperationFailure as exc:
            if is_duplicate_key(exc):
                return None  # the same person, twice at once: the other one counted
            raise
        if count is not None:
            self.rt.outbox.notify()
        return count

    async def save_corrections(self, corrections: Sequence[Correction]) -> None:
        """Idempotent: one example per correction event."""
        if corrections:
            await self.triage_examples.bulk_write(
                [
                    ReplaceOne({"_id": c.id}, asdict(c) | {"_id": c.id}, upsert=True)
                    for c in corrections
                ]
            )

    async def corrections(self) -> dict[str, list[Correction]]:
        """Every correction, by province."""
        out: dict[str, list[Correction]] = {}
        async for doc in self.triage_examples.find({}, sort=[("_id", 1)]):
            c = Correction(
                id=str(doc["_id"]),
                province=str(doc["province"]),
                category=str(doc["category"]),
                previous=str(doc.get("previous", "")),
                text=str(doc["text"]),
            )
            out.setdefault(c.province, []).append(c)
        return out

    async def suggestion_agreement(self, since: datetime) -> dict[str, tuple[int, int]]:
        """Per model, (agreeing, suggested): reports since ``since`` whose suggested category
        is their category now (after any correction), and all that had a suggestion. Reports
        kept before the model was recorded count under "committed"."""
        base = {"suggestion": {"$ne": None}, "submitted_at": {"$gte": since}}
        # counted in the store (read before every scrape: never a month of reports fetched)
        models = {m for m in await self.complaints.distinct("suggestion_model", base) if m}
        out: dict[str, tuple[int, int]] = {}
        for model in [*sorted(models), None]:
            which = {**base, "suggestion_model": model}  # None: also reports kept before
            total = await self.complaints.count_documents(which)
            if not total:
                continue
            agreeing = await self.complaints.count_documents(
                {**which, "$expr": {"$eq": ["$suggestion", "$category"]}}
            )
            name = str(model or "committed")
            before = out.get(name, (0, 0))
            out[name] = (before[0] + agreeing, before[1] + total)
        return out

    async def record_retrain(self, decision: Retrained, at: datetime) -> None:
        await self.triage_models.replace_one(
            {"_id": decision.province},
            asdict(decision) | {"_id": decision.province, "at": at},
            upsert=True,
        )

    async def apply_views(self, updates: Sequence[tuple[dict[str, Any], dict[str, Any]]]) -> None:
        await self.complaints.bulk_write([UpdateOne(f, u) for f, u in updates], ordered=False)

    async def applied_events(self, tracking_ids: Sequence[str]) -> dict[str, set[str]]:
        docs = await self.complaints.find(
            {"_id": {"$in": list(tracking_ids)}}, {"history.event_id": 1}
        ).to_list()
        return {
            d["_id"]: {h.get("event_id") for h in d.get("history") or () if h.get("event_id")}
            for d in docs
        }


def _key(channel_id: str, external_id: str) -> str:
    return f"{channel_id}|{external_id}"


def _with_key(complaint: dict[str, Any]) -> dict[str, Any]:
    channel, external = complaint.get("channel_id"), complaint.get("external_id")
    if channel and isinstance(external, str):
        return complaint | {CHANNEL_KEY: _key(channel, external)}
    return complaint


def _public_query(which: PublicFilter) -> dict[str, Any]:
    """:class:`PublicFilter` as a query (its ``admits`` is the same test in Python)."""
    query: dict[str, Any] = {"confidential": False, "verified": True, "hidden": {"$ne": True}}
    if which.ids:
        query["_id"] = {"$in": list(which.ids)}
        return query
    if which.tenant:
        query["tenant"] = which.tenant
    if which.region_code:
        query["region_code"] = which.region_code
    if which.categories:
        query["category"] = {"$in": list(which.categories)}
    if which.statuses:
        query["status"] = {"$in": list(which.statuses)}
    elif which.open_cases is not None:
        query["status"] = {"$nin" if which.open_cases else "$in": CLOSED}
    if which.since or which.until:
        query["submitted_at"] = {
            k: v for k, v in (("$gte", which.since), ("$lte", which.until)) if v is not None
        }
    if which.within is not None:
        box = which.within
        query["location.lat"] = {"$gte": box.south, "$lte": box.north}
        query["location.lon"] = {"$gte": box.west, "$lte": box.east}
    return query
