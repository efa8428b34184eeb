"""Notify's store adapter on the real store (SecantusDB): the handled-event record kept with
a case's facts is the planning consumer's idempotency guard, and the agencies' entries are
read again only when their version moves."""

from __future__ import annotations

import uuid

import pytest
from pymongo.errors import BulkWriteError

from lapor_devstack.settings import StackSettings
from lapor_intake.domain.model import new_tracking_id
from lapor_kit.idempotency import is_duplicate_key
from lapor_notify.adapters.store import MongoNotifyStore
from lapor_notify.main import build
from lapor_notify.ports import PlannedEvent
from lapor_notify.settings import NotifySettings
from tests.support import fast_settings

pytestmark = pytest.mark.integration


def delivery(event_id: str, tid: str) -> dict[str, object]:
    return {"_id": f"{event_id}:reporter:inbox", "tracking_id": tid, "status": "delivered"}


async def test_an_event_handled_before_makes_the_whole_plan_refuse(
    infra: object, stack_settings: StackSettings
) -> None:
    settings: NotifySettings = fast_settings(NotifySettings, stack_settings)
    app, rt = build(settings)
    async with app.router.lifespan_context(app):
        store = MongoNotifyStore(rt)
        tid, other = new_tracking_id(), new_tracking_id()
        e1, e2, e3, e4, old = (uuid.uuid4().hex for _ in range(5))
        await store.record_plan(
            events=[
                PlannedEvent(tid, e1, {"title": "Jalan berlubang", "agency_id": None}),
                PlannedEvent(tid, e2, {"agency_id": "63.71.pupr"}, 1),
            ],
            deliveries=[delivery(e1, tid), delivery(e2, tid)],
            waiting=[],
            messages=[],
        )
        facts, _ = await store.facts_and_contacts([tid], contact_ids=[])
        assert facts[tid] == {
            "_id": tid,
            "title": "Jalan berlubang",
            "agency_id": "63.71.pupr",
            "_version": 2,
        }

        # e3 is new but e1 was handled: nothing of this plan is written
        with pytest.raises(BulkWriteError) as refused:
            await store.record_plan(
                events=[PlannedEvent(other, e3, {"title": "Lain"}), PlannedEvent(tid, e1, {}, 2)],
                deliveries=[delivery(e3, other)],
                waiting=[],
                messages=[],
            )
        assert is_duplicate_key(refused.value)
        assert await store.deliveries([f"{e3}:reporter:inbox"]) == {}
        assert (await store.facts_and_contacts([other], contact_ids=[]))[0] == {}

        # a plan based on facts that have changed since (version 1, now 2) is refused too
        with pytest.raises(BulkWriteError) as stale:
            await store.record_plan(
                events=[PlannedEvent(tid, e3, {"agency_id": "63.71.dpkp"}, 1)],
                deliveries=[],
                waiting=[],
                messages=[],
            )
        assert is_duplicate_key(stale.value)
        # a new case's facts are written only if none are stored: version 0
        with pytest.raises(BulkWriteError):
            await store.record_plan(
                events=[PlannedEvent(tid, e3, {"title": "Ditimpa"})],
                deliveries=[],
                waiting=[],
                messages=[],
            )
        await store.record_plan(
            events=[PlannedEvent(tid, e3, {"agency_id": "63.71.dpkp"}, 2)],
            deliveries=[],
            waiting=[],
            messages=[],
        )
        facts, _ = await store.facts_and_contacts([tid], contact_ids=[])
        assert (facts[tid]["agency_id"], facts[tid]["_version"]) == ("63.71.dpkp", 3)

        # the careful path: handled ids from the facts, and ids processed before they were kept
        await rt.db["processed_events"].insert_one({"_id": old, "at": 0.0})
        assert await store.unseen({e1: tid, e2: tid, e3: tid, old: other, e4: other}) == {e4}


async def test_agency_entries_are_read_again_only_when_their_version_moves(
    infra: object, stack_settings: StackSettings
) -> None:
    settings: NotifySettings = fast_settings(NotifySettings, stack_settings)
    app, rt = build(settings)
    async with app.router.lifespan_context(app):
        store = MongoNotifyStore(rt)
        agency = f"63.71.test-{uuid.uuid4().hex[:6]}"
        await store.save_agency_entry(agency, {"contacts": [{"role": "operator"}]})
        version, entries = await store.agency_entries_since(None)
        assert entries is not None
        assert entries[agency]["contacts"] == [{"role": "operator"}]
        assert await store.agency_entries_since(version) == (version, None)
        await store.save_agency_entry(agency, {"webhook": None})
        moved, again = await store.agency_entries_since(version)
        assert moved > version
        assert again is not None
        assert again[agency]["webhook"] is None
