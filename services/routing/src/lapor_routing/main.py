"""Wiring for the routing service: ``lapor-routing`` runs it with uvicorn."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

from fastapi import FastAPI
from prometheus_client import Counter

from lapor_kit.runtime import Runtime, serve
from lapor_kit.uploads import UploadHandles
from lapor_schemas.reference import regions

from . import api, handlers
from .adapters.store import MongoCaseStore
from .domain.directory import directory_from, load_seed_files
from .service import RoutingService
from .settings import RoutingSettings


class PrometheusParked:
    def __init__(self, rt: Runtime) -> None:
        self.counter = Counter(
            "lapor_routing_parked_total",
            "Cases the rules could not decide (no agency or coordinator found), set aside "
            "for a person (perlu penanganan manual), by province.",
            ["province"],
            registry=rt.registry,
        )
        for province in sorted({r.province_code for r in regions().values()}):
            self.counter.labels(province)  # at 0: increase() sees the first parked case

    def count(self, action: str) -> None:
        self.counter.labels(action).inc()


class PrometheusRefused:
    def __init__(self, rt: Runtime) -> None:
        self.counter = Counter(
            "lapor_routing_refused_transitions_total",
            "Reporter events refused by the lifecycle (e.g. a rating before closing).",
            ["action"],
            registry=rt.registry,
        )

    def count(self, action: str) -> None:
        self.counter.labels(action).inc()


def build(
    settings: RoutingSettings | None = None, clock: Callable[[], datetime] | None = None
) -> tuple[FastAPI, Runtime]:
    settings = settings or RoutingSettings()
    rt = Runtime(settings, "routing")
    store = MongoCaseStore(rt)
    seeds = load_seed_files()
    service = RoutingService(
        store,
        directory_from(seeds),
        clock=clock or (lambda: datetime.now(UTC)),
        refused=PrometheusRefused(rt),
        parked=PrometheusParked(rt),
    )

    async def prepare() -> None:
        await store.ensure_indexes()
        await store.seed_directory(seeds)
        await service.refresh_directory(force=True)

    rt.on_startup(prepare)
    tasks: dict[str, asyncio.Task[None]] = {}
    if settings.scheduler_interval_seconds > 0:

        async def start_scheduler() -> None:
            tasks["scheduler"] = asyncio.create_task(
                service.run_scheduler(settings.scheduler_interval_seconds), name="scheduler"
            )

        async def stop_scheduler() -> None:
            task = tasks.pop("scheduler", None)
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)

        rt.on_startup(start_scheduler)
        rt.on_shutdown(stop_scheduler)
    rt.include(handlers.make_router(rt, service))
    app = rt.fastapi(
        title="Lapor routing",
        description="Resolves the agency with authority and runs each case's lifecycle: "
        "verification, dispatch, declines and re-routing, follow-up, the reporter's reply, "
        "working-day deadlines, reminders and escalation.",
    )
    app.state.service = service
    api.install(app, service, UploadHandles(settings.upload_key.encode()))
    return app, rt


def create_app() -> FastAPI:
    return build()[0]


def run() -> None:
    settings = RoutingSettings()
    serve("lapor_routing.main:create_app", settings, settings.port)


if __name__ == "__main__":
    run()
