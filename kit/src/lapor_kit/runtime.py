"""Per-process plumbing every service shares: broker, store client, outbox relay, lifespan.

Services build one :class:`Runtime` in their ``create_app`` (which uvicorn calls inside the
event loop), register their routers and start-up hooks, and hand :meth:`Runtime.lifespan` to
FastAPI. Nothing here knows about complaints.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from fastapi import FastAPI
from faststream import FastStream
from faststream.kafka import KafkaBroker, KafkaRouter
from faststream.specification import AsyncAPI
from prometheus_client import CollectorRegistry
from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from lapor_schemas import topics

from . import logging as lapor_logging
from .auth import DEV_SIGNING_KEY, KeySet, TokenVerifier
from .kafka import DeadLetters, ensure_topics, make_broker
from .lag import OwnLag
from .limits import BodyLimit, parse_networks
from .outbox import Outbox, OutboxRelay
from .settings import KitSettings, mongo_tls
from .storestats import StoreCommandStats
from .web import (
    HttpMetrics,
    RequestDeadline,
    ResponseHeaders,
    SecretsNotInUrls,
    install_auth,
    install_observability,
    install_store_errors,
    install_validation_errors,
)

log = logging.getLogger("lapor.runtime")
R = TypeVar("R")


async def bounded(name: str, step: Awaitable[Any], seconds: float) -> bool:
    """Run one shutdown step for at most ``seconds``; past that it is cancelled and left
    behind (not awaited: a step that swallows its cancellation cannot hold the process), and
    the overrun is logged by name. Returns whether the step finished in time."""
    task = asyncio.ensure_future(step)
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if task in done:
        if not task.cancelled() and task.exception() is not None:
            log.warning("shutdown: %s failed: %r", name, task.exception())
        return True
    task.cancel()
    log.error("shutdown: %s took over %.0f s; stopping without it", name, seconds)
    return False


class Runtime:
    def __init__(self, settings: KitSettings, service: str) -> None:
        settings.refuse_unsafe_production()
        self.settings = settings
        self.service = service
        self.registry = CollectorRegistry()
        self.broker: KafkaBroker = make_broker(settings, service=service, registry=self.registry)
        self.mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            settings.mongo_url,
            event_listeners=[StoreCommandStats(self.registry, service)],
            tz_aware=True,
            serverSelectionTimeoutMS=settings.mongo_timeout_ms,
            appname=f"lapor-{service}",
            **mongo_tls(settings.mongo_ca_file),
        )
        self.db: AsyncDatabase[dict[str, Any]] = self.mongo[f"{settings.mongo_db_prefix}_{service}"]
        self.outbox = Outbox(self.db["outbox"])
        self.relay = OutboxRelay(
            self.outbox,
            self.broker,
            registry=self.registry,
            service=service,
            batch=settings.outbox_batch,
            idle_seconds=settings.outbox_idle_seconds,
            hold_seconds=settings.outbox_hold_seconds,
            exit_after_publish=settings.outbox_exit_after_publish,
            sweep_seconds=settings.outbox_sweep_seconds,
            sweep_grace=settings.outbox_sweep_grace_seconds,
            delete_delay=settings.outbox_delete_delay_seconds,
        )
        self.dead_letters = DeadLetters(self.broker, service=service, registry=self.registry)
        self._startup: list[Callable[[], Awaitable[Any]]] = [self.outbox.ensure_indexes]
        self._shutdown: list[Callable[[], Awaitable[Any]]] = []
        dev = KeySet.of(DEV_SIGNING_KEY)
        self.tokens = TokenVerifier(
            settings.auth_jwks_url or None,
            trusted=dev if settings.trusts_dev_key else None,
            refused=None if settings.trusts_dev_key else dev,
        )
        self._shutdown.append(self.tokens.close)
        self._before_scrape: list[Callable[[], Awaitable[Any]]] = []
        self.topics: tuple[str, ...] = topics.ALL
        if service != "metrics":  # the metrics service reports every group's lag itself
            own = OwnLag(
                lambda: self.broker.subscribers, service, wait=settings.scrape_wait_seconds
            )
            self.registry.register(own)
            self._before_scrape.append(own.refresh)
            self._shutdown.append(own.close)

    def include(self, router: KafkaRouter) -> None:
        self.broker.include_router(router)

    def document_publications(self, publications: Iterable[tuple[str, Any, str]]) -> None:
        """Declare what the outbox relay publishes (topic, payload schema, description) so
        the AsyncAPI document shows it; the relay itself publishes through the broker."""
        for topic, schema, description in publications:
            self.broker.publisher(
                topic, schema=schema, description=description, title=f"{self.service}:{topic}"
            )

    def asyncapi(self, *, title: str, description: str) -> FastStream:
        """A FastStream app for ``faststream docs gen --factory lapor_<service>.asyncapi:app``."""
        return FastStream(
            self.broker,
            specification=AsyncAPI(title=title, description=description, version="0.1.0"),
        )

    def on_startup(self, hook: Callable[[], Awaitable[Any]]) -> None:
        self._startup.append(hook)

    def on_shutdown(self, hook: Callable[[], Awaitable[Any]]) -> None:
        self._shutdown.append(hook)

    def before_scrape(self, hook: Callable[[], Awaitable[Any]]) -> None:
        """Run ``hook`` before each ``/metrics`` answer (e.g. refresh counters from the store)."""
        self._before_scrape.append(hook)

    async def in_transaction(self, work: Callable[[AsyncClientSession], Awaitable[R]]) -> R:
        """Run ``work`` in a transaction, retried on transient errors (pymongo's rules)."""
        outbox = self.outbox

        async def attempt(session: AsyncClientSession) -> R:
            outbox.begin(session)  # a retried attempt starts with nothing staged
            return await work(session)

        async with self.mongo.start_session() as session:
            try:
                result: R = await session.with_transaction(attempt)
            except BaseException:
                outbox.begin(session)  # aborted: nothing of it is published
                raise
            outbox.commit(session)
            return result

    async def ping_store(self) -> bool:
        await self.mongo.admin.command("ping")
        return True

    async def ping_broker(self) -> bool:
        return await self.broker.ping(timeout=1.5)

    @asynccontextmanager
    async def lifespan(self, _app: FastAPI | None = None) -> AsyncIterator[None]:
        lapor_logging.configure(f"lapor-{self.service}", self.settings.log_level)
        await ensure_topics(self.settings, self.topics)
        for hook in self._startup:
            await hook()
        await start_concurrently(self.broker)
        self.relay.start()
        self.outbox.notify()
        try:
            yield
        finally:
            # each step bounded: a process asked to stop stops within its grace period (30 s
            # on Kubernetes), whatever a step waits for; what it had not finished is read
            # again after the restart (offsets not committed, consumers idempotent)
            wait = self.settings.shutdown_step_seconds
            await bounded("outbox relay", self.relay.stop(), wait)
            for hook in reversed(self._shutdown):
                await bounded(getattr(hook, "__qualname__", "a shutdown hook"), hook(), wait)
            await bounded("consumers", self.broker.stop(), wait)
            await bounded("store client", self.mongo.close(), wait)

    def fastapi(
        self,
        *,
        title: str,
        description: str,
        version: str = "0.1.0",
        extra_tags: Iterable[dict[str, str]] = (),
        body_limits: Mapping[str, int] | None = None,
    ) -> FastAPI:
        """A FastAPI app with this runtime's lifespan, ``/health`` and ``/metrics``."""
        app = FastAPI(
            title=title,
            description=description,
            version=version,
            lifespan=self.lifespan,
            openapi_tags=list(extra_tags),
        )
        install_observability(
            app,
            service=f"lapor-{self.service}",
            registry=self.registry,
            checks={"store": self.ping_store, "broker": self.ping_broker},
            before_scrape=self._before_scrape,
        )
        install_validation_errors(app)
        install_store_errors(app)
        install_auth(app, self.tokens)
        app.state.trusted_proxies = parse_networks(self.settings.trusted_proxies)
        app.add_middleware(RequestDeadline, seconds=self.settings.request_deadline_seconds)
        app.add_middleware(SecretsNotInUrls)
        app.add_middleware(ResponseHeaders, hsts=self.settings.env == "production")
        app.add_middleware(
            BodyLimit, default=self.settings.max_body_bytes, by_prefix=dict(body_limits or {})
        )
        # outermost: counts every answer, the deadline's 503s and the body limit's 413s too
        app.add_middleware(HttpMetrics, service=f"lapor-{self.service}", registry=self.registry)
        app.state.runtime = self
        return app


async def start_concurrently(broker: KafkaBroker) -> None:
    """``broker.start()``, but with the subscribers started side by side: a consumer's start
    waits for its group join (about half the session timeout on Tansu; Kafka's initial
    rebalance delay is 3 s), and FastStream starts them one after another, so a service with
    nine consumer groups would take half a minute to be ready."""
    await broker.connect()
    await asyncio.gather(*(sub.start() for sub in broker.subscribers))
    for pub in broker.publishers:
        await pub.start()
    broker.running = True


def serve(app_path: str, settings: KitSettings, port: int) -> None:
    """Run a service's ``create_app`` factory with uvicorn (no access log on the hot path)."""
    import uvicorn

    uvicorn.run(
        app_path,
        factory=True,
        host=settings.host,
        port=port,
        access_log=False,
        log_config=None,
        lifespan="on",
        server_header=False,  # no banner naming the server software
    )


def asyncapi_app(
    build: Callable[[], tuple[FastAPI, Runtime]],
    *,
    title: str,
    publications: Iterable[tuple[str, Any, str]] = (),
) -> FastStream:
    """The FastStream app ``faststream docs gen --factory`` documents."""
    _, rt = build()
    rt.document_publications(publications)
    return rt.asyncapi(title=title, description=f"Kafka interface of {title}.")
