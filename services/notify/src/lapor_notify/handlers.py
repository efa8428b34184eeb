"""Kafka entry points of notify: plan from the case log and contacts, send from the channel
queues, wait in the retry tiers. Handlers are thin: decode, call the service, dead-letter
what cannot be read. A batch is acknowledged only after its effects are stored."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from faststream.kafka import KafkaRouter
from faststream.kafka.annotations import KafkaMessage

from lapor_kit.kafka import (
    Good,
    batch_subscriber_options,
    decode_batch,
    decode_case_events,
    process_isolated,
)
from lapor_kit.runtime import Runtime
from lapor_schemas import ReporterContact, SupporterContact, parse_contact, topics

from .domain.jobs import SendJob
from .service import NotifyService


def make_router(rt: Runtime, service: NotifyService, stopping: asyncio.Event) -> KafkaRouter:
    router = KafkaRouter()

    @router.subscriber(
        topics.CASES,
        **batch_subscriber_options(rt.settings, "lapor-notify", prompt=True),
        title="notify.cases",
        description="Plans the notifications each lifecycle event causes.",
    )
    async def on_case_events(msg: KafkaMessage) -> None:
        await process_isolated(msg.raw_message, plan, rt.dead_letters)

    async def plan(records: Sequence[Any]) -> None:
        events, bad = decode_case_events(records)
        await service.handle_events(events)
        await rt.dead_letters.send(bad)

    @router.subscriber(
        topics.CONTACTS,
        **batch_subscriber_options(rt.settings, "lapor-notify-contacts"),
        title="notify.contacts",
        description="Reporter and supporter contact details (only notify reads this topic).",
    )
    async def on_contacts(msg: KafkaMessage) -> None:
        await process_isolated(msg.raw_message, contacts, rt.dead_letters)

    async def contacts(records: Sequence[Any]) -> None:
        good: list[Good[ReporterContact | SupporterContact]]
        good, bad = decode_batch(records, parse_contact)
        await service.handle_contacts([g.value for g in good])
        await rt.dead_letters.send(bad)

    for channel, topic in topics.NOTIFY_SEND.items():
        router.subscriber(
            topic,
            **batch_subscriber_options(rt.settings, f"lapor-notify-send-{channel}", prompt=True),
            title=f"notify.send.{channel}",
            description=f"Sends {channel} deliveries (one consumer group per channel).",
        )(_sender(rt, service, channel))

    for tier, topic in enumerate(topics.NOTIFY_RETRY):
        router.subscriber(
            topic,
            **batch_subscriber_options(rt.settings, f"lapor-notify-retry-{tier}"),
            title=f"notify.retry.{tier}",
            description="Holds failed sends until they are due, then requeues them.",
        )(_waiter(rt, service, stopping))

    return router


def _sender(rt: Runtime, service: NotifyService, channel: str) -> Any:
    async def on_jobs(msg: KafkaMessage) -> None:
        await process_isolated(msg.raw_message, send, rt.dead_letters)

    async def send(records: Sequence[Any]) -> None:
        good, bad = decode_batch(records, SendJob.model_validate_json)
        await service.handle_jobs(channel, [g.value for g in good])
        await rt.dead_letters.send(bad)

    on_jobs.__name__ = f"on_{channel}_jobs"
    return on_jobs


def _waiter(rt: Runtime, service: NotifyService, stopping: asyncio.Event) -> Any:
    async def on_retry_jobs(msg: KafkaMessage) -> None:
        await process_isolated(msg.raw_message, wait, rt.dead_letters)

    async def wait(records: Sequence[Any]) -> None:
        good, bad = decode_batch(records, SendJob.model_validate_json)
        await service.handle_retries([g.value for g in good], stopping)
        await rt.dead_letters.send(bad)

    return on_retry_jobs
