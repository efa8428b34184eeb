"""Baselines on the same broker and store.

B1: a hand-written pipeline with the same hops and the same durable effects per complaint as
Lapor, done the fast way: batched consumption, unawaited sends flushed once per batch (64 KB
producer batches), unordered bulk writes, commit after the writes. No validation, no
framework, and none of Lapor's reliability bookkeeping (outbox, processed event ids,
transactions). Each stage is its own process, like the services. Per complaint: intake stores
the complaint and later updates its view; routing stores the case and two timers; notify
upserts its case facts twice, stores four deliveries and marks the email sending, then sent;
metrics upserts the case projection twice and bumps four counters (about 19 writes).

B1-minimal (the first version of this baseline, kept for comparison): one write per stage
(complaint, case, one delivery, counters), about 5 writes per complaint.

B2: ``insert_many`` of the same complaint documents in batches of 500.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import random
import time
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from pymongo import AsyncMongoClient, UpdateOne
from pymongo.errors import BulkWriteError

from .data import complaint

TOPICS = ("raw.intake", "raw.submitted", "raw.dispatched")
SOURCES = {
    "intake": ("raw.intake", "raw.dispatched"),  # stores complaints; keeps their views
    "routing": ("raw.submitted",),
    "notify": ("raw.submitted", "raw.dispatched"),
    "metrics": ("raw.submitted", "raw.dispatched"),
}
MINIMAL_SOURCES = {
    "intake": ("raw.intake",),
    "routing": ("raw.submitted",),
    "notify": ("raw.dispatched",),
    "metrics": ("raw.submitted", "raw.dispatched"),
}
# Deliveries per event, as Lapor plans them for an anonymous report without a contact: the
# reporter's inbox on submission; the agency's email and inbox and the reporter's inbox on
# dispatch. The email is marked sending, then sent.
DELIVERIES = {"submitted": ("inbox",), "dispatched": ("email", "inbox", "inbox-agency")}


def producer(bootstrap: str) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap, linger_ms=5, max_batch_size=64 * 1024, acks="all"
    )


async def _insert(collection: Any, docs: list[dict[str, Any]]) -> None:
    """Unordered insert that treats documents already there as done: a batch can be
    delivered again after a rebalance, and a hand-written consumer must shrug that off too."""
    try:
        await collection.insert_many(docs, ordered=False)
    except BulkWriteError as exc:
        if any(e.get("code") != 11000 for e in exc.details.get("writeErrors", [])):
            raise


async def _effects(name: str, db: Any, values: list[dict[str, Any]], minimal: bool) -> None:
    """The durable writes of one stage for one batch. ``minimal``: one document per record
    (the first baseline); otherwise the same documents Lapor's services write as effects
    (not their outbox, processed ids or transactions)."""
    if minimal:
        if name == "metrics":
            await db["metrics"].bulk_write(
                [
                    UpdateOne({"_id": f"{v['kind']}|{v['region_code']}"}, {"$inc": {"n": 1}}, True)
                    for v in values
                ],
                ordered=False,
            )
        else:
            docs = [{**v, "_id": v["id"], "stage": name} for v in values]
            await _insert(db[name], docs)
        return
    fresh = [v for v in values if "kind" not in v]
    dispatched = [v for v in values if v.get("kind") == "dispatched"]
    if name == "intake":
        if fresh:  # the complaint with its reporter-facing view
            docs = [{**v, "_id": v["id"], "status": "submitted", "history": []} for v in fresh]
            await _insert(db["complaints"], docs)
        if dispatched:
            await db["complaints"].bulk_write(
                [
                    UpdateOne(
                        {"_id": v["id"]},
                        {
                            "$set": {"status": "dispatched", "updated_at": v["at"]},
                            "$push": {"history": {"status": "dispatched", "at": v["at"]}},
                        },
                    )
                    for v in dispatched
                ],
                ordered=False,
            )
    elif name == "routing":  # the case and its two clocks (verification, follow-up)
        cases = [
            {"_id": v["id"], "status": "dispatched", "region": v["region_code"]} for v in values
        ]
        await _insert(db["cases"], cases)
        timers = [
            {
                "_id": f"{v['id']}:{t}",
                "tracking_id": v["id"],
                "due": v["at"] + 86400,
                "fired": False,
            }
            for v in values
            for t in ("verify", "follow_up")
        ]
        await _insert(db["timers"], timers)
    elif name == "notify":  # what messages may quote, the deliveries, the email's outcome
        await db["case_facts"].bulk_write(
            [
                UpdateOne(
                    {"_id": v["id"]}, {"$set": {"status": v["kind"], "title": v["title"]}}, True
                )
                for v in values
            ],
            ordered=False,
        )
        deliveries = [
            {
                "_id": f"{v['id']}:{v['kind']}:{c}",
                "tracking_id": v["id"],
                "channel": c,
                "text": v["description"],
                "status": "stored" if c != "email" else "queued",
            }
            for v in values
            for c in DELIVERIES[v["kind"]]
        ]
        await _insert(db["deliveries"], deliveries)
        emails = [d["_id"] for d in deliveries if d["channel"] == "email"]
        if emails:
            for status in ("sending", "sent"):
                await db["deliveries"].update_many(
                    {"_id": {"$in": emails}}, {"$set": {"status": status}}
                )
    elif name == "metrics":  # the per-case projection and the counters it moves
        await db["cases"].bulk_write(
            [
                UpdateOne({"_id": v["id"]}, {"$set": {"status": v["kind"], "at": v["at"]}}, True)
                for v in values
            ],
            ordered=False,
        )
        await db["counters"].bulk_write(
            [
                UpdateOne({"_id": f"{v['kind']}|{key}"}, {"$inc": {"value": 1}}, True)
                for v in values
                for key in (v["region_code"], v["category"])
            ],
            ordered=False,
        )


async def _stage(name: str, bootstrap: str, mongo: str, db: str, run: str, minimal: bool) -> None:
    # each run has topics of its own: a second run must not read the first one's records
    src = [f"{t}.{run}" for t in (MINIMAL_SOURCES[name] if minimal else SOURCES[name])]
    dst = {"intake": f"raw.submitted.{run}", "routing": f"raw.dispatched.{run}"}.get(name)
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo)
    database = client[db]
    consumer = AIOKafkaConsumer(
        *src,
        bootstrap_servers=bootstrap,
        group_id=f"raw-{name}-{run}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=500,
        session_timeout_ms=6000,
        heartbeat_interval_ms=500,
    )
    out = producer(bootstrap) if dst else None
    await consumer.start()
    if out:
        await out.start()
    try:
        while True:
            batch = await consumer.getmany(timeout_ms=200, max_records=500)
            records = [r for rs in batch.values() for r in rs]
            if not records:
                continue
            values = [json.loads(r.value) for r in records]
            await _effects(name, database, values, minimal)
            if out is not None:
                kind = "submitted" if name == "intake" else "dispatched"
                for v in values:
                    if name == "intake" and "kind" in v:
                        continue  # a view update, nothing to announce
                    event = {**v, "kind": kind, "at": time.time()}
                    await out.send(dst, json.dumps(event).encode(), key=v["id"].encode())
                await out.flush()
            await consumer.commit()
    finally:
        await consumer.stop()
        if out:
            await out.stop()
        await client.close()


def _run_stage(name: str, bootstrap: str, mongo: str, db: str, run: str, minimal: bool) -> None:
    asyncio.run(_stage(name, bootstrap, mongo, db, run, minimal))


async def _ensure_topics(bootstrap: str, partitions: int, run: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [f"{t}.{run}" for t in TOPICS]
        new = [NewTopic(t, partitions, 1) for t in wanted if t not in existing]
        if new:
            await admin.create_topics(new)
    finally:
        await admin.close()


async def b1(
    bootstrap: str, mongo: str, n: int, *, minimal: bool = False, partitions: int = 6
) -> dict[str, float]:
    """Complaints per second through the raw pipeline (produce to last delivery stored)."""
    run = f"{int(time.time())}{'m' if minimal else ''}"
    db = f"bench_raw_{run}"
    await _ensure_topics(bootstrap, partitions, run)
    ctx = multiprocessing.get_context("spawn")
    procs = [
        ctx.Process(target=_run_stage, args=(s, bootstrap, mongo, db, run, minimal), daemon=True)
        for s in ("intake", "routing", "notify", "metrics")
    ]
    for p in procs:
        p.start()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo)
    try:
        await asyncio.sleep(4)  # group joins
        rng = random.Random(7)
        bodies = [json.dumps({**complaint(i, rng), "id": f"{run}-{i}"}).encode() for i in range(n)]
        out = producer(bootstrap)
        await out.start()
        start = time.monotonic()
        for i, body in enumerate(bodies):
            await out.send(f"raw.intake.{run}", body, key=f"{run}-{i}".encode())
        await out.flush()
        await out.stop()
        deliveries = client[db]["notify" if minimal else "deliveries"]
        expected = n if minimal else n * sum(len(c) for c in DELIVERIES.values())
        while await deliveries.estimated_document_count() < expected:
            if not all(p.is_alive() for p in procs):
                raise RuntimeError("a stage of the raw pipeline died (see its traceback)")
            await asyncio.sleep(0.1)
            if time.monotonic() - start > 600:
                raise TimeoutError("raw pipeline did not finish in 10 minutes")
        elapsed = time.monotonic() - start
    finally:
        for p in procs:
            p.terminate()
        await client.drop_database(db)
        await client.close()
    return {"complaints": n, "seconds": round(elapsed, 3), "per_second": round(n / elapsed, 1)}


async def b2(mongo: str, n: int, batch: int = 500) -> dict[str, float]:
    """Complaint documents per second with ``insert_many`` (batches of 500)."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo)
    coll = client["bench_bulk"]["complaints"]
    await coll.drop()
    rng = random.Random(11)
    docs = [{**complaint(i, rng), "_id": f"bulk-{i}"} for i in range(n)]
    start = time.monotonic()
    for i in range(0, n, batch):
        await coll.insert_many(docs[i : i + batch], ordered=False)
    elapsed = time.monotonic() - start
    await client.drop_database("bench_bulk")
    await client.close()
    return {"documents": n, "seconds": round(elapsed, 3), "per_second": round(n / elapsed, 1)}
