"""Wiring for the intake service: ``lapor-intake`` runs it with uvicorn."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from datetime import UTC, datetime, timedelta
from importlib.resources import files

from fastapi import FastAPI
from prometheus_client import Counter, Gauge

from lapor_kit.auth import SecretMinter
from lapor_kit.kafka import TopicTail, kafka_client_options
from lapor_kit.limits import RateLimiter, install_rate_limits, parse_rates
from lapor_kit.runtime import Runtime, serve
from lapor_kit.uploads import UploadHandles
from lapor_schemas import MAX_ATTACHMENT_BYTES, topics
from lapor_schemas.reference import categories, regions

from . import handlers, http, triage
from .adapters.attachments import AttachmentStore
from .adapters.store import MongoComplaintStore
from .domain.credentials import Registry
from .domain.model import Catalogue
from .service import IntakeService
from .settings import IntakeSettings

log = logging.getLogger("lapor.intake")


class PrometheusOutcomes:
    def __init__(self, rt: Runtime) -> None:
        self.counter = Counter(
            "lapor_intake_submissions_total",
            "Submissions by channel and outcome (accepted, duplicate, rejected, unauthenticated).",
            ["channel", "outcome"],
            registry=rt.registry,
        )

    def count(self, channel: str, outcome: str, n: int = 1) -> None:
        self.counter.labels(channel, outcome).inc(n)


def build(settings: IntakeSettings | None = None) -> tuple[FastAPI, Runtime]:
    settings = settings or IntakeSettings()
    rt = Runtime(settings, "intake")
    store = MongoComplaintStore(rt)
    rt.on_startup(store.ensure_indexes)
    registry = Registry.load(settings.credentials_file)
    handles = UploadHandles(settings.upload_key.encode())
    service = IntakeService(
        store,
        Catalogue(categories(), regions()),
        clock=lambda: datetime.now(UTC),
        registry=registry,
        minter=SecretMinter(settings.status_secret_key.encode()),
        outcomes=PrometheusOutcomes(rt),
        uploads=handles,
    )
    rt.include(handlers.make_router(rt, service, registry))
    tail = TopicTail(
        kafka_client_options(settings),
        topics.CASES,
        handlers.repeat_feed(service),
        fetch_max_wait_ms=500,  # off the report's path: costs the broker nothing while idle
        client_id="lapor-intake-repeats",
    )

    Gauge(
        "lapor_intake_repeat_index_reports",
        "Open reports in this process's repeat index (the candidates for repeats).",
        registry=rt.registry,
    ).set_function(lambda: len(service.repeats))
    load_seconds = Gauge(
        "lapor_intake_repeat_index_load_seconds",
        "How long this process took at start to load the repeat index from the store.",
        registry=rt.registry,
    )

    async def start_repeat_index() -> None:
        """Offsets first, then the open reports, then the log from those offsets: nothing
        accepted by another process meanwhile is missed."""
        began = time.monotonic()
        await tail.open()
        held = await service.load_repeats()
        tail.follow()
        seconds = time.monotonic() - began
        load_seconds.set(seconds)
        log.info("repeat index: %d open reports loaded in %.1fs", held, seconds)

    rt.on_startup(start_repeat_index)
    rt.on_shutdown(tail.stop)

    async def warm_triage() -> None:
        """The category suggester is trained from the committed set (a few seconds of CPU):
        begun at start, beside the requests, so the first citizen does not wait for it."""
        threading.Thread(target=triage.default, name="triage-warm", daemon=True).start()

    rt.on_startup(warm_triage)

    async def retrain_periodically() -> None:
        while True:
            try:
                await service.retrain_triage()
            except Exception as exc:  # the store may be down: the next round tries again
                log.warning("triage retrain failed: %r", exc)
            if not settings.triage_retrain_hours:
                return
            await asyncio.sleep(settings.triage_retrain_hours * 3600)

    retraining: list[asyncio.Task[None]] = []

    async def start_retraining() -> None:
        retraining.append(asyncio.create_task(retrain_periodically()))

    async def stop_retraining() -> None:
        for task in retraining:
            task.cancel()

    rt.on_startup(start_retraining)
    rt.on_shutdown(stop_retraining)
    agreement = Gauge(
        "lapor_triage_agreement_ratio",
        "Share of the last 30 days' reports whose suggested category is their category now "
        "(after any correction by a verifier), by the model that suggested it.",
        ["model"],
        registry=rt.registry,
    )
    agreement.labels("committed").set(1.0)  # a series from the start, before any report

    async def measure_agreement() -> None:
        try:
            found = await store.suggestion_agreement(datetime.now(UTC) - timedelta(days=30))
        except Exception as exc:  # the scrape still answers
            log.warning("triage agreement not read: %r", exc)
            return
        agreement.clear()  # a model with no report in the window stops being shown
        for model, (agreeing, total) in (found or {"committed": (0, 0)}).items():
            agreement.labels(model).set(agreeing / total if total else 1.0)

    rt.before_scrape(measure_agreement)
    app = rt.fastapi(
        body_limits={
            "/api/v1/attachments": MAX_ATTACHMENT_BYTES + 64 * 1024,
            "/api/v1/staff/attachments": MAX_ATTACHMENT_BYTES + 64 * 1024,
        },
        title="Lapor intake",
        description="Front door of Lapor: receives, validates and stores reports from every "
        "channel (JSON API, Open311 GeoReport v2, SMS gateway, staff entry, regional systems "
        "over Kafka) and publishes them on lapor.cases.v1.",
    )
    jurisdictions = json.loads(
        files("lapor_intake").joinpath("data", "open311.json").read_text(encoding="utf-8")
    )["jurisdictions"]
    app.state.service = service
    install_rate_limits(
        app,
        RateLimiter(parse_rates(settings.rate_limits), registry=rt.registry, service="intake"),
    )
    http.install(app, http.Deps(service, registry, AttachmentStore(rt), jurisdictions, handles))
    return app, rt


def create_app() -> FastAPI:
    return build()[0]


def run() -> None:
    settings = IntakeSettings()
    serve("lapor_intake.main:create_app", settings, settings.port)


if __name__ == "__main__":
    run()


def retrain() -> None:
    """``lapor-intake-retrain``: fold each province's corrections into its model now (the
    running intakes pick accepted models at their next retrain)."""
    from .adapters.store import MongoComplaintStore
    from .service import retrain_all

    settings = IntakeSettings()
    rt = Runtime(settings, "intake")

    async def once() -> None:
        try:
            for decision, _ in await retrain_all(
                MongoComplaintStore(rt), lambda: datetime.now(UTC)
            ):
                verdict = "accepted" if decision.accepted else "refused"
                print(
                    f"{decision.province}: {decision.examples} corrections, held-out "
                    f"log-likelihood {decision.current:.3f} -> {decision.candidate:.3f}, top-1 "
                    f"{decision.current_top1:.3f} -> {decision.candidate_top1:.3f}: {verdict}"
                )
        finally:
            await rt.mongo.close()

    asyncio.run(once())
