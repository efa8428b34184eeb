"""AsyncAPI document: `make asyncapi` (faststream docs gen --factory ...asyncapi:app)."""

from __future__ import annotations

from faststream import FastStream

from lapor_schemas import CaseDispatched, topics

from .main import build

PUBLICATIONS = [
    (topics.CASES, CaseDispatched, "case.dispatched when a case reaches an agency"),
]


def app() -> FastStream:
    _, rt = build()
    rt.document_publications(PUBLICATIONS)
    return rt.asyncapi(
        title="Lapor routing",
        description="Kafka interface of the Lapor routing service.",
    )
