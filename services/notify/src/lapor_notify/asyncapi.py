"""AsyncAPI document: `make asyncapi` (faststream docs gen --factory ...asyncapi:app)."""

from __future__ import annotations

from faststream import FastStream

from lapor_kit.runtime import asyncapi_app
from lapor_schemas import NotificationEvent, topics

from .domain.jobs import SendJob
from .main import build

PUBLICATIONS = [
    (topics.NOTIFICATIONS, NotificationEvent, "the outcome of every delivery"),
    *(
        (topic, SendJob, f"a send job per {channel} delivery (notify's own queue)")
        for channel, topic in topics.NOTIFY_SEND.items()
    ),
    *(
        (topic, SendJob, f"failed sends waiting in retry tier {tier}")
        for tier, topic in enumerate(topics.NOTIFY_RETRY)
    ),
    (topics.DLQ, SendJob, "deliveries out of attempts or refused, with x-dlq-reason"),
]


def app() -> FastStream:
    return asyncapi_app(build, title="Lapor notify", publications=PUBLICATIONS)
