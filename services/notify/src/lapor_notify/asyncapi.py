"""AsyncAPI document: `make asyncapi` (faststream docs gen --factory ...asyncapi:app)."""

from __future__ import annotations

from faststream import FastStream

from lapor_kit.runtime import asyncapi_app
from lapor_schemas import NotificationEvent, topics

from .main import build

PUBLICATIONS = [
    (topics.NOTIFICATIONS, NotificationEvent, "the outcome of every delivery"),
]


def app() -> FastStream:
    return asyncapi_app(build, title="Lapor notify", publications=PUBLICATIONS)
