"""Notify's store adapter on the real store (SecantusDB): the handled-event record kept with
a case's facts is the planning consumer's idempotency guard, a batch seen before still
expands the reporter notices it parked, and the agencies' entries are read again only when
their version moves."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo.errors import BulkWriteError

from lapor_devstack.settings import StackSettings
from lapor_intake.domain.model import new_tracking_id
from lapor_kit.idempotency import is_duplicate_key
from lapor_notify.adapters.store import MongoNotifyStore
from lapor_notify.domain.render import Renderer
from lapor_notify.main import build
from lapor_notify.ports import Outgoing, PlannedEvent
from lapor_notify.service import NotifyService
from lapor_notify.settings import NotifySettings
from lapor_schemas import ContactData, ReporterContact
from tests.factories import submitted
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


class Unsent:
    async def send(self, message: Outgoing) -> None:
        raise AssertionError("planning sends nothing")


async def test_a_parked_notice_left_by_a_plan_cut_short_is_expanded_when_the_batch_comes_again(
    infra: object, stack_settings: StackSettings
) -> None:
    """The contact is stored while the plan is (the contacts consumer finds nothing parked
    yet), and the process dies right after the plan's commit: the redelivered event, handled
    already, still turns the parked notice into the reporter's SMS."""
    settings: NotifySettings = fast_settings(NotifySettings, stack_settings)
    app, rt = build(settings)
    async with app.router.lifespan_context(app):
        tid = new_tracking_id()
        event = submitted(tid, reporter_contactable=True)
        phone = ReporterContact(
            source="lapor-intake",
            tenant="63",
            subject=tid,
            correlation_id=tid,
            data=ContactData(tracking_id=tid, anonymous=False, phone="+6281234567890"),
        )

        def service(store: MongoNotifyStore) -> NotifyService:
            return NotifyService(
                store, {"sms": Unsent()}, Renderer(), clock=lambda: datetime.now(UTC)
            )

        class DiesAfterThePlan(MongoNotifyStore):
            async def record_plan(self, **kw: Any) -> None:
                assert await service(MongoNotifyStore(rt)).handle_contacts([phone]) == 0
                await super().record_plan(**kw)
                self.died = True

            async def waiting_for(self, tracking_ids: Sequence[str]) -> list[dict[str, Any]]:
                if getattr(self, "died", False):
                    raise ConnectionError("the process died after storing the plan")
                return await super().waiting_for(tracking_ids)

        with pytest.raises(ConnectionError):
            await service(DiesAfterThePlan(rt)).handle_events([event])
        store = MongoNotifyStore(rt)
        assert len(await store.waiting_for([tid])) == 1

        assert await service(store).handle_events([event]) == 0  # planned once only ...
        assert await store.waiting_for([tid]) == []  # ... and the notice is expanded
        found = await store.list_deliveries({"tracking_id": tid}, 10)
        assert sorted(d["channel"] for d in found) == ["inbox", "sms"]
