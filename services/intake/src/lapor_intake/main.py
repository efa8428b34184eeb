"""Wiring for the intake service: ``lapor-intake`` runs it with uvicorn."""

from __future__ import annotations

from datetime import UTC, datetime

import uvicorn
from fastapi import FastAPI

from lapor_kit.runtime import Runtime
from lapor_schemas.reference import categories, regions

from . import api, handlers
from .adapters.store import MongoComplaintStore
from .domain.model import Catalogue
from .service import IntakeService
from .settings import IntakeSettings


def build(settings: IntakeSettings | None = None) -> tuple[FastAPI, Runtime]:
    settings = settings or IntakeSettings()
    rt = Runtime(settings, "intake")
    store = MongoComplaintStore(rt)
    rt.on_startup(store.ensure_indexes)
    service = IntakeService(
        store, Catalogue(categories(), regions()), clock=lambda: datetime.now(UTC)
    )
    rt.include(handlers.make_router(rt, service))
    app = rt.fastapi(
        title="Lapor intake",
        description="Front door of Lapor: receives, validates and stores reports from every "
        "channel and publishes them on lapor.cases.v1.",
    )
    api.install(app, service)
    return app, rt


def create_app() -> FastAPI:
    return build()[0]


def run() -> None:
    settings = IntakeSettings()
    uvicorn.run(
        "lapor_intake.main:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        access_log=False,
        log_config=None,
        lifespan="on",
    )


if __name__ == "__main__":
    run()
