"""Wiring for the notify service: ``lapor-notify`` runs it with uvicorn."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from fastapi import FastAPI

from lapor_kit.runtime import Runtime, serve

from . import api, handlers
from .adapters.gateway import GatewayConfig, HttpGateway
from .adapters.smtp import SmtpSender
from .adapters.store import MongoNotifyStore
from .domain.render import Renderer
from .service import NotifyService
from .settings import NotifySettings


def build(settings: NotifySettings | None = None) -> tuple[FastAPI, Runtime]:
    settings = settings or NotifySettings()
    rt = Runtime(settings, "notify")
    store = MongoNotifyStore(rt)
    rt.on_startup(store.ensure_indexes)
    service = NotifyService(
        store,
        SmtpSender(settings),
        Renderer(settings.notify_template_dir),
        clock=lambda: datetime.now(UTC),
        max_attempts=settings.notify_max_attempts,
        sms=HttpGateway(GatewayConfig(settings.sms_url, settings.sms_token, settings.sms_payload))
        if settings.sms_url
        else None,
    )
    rt.include(handlers.make_router(rt, service))
    worker: dict[str, asyncio.Task[None]] = {}

    async def start_worker() -> None:
        worker["task"] = asyncio.create_task(service.run_worker(), name="notify-worker")

    async def stop_worker() -> None:
        task = worker.pop("task", None)
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    rt.on_startup(start_worker)
    rt.on_shutdown(stop_worker)
    app = rt.fastapi(
        title="Lapor notify",
        description="Informs reporters and agencies of what happens to each case.",
    )
    api.install(app, service)
    return app, rt


def create_app() -> FastAPI:
    return build()[0]


def run() -> None:
    settings = NotifySettings()
    serve("lapor_notify.main:create_app", settings, settings.port)


if __name__ == "__main__":
    run()
