"""Wiring for the notify service: ``lapor-notify`` runs it with uvicorn."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from fastapi import FastAPI
from prometheus_client import Counter

from lapor_kit.limits import RateLimiter, install_rate_limits
from lapor_kit.limits import parse_rates as client_rates
from lapor_kit.runtime import Runtime, serve
from lapor_schemas import topics

from . import api, handlers
from .adapters.gateway import (
    GatewayConfig,
    HttpGateway,
    TextChannel,
    WebhookChannel,
    WebhookSender,
)
from .adapters.smtp import SmtpChannel
from .adapters.store import MongoNotifyStore
from .api import WebhookRule
from .domain.render import Renderer
from .domain.sending import RetryPolicy, parse_rates
from .domain.stopping import StopCodes
from .ports import Channel
from .service import NotifyService
from .settings import NotifySettings


def build(settings: NotifySettings | None = None) -> tuple[FastAPI, Runtime]:
    settings = settings or NotifySettings()
    rt = Runtime(settings, "notify")
    store = MongoNotifyStore(rt)
    rt.on_startup(store.ensure_indexes)
    channels: dict[str, Channel] = {
        "email": SmtpChannel(settings),
        "webhook": WebhookChannel(
            WebhookSender(
                timeout=settings.webhook_timeout_seconds,
                production=settings.env == "production",
                allowed=settings.webhook_allowed_private,
            )
        ),
    }
    if settings.sms_url:
        channels["sms"] = TextChannel(
            HttpGateway(
                GatewayConfig(
                    settings.sms_url,
                    settings.sms_token,
                    settings.sms_payload,
                    settings.gateway_timeout_seconds,
                )
            )
        )
    if settings.whatsapp_url:
        channels["whatsapp"] = TextChannel(
            HttpGateway(
                GatewayConfig(
                    settings.whatsapp_url,
                    settings.whatsapp_token,
                    settings.whatsapp_payload,
                    settings.gateway_timeout_seconds,
                )
            )
        )
    deliveries = Counter(
        "lapor_notify_deliveries",
        "Delivery attempts by channel and outcome: sent, retrying (a failure that will be "
        "tried again), failed or dead_lettered (given up: set aside on lapor.dlq.v1).",
        ["channel", "outcome"],
        registry=rt.registry,
    )
    for channel in topics.NOTIFY_SEND:  # at 0 from the start: increase() sees the first
        for outcome in ("sent", "retrying", "failed", "dead_lettered"):
            deliveries.labels(channel, outcome)
        rt.dead_letters.count(topics.NOTIFY_SEND[channel], "undeliverable", 0)

    def counted(channel: str, outcome: str, dead: bool) -> None:
        deliveries.labels(channel, outcome).inc()
        if dead:  # notify's dead letters go out through its outbox: counted here
            rt.dead_letters.count(topics.NOTIFY_SEND[channel], "undeliverable")

    service = NotifyService(
        store,
        channels,
        Renderer(settings.notify_template_dir, portal_url=settings.portal_url),
        clock=lambda: datetime.now(UTC),
        policy=RetryPolicy(
            settings.notify_max_attempts, tuple(settings.notify_retry_delays_seconds)
        ),
        rates=parse_rates(settings.notify_rate_limits),
        concurrency=settings.notify_concurrency,
        address_daily_cap=settings.notify_address_daily_cap,
        on_outcome=counted,
        stop_codes=StopCodes(settings.status_secret_key.encode()),
    )
    stopping = asyncio.Event()

    async def stop_waiting() -> None:
        stopping.set()

    rt.on_shutdown(stop_waiting)
    rt.include(handlers.make_router(rt, service, stopping))
    app = rt.fastapi(
        title="Lapor notify",
        description="Informs reporters and agencies of what happens to each case.",
    )
    api.install(
        app,
        service,
        webhook_rule=WebhookRule(
            production=settings.env == "production", allowed=settings.webhook_allowed_private
        ),
        status_secret_key=settings.status_secret_key,
    )
    app.state.service = service
    install_rate_limits(
        app,
        RateLimiter(
            client_rates(settings.notify_public_rate_limits), registry=rt.registry, service="notify"
        ),
    )
    return app, rt


def create_app() -> FastAPI:
    return build()[0]


def run() -> None:
    settings = NotifySettings()
    serve("lapor_notify.main:create_app", settings, settings.port)


if __name__ == "__main__":
    run()
