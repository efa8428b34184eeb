"""MongoDB adapter for notify (database ``lapor_notify``).

Collections: ``deliveries`` (``_id`` = event:recipient:channel, so a redelivered event cannot
create a second delivery; the rendered message, the address and the status), ``contacts``
(reporter contacts, only here), ``supporters`` (the contacts of people who joined a report
with the same problem), ``case_facts`` (what messages may quote, no identity, and
``handled``: the ids of the case's events already planned, the consumer's idempotency
record),
``waiting`` (reporter notices parked until the contact arrives), ``agency_channels``
(agencies' contacts by role and webhook registrations), ``agency_channels_version`` (one
counter, raised with every change of an agency's entry), ``outbox``; ``processed_events``
is only read, for events handled before ``handled`` was kept.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping, Sequence
from typing import Any

from pymongo import ReplaceOne, UpdateOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import BulkWriteError

from lapor_kit.idempotency import ProcessedEvents
from lapor_kit.outbox import OutMessage
from lapor_kit.runtime import Runtime

from ..domain.sending import due_attempt
from ..ports import FACTS_VERSION, PlannedEvent

VERSION_ID = "agency_channels"
HANDLED = "handled"
HANDLED_KEPT = 500  # a case's latest event ids kept: far more than a case's events


def _handled(event: PlannedEvent) -> UpdateOne:
    """Set the event's facts, keep its id and raise the facts' version, unless the id is
    kept already or the facts are no longer at the version the plan read: then the filter
    misses, the upsert tries to insert a second document with the case's ``_id``, and the
    store refuses it with a duplicate key, which aborts the plan's transaction."""
    version = event.version or {"$exists": False}
    return UpdateOne(
        {"_id": event.tracking_id, HANDLED: {"$ne": event.event_id}, FACTS_VERSION: version},
        {
            "$set": dict(event.facts),
            "$inc": {FACTS_VERSION: 1},
            "$push": {HANDLED: {"$each": [event.event_id], "$slice": -HANDLED_KEPT}},
        },
        upsert=True,
    )


