"""AsyncAPI document: `make asyncapi` (faststream docs gen --factory ...asyncapi:app)."""

from __future__ import annotations

from faststream import FastStream

from .main import build

PUBLICATIONS: list[tuple[str, object, str]] = []


def app() -> FastStream:
    _, rt = build()
    rt.document_publications(PUBLICATIONS)
    return rt.asyncapi(
        title="Lapor metrics",
        description="Kafka interface of the Lapor metrics service.",
    )
