"""``make bench``: start a separate local stack on free ports, measure the baselines and the
pipeline, print every figure, write them as JSON, and end with the ratios:

    ratio_pipeline_vs_raw=<x> ratio_store_vs_bulk=<y> commands_per_complaint=<n> drain_flatness=<z>

    python -m bench.run [--complaints 20000] [--backlog 100000] [--drain 3000] [--workers 2]

``drain_flatness``: the rate at which a queued backlog of ``--drain`` complaints is drained
on the store full of the ``--backlog`` reports (all still open), against the same drain on
the (nearly) empty store at the start. Both rates run from intake's first acceptance to the
last case dispatched, so the services' start-up (intake loading its repeat index) is printed
apart.
``commands_per_complaint``: store commands per complaint at 10 % load, all services.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import platform
import shutil
import time
from pathlib import Path
from typing import Any

from lapor_devstack.procs import Component, free_port, http_ready
from lapor_devstack.settings import StackSettings
from lapor_devstack.stack import SERVICES, Stack, infrastructure, services
from lapor_schemas.status import FINISHED

from . import raw, storework
from .pipeline import Observer, produce


def stack_settings(var: Path) -> StackSettings:
    return StackSettings.on_free_ports(var, kafka_session_timeout_ms=6000, log_level="WARNING")


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
    }


async def pipeline(s: StackSettings, n: int, run: str, rate: float | None = None) -> dict[str, Any]:
    observer = await Observer(s.kafka_bootstrap).start()
    try:
        start = await produce(s.kafka_bootstrap, n, run, rate)
        await observer.until(n, timeout=max(300.0, n / 20))
        return observer.latencies(start)
    finally:
        await observer.stop()


def say(label: str, value: Any) -> None:
    print(f"{label:<34} {json.dumps(value)}", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--complaints", type=int, default=20_000)
    parser.add_argument("--backlog", type=int, default=100_000)
    parser.add_argument("--light-seconds", type=float, default=20.0)
    parser.add_argument(
        "--drain",
        type=int,
        default=3000,
        help="complaints queued while the services are down, drained on the empty and on the "
        "full store (drain_flatness); 0 skips both",
    )
    parser.add_argument(
        "--workers", type=int, default=2, help="then again with this many processes per service"
    )
    parser.add_argument("--out", type=Path, default=Path("var/bench/results.json"))
    args = parser.parse_args(argv)

    var = Path("var/bench").resolve()
    shutil.rmtree(var, ignore_errors=True)
    var.mkdir(parents=True)
    s = stack_settings(var)
    stack = Stack(s)
    results: dict[str, Any] = {
        "machine": machine(),
        "settings": vars(args) | {"out": str(args.out)},
    }
    started: list[str] = []
    try:
        stack.up(infrastructure(s), timeout=90)
        say("machine", results["machine"])
        results["b2_bulk_insert"] = asyncio.run(raw.b2(s.mongo_url, min(args.complaints, 20_000)))
        say("B2 insert_many x500", results["b2_bulk_insert"])
        results["b1_raw_pipeline"] = asyncio.run(
            raw.b1(s.kafka_bootstrap, s.mongo_url, args.complaints)
        )
        say("B1 raw aiokafka+pymongo", results["b1_raw_pipeline"])
        results["b1_minimal"] = asyncio.run(
            raw.b1(s.kafka_bootstrap, s.mongo_url, args.complaints, minimal=True)
        )
        say("B1-minimal (5 writes/complaint)", results["b1_minimal"])

        stack.up(services(s, SERVICES), timeout=120)
        asyncio.run(pipeline(s, 200, "warm"))  # group joins, first connections
        urls = [f"http://127.0.0.1:{port}/metrics" for port in service_ports(s)]
        if args.drain:
            asyncio.run(storework.until_quiet(urls[3]))
            results["drain_empty_store"] = drain(s, stack, args.drain, "drain-empty")
            say("drain, empty store", results["drain_empty_store"])
        asyncio.run(storework.until_quiet(urls[3]))
        before, began = storework.scrape(urls), time.monotonic()
        full = asyncio.run(pipeline(s, args.complaints, "full"))
        results["pipeline"] = full
        say("pipeline (max throughput)", full)
        results["store_work"] = storework.per_complaint(
            before, storework.scrape(urls), args.complaints, time.monotonic() - began
        )
        say("store work per complaint", results["store_work"])

        results["caught_up_after_seconds"] = asyncio.run(storework.until_quiet(urls[3]))
        say("all consumers caught up after", results["caught_up_after_seconds"])
        rate = max(1.0, 0.1 * float(full["per_second"]))
        light_n = max(50, int(rate * args.light_seconds))
        before, began = storework.scrape(urls), time.monotonic()
        results["pipeline_light"] = asyncio.run(pipeline(s, light_n, "light", rate)) | {
            "offered_per_second": round(rate, 1)
        }
        say("pipeline at 10% load", results["pipeline_light"])
        results["store_work_light"] = storework.per_complaint(
            before, storework.scrape(urls), light_n, time.monotonic() - began
        )
        say("store work per complaint, 10% load", results["store_work_light"])

        if args.workers > 1:
            extra = more_workers(s, args.workers)
            started.extend(c.name for c in extra)
            stack.up(extra, timeout=120)
            asyncio.run(pipeline(s, 200, "warm2"))  # the new members joined their groups
            asyncio.run(storework.until_quiet(urls[3]))
            scaled = asyncio.run(pipeline(s, args.complaints, "scaled"))
            results["pipeline_workers"] = scaled | {"workers_per_service": args.workers}
            say(f"pipeline, {args.workers} workers/service", results["pipeline_workers"])
            for comp in extra:
                stack.pm.stop(comp.name)

        if args.backlog:
            asyncio.run(storework.until_quiet(urls[3]))
            results["backlog_drain"] = drain(s, stack, args.backlog, "backlog")
            say("backlog drain", results["backlog_drain"])
        if args.drain:
            asyncio.run(storework.until_quiet(urls[3]))
            results["drain_full_store"] = drain(s, stack, args.drain, "drain-full") | {
                "open_reports_in_store": asyncio.run(open_reports(s.mongo_url))
            }
            say("drain, full store", results["drain_full_store"])
    finally:
        for name in started:
            stack.pm.stop(name)
        stack.down()

    b1 = results["b1_raw_pipeline"]["per_second"]
    b2 = results["b2_bulk_insert"]["per_second"]
    ratio_pipeline = round(results["pipeline"]["per_second"] / b1, 3)
    # the hot path's write rate: documents (or update/delete statements) all services wrote
    # per second during the full run, against insert_many's documents per second
    ratio_store = round(results["store_work"]["documents_per_second"] / b2, 3)
    results["ratios"] = {
        "workers_speedup": round(
            results["pipeline_workers"]["per_second"] / results["pipeline"]["per_second"], 3
        )
        if "pipeline_workers" in results
        else None,
        "pipeline_vs_raw": ratio_pipeline,
        "pipeline_vs_raw_minimal": round(
            results["pipeline"]["per_second"] / results["b1_minimal"]["per_second"], 3
        ),
        "store_vs_bulk": ratio_store,
        "intake_inserts_vs_bulk": round(results["pipeline"]["intake_accepted_per_second"] / b2, 3),
        "p99_accepted_to_dispatched_ms_at_10pct": results["pipeline_light"][
            "accepted_to_dispatched_ms"
        ].get("p99"),
    }
    commands = results["store_work_light"]["commands_per_complaint"]["all"]
    documents = results["store_work_light"]["documents_per_complaint"]["all"]
    flatness = (
        round(
            results["drain_full_store"]["per_second"] / results["drain_empty_store"]["per_second"],
            3,
        )
        if "drain_full_store" in results
        else None
    )
    results["ratios"] |= {"commands_per_complaint": commands, "drain_flatness": flatness}
    light = results["pipeline_light"]
    results["goals"] = {
        "ratio_pipeline_vs_raw >= 1.0": ratio_pipeline,
        "commands_per_complaint_at_10pct <= 20": commands,
        "documents_per_complaint_at_10pct <= 20": documents,
        "drain_flatness >= 0.9": flatness,
        "p99_accepted_to_dispatched_ms_at_10pct <= 150": light["accepted_to_dispatched_ms"].get(
            "p99"
        ),
        "p99_accepted_to_notified_ms_at_10pct <= 400": light["accepted_to_notified_ms"].get("p99"),
        "workers_speedup >= 1.0": results["ratios"]["workers_speedup"],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"results written to {args.out}")
    say("goals", results["goals"])
    print(
        f"ratio_pipeline_vs_raw={ratio_pipeline} ratio_store_vs_bulk={ratio_store} "
        f"commands_per_complaint={commands} drain_flatness={flatness}"
    )


def service_ports(s: StackSettings) -> list[int]:
    return [s.intake_port, s.routing_port, s.notify_port, s.metrics_port]


def more_workers(s: StackSettings, workers: int) -> list[Component]:
    """Extra processes of every service, on ports of their own (same groups: the partitions
    are shared out between them)."""
    extra = []
    for n in range(2, workers + 1):
        for comp in services(s, SERVICES):
            port = free_port()
            env = {**comp.env, f"LAPOR_{comp.name.upper()}_PORT": str(port)}
            extra.append(
                Component(
                    f"{comp.name}-{n}",
                    comp.argv,
                    http_ready(f"http://127.0.0.1:{port}/health"),
                    env,
                )
            )
    return extra


def drain(s: StackSettings, stack: Stack, n: int, run: str) -> dict[str, Any]:
    """Stop the services, queue ``n`` complaints, start them again and time the drain."""
    for name in SERVICES:
        stack.pm.stop(name)
    return asyncio.run(_drain(s, stack, n, run))


async def _drain(s: StackSettings, stack: Stack, n: int, run: str) -> dict[str, Any]:
    observer = await Observer(s.kafka_bootstrap).start()
    try:
        await produce(s.kafka_bootstrap, n, run)
        started = time.time()
        for comp in services(s, SERVICES):
            stack.pm.start(dataclasses.replace(comp))
        await observer.until(n, timeout=max(600.0, n / 10))
        mine = [t for t in observer.submitted if t in observer.dispatched]
        accepted = min(observer.submitted[t] for t in mine)
        dispatched = max(observer.dispatched[t] for t in mine)
        notified = max(observer.notified[t] for t in mine if t in observer.notified)
        return {
            "complaints": n,
            "start_to_first_accepted_s": round(accepted - started, 1),
            "seconds_first_accepted_to_last_dispatched": round(dispatched - accepted, 1),
            # the drain's own rate, from intake's first acceptance (the services' start-up,
            # intake's repeat index load included, comes before it)
            "per_second": round(len(mine) / max(dispatched - accepted, 1e-3), 1),
            "notified_per_second": round(len(mine) / max(notified - accepted, 1e-3), 1),
            "per_second_with_start": round(n / (dispatched - started), 1),
            **repeat_index(s.intake_port),
        }
    finally:
        await observer.stop()


def repeat_index(port: int) -> dict[str, float]:
    """What intake says of its repeat index: the reports it holds, and its load time."""
    import urllib.request

    from prometheus_client.parser import text_string_to_metric_families

    url = f"http://127.0.0.1:{port}/metrics"
    with urllib.request.urlopen(url, timeout=10) as answer:
        text = answer.read().decode()
    out = {}
    for family in text_string_to_metric_families(text):
        if family.name.startswith("lapor_intake_repeat_index_"):
            out[family.name.removeprefix("lapor_intake_")] = family.samples[0].value
    return out


async def open_reports(mongo_url: str) -> int:
    from pymongo import AsyncMongoClient

    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url)
    try:
        return await client["lapor_intake"]["complaints"].count_documents(
            {"status": {"$nin": sorted(FINISHED)}}
        )
    finally:
        await client.close()


if __name__ == "__main__":
    main()
