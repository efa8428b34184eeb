"""Wiring for the routing service: ``lapor-routing`` runs it with uvicorn."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import FastAPI

from lapor_kit.runtime import Runtime, serve

from . import api, handlers
from .adapters.store import MongoCaseStore
from .domain.directory import directory_from, load_seed_files
from .service import RoutingService
from .settings import RoutingSettings


def build(settings: RoutingSettings | None = None) -> tuple[FastAPI, Runtime]:
    settings = settings or RoutingSettings()
    rt = Runtime(settings, "routing")
    store = MongoCaseStore(rt)
    rt.on_startup(store.ensure_indexes)
    directory = directory_from(load_seed_files())
    service = RoutingService(store, directory, clock=lambda: datetime.now(UTC))
    rt.include(handlers.make_router(rt, service))
    app = rt.fastapi(
        title="Lapor routing",
        description="Resolves the agency with authority and runs each case's lifecycle.",
    )
    api.install(app, service, directory)
    return app, rt


def create_app() -> FastAPI:
    return build()[0]


def run() -> None:
    settings = RoutingSettings()
    serve("lapor_routing.main:create_app", settings, settings.port)


if __name__ == "__main__":
    run()
