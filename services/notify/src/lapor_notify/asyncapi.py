"""AsyncAPI document: `make asyncapi` (faststream docs gen --factory ...asyncapi:app)."""

from __future__ import annotations

from faststream import FastStream

from lapor_schemas import NotificationEvent, topics

from .main import build

PUBLICATIONS = [
    (topics.NOTIFICATIONS, NotificationEvent, "the outcome of every delivery"),
]


def app() -> FastStream:
    _, rt = build()
    rt.document_publications(PUBLICATIONS)
    return rt.asyncapi(
        title="Lapor notify",
        description="Kafka interface of the Lapor notify service.",
    )
