"""Wiring for the metrics service: ``lapor-metrics`` runs it with uvicorn."""

from __future__ import annotations

from fastapi import FastAPI

from lapor_kit.runtime import Runtime, serve

from . import handlers
from .adapters.store import MongoCounterStore
from .service import MetricsService
from .settings import MetricsSettings


def build(settings: MetricsSettings | None = None) -> tuple[FastAPI, Runtime]:
    settings = settings or MetricsSettings()
    rt = Runtime(settings, "metrics")
    service = MetricsService(MongoCounterStore(rt))
    rt.registry.register(service.collector())
    rt.before_scrape(service.refresh)
    rt.include(handlers.make_router(rt, service))
    app = rt.fastapi(
        title="Lapor metrics",
        description="Performance counters and the provinces' evaluation indicators.",
    )
    return app, rt


def create_app() -> FastAPI:
    return build()[0]


def run() -> None:
    settings = MetricsSettings()
    serve("lapor_metrics.main:create_app", settings, settings.port)


if __name__ == "__main__":
    run()
