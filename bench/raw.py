"""Baselines on the same broker and store.

B1: a minimal hand-written pipeline with the same hops and the same durable writes per
complaint as Lapor (intake stores the complaint and announces it; routing stores the case and
announces the dispatch; notify stores a delivery; metrics bumps counters), done the fast way:
batched consumption, unawaited sends flushed once per batch (64 KB producer batches),
unordered bulk writes, commit after the writes. No validation, no framework. Each stage is its
own process, like the services.

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

from .data import complaint

TOPICS = ("raw.intake", "raw.submitted", "raw.dispatched")


def producer(bootstrap: str) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap, linger_ms=5, max_batch_size=64 * 1024, acks="all"
    )


async def _stage(name: str, bootstrap: str, mongo: str, db: str, run: str) -> None:
    src, dst = {
        "intake": ("raw.intake", "raw.submitted"),
        "routing": ("raw.submitted", "raw.dispatched"),
        "notify": ("raw.dispatched", None),
        "metrics": ("raw.submitted,raw.dispatched", None),
    }[name]
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo)
    coll = client[db][name]
    consumer = AIOKafkaConsumer(
        *src.split(","),
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
            if name == "metrics":
                await coll.bulk_write(
                    [
                        UpdateOne(
                            {"_id": f"{v['kind']}|{v['region_code']}"},
                            {"$inc": {"n": 1}},
                            upsert=True,
                        )
                        for v in values
                    ],
                    ordered=False,
                )
            else:
                docs = [{**v, "_id": v["id"], "stage": name} for v in values]
                await coll.insert_many(docs, ordered=False)
            if out is not None:
                kind = "submitted" if name == "intake" else "dispatched"
                for v in values:
                    event = {**v, "kind": kind, "at": time.time()}
                    await out.send(dst, json.dumps(event).encode(), key=v["id"].encode())
                await out.flush()
            await consumer.commit()
    finally:
        await consumer.stop()
        if out:
            await out.stop()
        await client.close()


def _run_stage(name: str, bootstrap: str, mongo: str, db: str, run: str) -> None:
    asyncio.run(_stage(name, bootstrap, mongo, db, run))


async def _ensure_topics(bootstrap: str, partitions: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        new = [NewTopic(t, partitions, 1) for t in TOPICS if t not in existing]
        if new:
            await admin.create_topics(new)
    finally:
        await admin.close()


async def b1(bootstrap: str, mongo: str, n: int, partitions: int = 6) -> dict[str, float]:
    """Complaints per second through the raw pipeline (produce to last delivery stored)."""
    run = f"{int(time.time())}"
    db = f"bench_raw_{run}"
    await _ensure_topics(bootstrap, partitions)
    ctx = multiprocessing.get_context("spawn")
    procs = [
        ctx.Process(target=_run_stage, args=(s, bootstrap, mongo, db, run), daemon=True)
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
            await out.send("raw.intake", body, key=f"{run}-{i}".encode())
        await out.flush()
        await out.stop()
        deliveries = client[db]["notify"]
        while await deliveries.estimated_document_count() < n:
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
