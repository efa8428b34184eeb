"""Kafka entry points of routing."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from faststream.kafka import KafkaRouter
from faststream.kafka.annotations import KafkaMessage

from lapor_kit.kafka import batch_subscriber_options, decode_case_events, process_isolated
from lapor_kit.runtime import Runtime
from lapor_schemas import topics

from .ports import ConflictError
from .service import RoutingService


def make_router(rt: Runtime, service: RoutingService) -> KafkaRouter:
    router = KafkaRouter()

    @router.subscriber(
        topics.CASES,
        **batch_subscriber_options(rt.settings, "lapor-routing", prompt=True),
        title="routing.cases",
        description="Opens a case for each submitted report and applies the reporter's "
        "replies, disputes and ratings to the lifecycle.",
    )
    async def on_case_events(msg: KafkaMessage) -> None:
        await process_isolated(msg.raw_message, handle, rt.dead_letters, retry_on=(ConflictError,))

    async def handle(records: Sequence[Any]) -> None:
        events, bad = decode_case_events(records)
        await service.handle(events)
        await rt.dead_letters.send(bad)

    return router
