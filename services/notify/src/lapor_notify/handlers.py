"""Kafka entry points of notify."""

from __future__ import annotations

from faststream.kafka import KafkaRouter
from faststream.kafka.annotations import KafkaMessage

from lapor_kit.kafka import batch_subscriber_options, decode_batch, decode_case_events
from lapor_kit.runtime import Runtime
from lapor_schemas import ReporterContact, topics

from .service import NotifyService


def make_router(rt: Runtime, service: NotifyService) -> KafkaRouter:
    router = KafkaRouter()

    @router.subscriber(
        topics.CASES,
        **batch_subscriber_options(rt.settings, "lapor-notify"),
        title="notify.cases",
        description="Plans the notifications each lifecycle event causes.",
    )
    async def on_case_events(msg: KafkaMessage) -> None:
        events, bad = decode_case_events(msg.raw_message)
        await service.handle_events(events)
        await rt.dead_letters.send(bad)

    @router.subscriber(
        topics.CONTACTS,
        **batch_subscriber_options(rt.settings, "lapor-notify-contacts"),
        title="notify.contacts",
        description="Reporter contact details (only notify reads this topic).",
    )
    async def on_contacts(msg: KafkaMessage) -> None:
        good, bad = decode_batch(msg.raw_message, ReporterContact.model_validate_json)
        await service.handle_contacts([g.value for g in good])
        await rt.dead_letters.send(bad)

    return router
