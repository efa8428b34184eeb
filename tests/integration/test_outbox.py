"""The transactional outbox on the real store and broker."""

from __future__ import annotations

import asyncio
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
        assert await processed.unseen(["a", "b"]) == {"a", "b"}

        async def mark(session: AsyncClientSession) -> None:
            await processed.mark(["a"], session, 1.0)

        await rt.in_transaction(mark)
        assert await processed.unseen(["a", "b"]) == {"b"}
        with pytest.raises(OperationFailure, match=r"duplicate key|E11000"):
            await rt.in_transaction(mark)  # a second writer of the same event loses
    finally:
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
