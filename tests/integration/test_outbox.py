"""The transactional outbox on the real store and broker."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import OperationFailure

from lapor_devstack.settings import StackSettings
from lapor_kit.idempotency import ProcessedEvents
from lapor_kit.outbox import OutMessage
from lapor_kit.runtime import Runtime
from lapor_kit.settings import KitSettings
from tests.support import TopicReader

pytestmark = pytest.mark.integration
TOPIC = "lapor.test.outbox.v1"


async def test_committed_messages_are_published_in_order_and_aborted_ones_never(
    kit_settings: KitSettings, stack_settings: StackSettings
) -> None:
    rt = Runtime(kit_settings, "outboxtest")
    rt.topics = (TOPIC,)
    key = f"LPR-{uuid.uuid4().hex[:10].upper()}"
    committed = [OutMessage(TOPIC, key, f"m{i}".encode()) for i in range(30)]
    aborted = OutMessage(TOPIC, key, b"aborted")

    async with rt.lifespan():
        reader = await TopicReader(stack_settings.kafka_bootstrap, TOPIC).start()
        try:

            async def write(session: AsyncClientSession) -> None:
                await rt.outbox.add(committed, session)

            async def write_then_fail(session: AsyncClientSession) -> None:
                await rt.outbox.add([aborted], session)
                raise RuntimeError("the effect failed")

            with pytest.raises(RuntimeError):
                await rt.in_transaction(write_then_fail)
            rt.relay.hold_seconds = 3600.0  # look at what is stored before it is published
            await rt.in_transaction(write)
            stored = await rt.outbox.collection.find({"messages.key": key}).to_list()
            assert [d["n"] for d in stored] == [30]  # one transaction, one document
            rt.relay.hold_seconds = 0.0
            # an entry of the older one-message shape is still published, after them
            legacy = {"topic": TOPIC, "key": key, "value": b"legacy", "headers": {}}
            await rt.outbox.collection.insert_one({**legacy, "seq": 2**62, "created": 0.0})
            rt.outbox.notify()
            records = await reader.wait_for(lambda r: r.key == key.encode(), count=31)
            await asyncio.sleep(0.5)  # room for anything that should not be there
            values = [r.value for r in reader.records if r.key == key.encode()]
        finally:
            await reader.stop()
        assert [r.value for r in records] == [m.value for m in committed] + [b"legacy"]
        assert b"aborted" not in values
        assert len(values) == 31
        assert len({r.partition for r in records}) == 1  # one key, one partition, one order
        assert await rt.outbox.collection.count_documents({}) == 0


async def test_processed_events_are_remembered_with_the_effect(kit_settings: KitSettings) -> None:
    rt = Runtime(kit_settings, "idemtest")
    processed = ProcessedEvents(rt.db["processed_events"])
    try:
        await processed.ensure()
        assert await processed.unseen(["a", "b"]) == {"a", "b"}

        async def mark(session: AsyncClientSession) -> None:
            await processed.mark(["a"], session, 1.0)

        await rt.in_transaction(mark)
        assert await processed.unseen(["a", "b"]) == {"b"}
        with pytest.raises(OperationFailure, match=r"duplicate key|E11000"):
            await rt.in_transaction(mark)  # a second writer of the same event loses
    finally:
        await rt.mongo.close()


async def test_a_batch_of_processed_ids_is_one_document_and_older_ones_are_kept(
    kit_settings: KitSettings,
) -> None:
    rt = Runtime(kit_settings, f"idem{uuid.uuid4().hex[:6]}")
    coll = rt.db["processed_events"]
    processed = ProcessedEvents(coll)
    try:
        # ids stored one document each, by the older version
        await coll.insert_many([{"_id": "old-1", "at": 0.0}, {"_id": "old-2", "at": 0.0}])
        await processed.ensure()
        await processed.ensure()  # once is enough; again is harmless

        async def mark(ids: list[str]) -> None:
            async def work(session: AsyncClientSession) -> None:
                await processed.mark(ids, session, 1.0)

            await rt.in_transaction(work)

        await mark(["a", "b", "c", "a"])
        assert await coll.count_documents({"ids": "a"}) == 1
        assert await coll.count_documents({}) == 3  # one for the batch, the two older ones
        for repeat in (["c", "d"], ["d", "old-1"]):  # any id seen before refuses the batch
            with pytest.raises(OperationFailure, match=r"duplicate key|E11000"):
                await mark(repeat)
        assert await processed.unseen(["a", "d", "old-2", "e"]) == {"d", "e"}
        # a process of the older version, still running, writes the older shape
        await coll.insert_one({"_id": "older-writer", "at": 2.0})
        assert await processed.unseen(["older-writer", "f"]) == {"f"}
    finally:
        await rt.mongo.drop_database(rt.db.name)
        await rt.mongo.close()


async def test_store_commands_documents_and_time_are_counted(kit_settings: KitSettings) -> None:
    rt = Runtime(kit_settings, "statstest")

    def sample(metric: str, command: str, collection: str) -> float:
        labels = {"service": "statstest", "command": command, "collection": collection}
        return rt.registry.get_sample_value(metric, labels) or 0.0

    try:
        await rt.db["things"].insert_many([{"n": i} for i in range(3)])
        await rt.db["things"].update_many({}, {"$set": {"seen": True}})
        await rt.db["things"].find({"n": {"$gt": 0}}).to_list()
        assert sample("lapor_store_commands_total", "insert", "things") == 1
        assert sample("lapor_store_documents_total", "insert", "things") == 3
        assert sample("lapor_store_documents_total", "update", "things") == 1  # one statement
        assert sample("lapor_store_commands_total", "find", "things") == 1
        assert sample("lapor_store_command_seconds_total", "insert", "things") > 0
    finally:
        await rt.mongo.drop_database(rt.db.name)
        await rt.mongo.close()


async def test_the_relay_publishes_from_memory_and_deletes_in_batches(
    kit_settings: KitSettings, stack_settings: StackSettings
) -> None:
    """What a commit wrote is published without reading it back; published documents are
    deleted together; a document no relay published (a process died after its commit) is
    found by the sweep once it is older than the grace period."""
    rt = Runtime(kit_settings, "relaytest")
    rt.topics = (TOPIC,)
    key = f"LPR-{uuid.uuid4().hex[:10].upper()}"

    def commands(command: str) -> float:
        labels = {"service": "relaytest", "command": command, "collection": "outbox"}
        return rt.registry.get_sample_value("lapor_store_commands_total", labels) or 0.0

    async with rt.lifespan():
        reader = await TopicReader(stack_settings.kafka_bootstrap, TOPIC).start()
        try:
            rt.relay.sweep_seconds = 0.5
            rt.relay.sweep_grace = 2.0
            rt.relay.delete_delay = 0.5
            await asyncio.sleep(0.3)  # the start-up sweep is done
            finds, deletes = commands("find"), commands("delete")

            for i in range(10):

                async def write(session: AsyncClientSession, i: int = i) -> None:
                    await rt.outbox.add([OutMessage(TOPIC, key, f"m{i}".encode())], session)

                await rt.in_transaction(write)
            rt.relay.sweep_seconds = 3600.0  # no sweep from here on: publishing is from memory
            records = await reader.wait_for(lambda r: r.key == key.encode(), count=10)
            assert [r.value for r in records] == [f"m{i}".encode() for i in range(10)]
            assert commands("find") - finds <= 1  # (a sweep may have been under way)
            for _ in range(50):
                if await rt.outbox.collection.count_documents({"messages.key": key}) == 0:
                    break
                await asyncio.sleep(0.1)
            assert await rt.outbox.collection.count_documents({"messages.key": key}) == 0
            assert commands("delete") - deletes <= 3  # ten documents, deleted together

            # a document left by a process that died after its commit
            orphan = {"topic": TOPIC, "key": key, "value": b"orphan", "headers": {}}
            await rt.outbox.collection.insert_one(
                {"seq": 1, "n": 1, "messages": [orphan], "created": time.time()}
            )
            rt.relay.sweep_seconds = 0.5
            rt.outbox.notify()
            await asyncio.sleep(1.0)
            assert not [r for r in reader.records if r.value == b"orphan"]  # within its grace
            [found] = await reader.wait_for(lambda r: r.value == b"orphan", timeout=10)
            assert found.key == key.encode()
        finally:
            await reader.stop()