class MongoNotifyStore:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime
        self.deliveries_ = runtime.db["deliveries"]
        self.contacts = runtime.db["contacts"]
        self.supporters = runtime.db["supporters"]
        self.case_facts = runtime.db["case_facts"]
        self.waiting = runtime.db["waiting"]
        self.agency_channels = runtime.db["agency_channels"]
        self.address_quota = runtime.db["address_quota"]
        self.agency_version = runtime.db["agency_channels_version"]
        self.processed = ProcessedEvents(runtime.db["processed_events"])

    async def ensure_indexes(self) -> None:
        await self.deliveries_.create_index([("tracking_id", 1), ("created_at", 1)])
        await self.deliveries_.create_index([("agency_id", 1), ("created_at", -1)])
        await self.waiting.create_index("tracking_id")
        await self.supporters.create_index("tracking_id")
        await self.supporters.create_index("supporter_id")
        await self.address_quota.create_index([("key", 1), ("at", 1)])
        await self.processed.ensure()

    async def unseen(self, events: Mapping[str, str]) -> set[str]:
        if not events:
            return set()
        docs = await self.case_facts.find(
            {"_id": {"$in": list(set(events.values()))}}, {HANDLED: 1}
        ).to_list()
        handled = {i for d in docs for i in d.get(HANDLED) or ()}
        fresh = {i for i in events if i not in handled}
        return await self.processed.unseen(fresh) if fresh else fresh

    async def claim_address_quotas(self, claims: Sequence[tuple[str, str]], cap: int) -> set[str]:
        """One document per (address-day, delivery), ordered by when it was first claimed
        (then by id): a delivery is allowed while it is among its key's first ``cap``. A
        batch's claims are written at once; a repeated claim keeps its first place. (An
        upserted array per address was tried first; SecantusDB's find-and-modify is not
        atomic under concurrent upserts of one document and refused deliveries it should
        have counted.)"""
        if not claims:
            return set()
        now = time.time()
        docs = [{"_id": f"{key}|{d}", "key": key, "at": now} for key, d in dict.fromkeys(claims)]
        with contextlib.suppress(BulkWriteError):  # already claimed: keeps its place
            await self.address_quota.insert_many(docs, ordered=False)
        allowed: set[str] = set()
        for key in dict.fromkeys(k for k, _ in claims):
            first = await self.address_quota.find(
                {"key": key}, {"_id": 1}, sort=[("at", 1), ("_id", 1)], limit=cap
            ).to_list()
            allowed |= {str(d["_id"]).split("|", 1)[1] for d in first}
        return {d for _, d in claims if d in allowed}

    async def claim_address_quota(self, key: str, delivery_id: str, cap: int) -> bool:
        return delivery_id in await self.claim_address_quotas([(key, delivery_id)], cap)

    async def facts_and_contacts(
        self, tracking_ids: Sequence[str], contact_ids: Sequence[str] | None = None
    ) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
        wanted = list(tracking_ids if contact_ids is None else contact_ids)
        facts: dict[str, dict[str, Any]] = {}
        contacts: dict[str, dict[str, Any]] = {}
        if tracking_ids:
            query = {"_id": {"$in": list(tracking_ids)}}
            docs = await self.case_facts.find(query, {HANDLED: 0}).to_list()
            facts = {d["_id"]: d for d in docs}
        if wanted:
            query = {"_id": {"$in": wanted}}
            contacts = {d["_id"]: d for d in await self.contacts.find(query).to_list()}
        return facts, contacts

    async def agency_entries(self, agency_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        if not agency_ids:
            return {}
        docs = await self.agency_channels.find({"_id": {"$in": list(agency_ids)}}).to_list()
        return {d["_id"]: d for d in docs}

    async def agency_entries_since(
        self, version: int | None
    ) -> tuple[int, dict[str, dict[str, Any]] | None]:
        doc = await self.agency_version.find_one({"_id": VERSION_ID})
        now = int((doc or {}).get("n", 0))
        if now == version:
            return now, None
        # the version is read first: a change landing meanwhile makes the next check reload
        docs = await self.agency_channels.find({}).to_list()
        return now, {d["_id"]: d for d in docs}

    async def record_plan(
        self,
        *,
        events: Sequence[PlannedEvent],
        deliveries: Sequence[dict[str, Any]],
        waiting: Sequence[dict[str, Any]],
        messages: Sequence[OutMessage],
    ) -> None:
        async def work(session: AsyncClientSession) -> None:
            if events:  # one command, in order; an event handled before makes it refuse
                await self.case_facts.bulk_write([_handled(e) for e in events], session=session)
            if deliveries:
                await self.deliveries_.insert_many(list(deliveries), session=session)
            if waiting:
                await self.waiting.bulk_write(
                    [ReplaceOne({"_id": w["_id"]}, w, upsert=True) for w in waiting],
                    session=session,
                )
            if messages:
                await self.rt.outbox.add(messages, session)

        await self.rt.in_transaction(work)
        self.rt.outbox.notify()

    async def save_contacts(self, contacts: Sequence[dict[str, Any]]) -> None:
        if contacts:
            await self.contacts.bulk_write(
                [ReplaceOne({"_id": c["_id"]}, c, upsert=True) for c in contacts], ordered=False
            )

    async def save_supporters(self, supporters: Sequence[dict[str, Any]]) -> None:
        # fields set, not the document replaced: a contact event read again (a redelivery)
        # keeps the "stopped" mark of someone who stopped meanwhile
        if supporters:
            await self.supporters.bulk_write(
                [
                    UpdateOne(
                        {"_id": c["_id"]},
                        {"$set": {k: v for k, v in c.items() if k not in ("_id", "stopped")}},
                        upsert=True,
                    )
                    for c in supporters
                ],
                ordered=False,
            )

    async def stop_supporter(self, supporter_id: str) -> str | None:
        doc = await self.supporters.find_one_and_update(
            {"supporter_id": supporter_id}, {"$set": {"stopped": True}}
        )
        return str(doc["tracking_id"]) if doc else None

    async def supporters_of(self, tracking_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        found: dict[str, list[dict[str, Any]]] = {}
        if tracking_ids:
            query = {"tracking_id": {"$in": list(tracking_ids)}, "stopped": {"$ne": True}}
            for doc in await self.supporters.find(query).sort("_id", 1).to_list():
                found.setdefault(doc["tracking_id"], []).append(doc)
        return found

    async def waiting_for(self, tracking_ids: Sequence[str]) -> list[dict[str, Any]]:
        return await self.waiting.find({"tracking_id": {"$in": list(tracking_ids)}}).to_list()

    async def expand_waiting(
        self, expansions: Mapping[str, tuple[Sequence[dict[str, Any]], Sequence[OutMessage]]]
    ) -> int:
        """Replace parked notices by their deliveries, once: a notice another worker expanded
        meanwhile is skipped (with its deliveries and jobs)."""
        inserted = [0]

        async def work(session: AsyncClientSession) -> None:
            inserted[0] = 0
            still = {
                d["_id"]
                for d in await self.waiting.find(
                    {"_id": {"$in": list(expansions)}}, {"_id": 1}, session=session
                ).to_list()
            }
            if not still:
                return
            await self.waiting.delete_many({"_id": {"$in": list(still)}}, session=session)
            keep = [d for key in still for d in expansions[key][0]]
            jobs = [m for key in still for m in expansions[key][1]]
            if keep:
                await self.deliveries_.insert_many(keep, session=session)
            if jobs:
                await self.rt.outbox.add(jobs, session)
            inserted[0] = len(keep)

        await self.rt.in_transaction(work)
        self.rt.outbox.notify()
        return inserted[0]

    async def deliveries(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        docs = await self.deliveries_.find({"_id": {"$in": list(ids)}}).to_list()
        return {d["_id"]: d for d in docs}

    async def due_deliveries(self, wanted: Mapping[str, int]) -> dict[str, dict[str, Any]]:
        docs = await self.deliveries_.find({"_id": {"$in": list(wanted)}}).to_list()
        return {d["_id"]: d for d in docs if due_attempt(d, wanted[d["_id"]])}

    async def settle(
        self, updates: Sequence[tuple[str, dict[str, Any]]], messages: Sequence[OutMessage]
    ) -> None:
        async def work(session: AsyncClientSession) -> None:
            if updates:
                await self.deliveries_.bulk_write(
                    [UpdateOne({"_id": i}, {"$set": s}) for i, s in updates], session=session
                )
            if messages:
                await self.rt.outbox.add(messages, session)

        await self.rt.in_transaction(work)
        self.rt.outbox.notify()

    async def requeue(self, messages: Sequence[OutMessage]) -> None:
        async def work(session: AsyncClientSession) -> None:
            await self.rt.outbox.add(messages, session)

        await self.rt.in_transaction(work)
        self.rt.outbox.notify()

    async def list_deliveries(
        self, query: Mapping[str, Any], limit: int, *, newest_first: bool = False
    ) -> list[dict[str, Any]]:
        return await self.deliveries_.find(
            dict(query),
            {"address": 0, "payload": 0},
            sort=[("created_at", -1 if newest_first else 1)],
            limit=limit,
        ).to_list()

    async def agency_entry(self, agency_id: str) -> dict[str, Any] | None:
        return await self.agency_channels.find_one({"_id": agency_id})

    async def save_agency_entry(self, agency_id: str, changes: Mapping[str, Any]) -> None:
        async def work(session: AsyncClientSession) -> None:
            await self.agency_channels.update_one(
                {"_id": agency_id}, {"$set": dict(changes)}, upsert=True, session=session
            )
            await self.agency_version.update_one(
                {"_id": VERSION_ID}, {"$inc": {"n": 1}}, upsert=True, session=session
            )

        await self.rt.in_transaction(work)
