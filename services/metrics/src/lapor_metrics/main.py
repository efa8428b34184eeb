"""Wiring for the metrics service: ``lapor-metrics`` runs it with uvicorn."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from fastapi import FastAPI

from lapor_kit.kafka import kafka_client_options
from lapor_kit.runtime import Runtime, serve
from lapor_kit.scrape import BoundedRefresh

from . import api, handlers
from .adapters.pipeline import PipelineHealth
from .adapters.store import MongoMetricsStore
from .service import MetricsService
from .settings import MetricsSettings


def build(
    settings: MetricsSettings | None = None, clock: Callable[[], datetime] | None = None
) -> tuple[FastAPI, Runtime]:
    settings = settings or MetricsSettings()
    clock = clock or (lambda: datetime.now(UTC))
    rt = Runtime(settings, "metrics")
    store = MongoMetricsStore(rt)
    rt.on_startup(store.ensure_indexes)
    service = MetricsService(store, clock, refresh_seconds=settings.refresh_seconds)
    health = PipelineHealth(kafka_client_options(settings))
    # the broker is read at scrape time, but a scrape never waits long for it
    health_refresh = BoundedRefresh(health.refresh, settings.scrape_wait_seconds)
    rt.on_startup(health.start)
    rt.on_shutdown(health.stop)
    rt.on_shutdown(health_refresh.close)  # (shutdown hooks run last first: this, then stop)
    service.extra_collect.append(health.collect)
    rt.registry.register(service.collector())
    rt.before_scrape(service.refresh)
    rt.before_scrape(health_refresh)
    rt.include(handlers.make_router(rt, service, settings.linger_ms))
    app = rt.fastapi(
        title="Lapor metrics",
        description="Performance counters and the provinces' evaluation indicators.",
    )
    api.install(app, service, clock)
    return app, rt


def create_app() -> FastAPI:
    return build()[0]


def run() -> None:
    settings = MetricsSettings()
    serve("lapor_metrics.main:create_app", settings, settings.port)


if __name__ == "__main__":
    run()
