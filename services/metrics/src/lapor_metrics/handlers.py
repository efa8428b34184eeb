"""Kafka entry points of metrics."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from faststream.kafka import KafkaRouter
from faststream.kafka.annotations import KafkaMessage

from lapor_kit.kafka import (
    batch_subscriber_options,
    decode_batch,
    decode_case_events,
    linger,
    process_isolated,
)
from lapor_kit.runtime import Runtime
from lapor_schemas import NotificationEvent, topics

from .service import MetricsService


def make_router(rt: Runtime, service: MetricsService, linger_ms: int | None = None) -> KafkaRouter:
    router = KafkaRouter()

    @router.subscriber(
        topics.CASES,
        **batch_subscriber_options(rt.settings, "lapor-metrics"),
        title="metrics.cases",
        description="Counts lifecycle events (idempotent on event id).",
    )
    async def on_case_events(msg: KafkaMessage) -> None:
        await process_isolated(msg.raw_message, count_cases, rt.dead_letters)
        await linger(rt.settings, msg.raw_message, linger_ms)

    async def count_cases(records: Sequence[Any]) -> None:
        events, bad = decode_case_events(records)
        await service.handle(events)
        await rt.dead_letters.send(bad)

    @router.subscriber(
        topics.NOTIFICATIONS,
        **batch_subscriber_options(rt.settings, "lapor-metrics-notifications"),
        title="metrics.notifications",
        description="Counts notification outcomes.",
    )
    async def on_notifications(msg: KafkaMessage) -> None:
        await process_isolated(msg.raw_message, count_notifications, rt.dead_letters)
        await linger(rt.settings, msg.raw_message, linger_ms)

    async def count_notifications(records: Sequence[Any]) -> None:
        good, bad = decode_batch(records, NotificationEvent.model_validate_json)
        values: list[Any] = [g.value for g in good]
        await service.handle(values)
        await rt.dead_letters.send(bad)

    return router
