"""AsyncAPI document: `make asyncapi` (faststream docs gen --factory ...asyncapi:app)."""

from __future__ import annotations

from faststream import FastStream

from lapor_kit.runtime import asyncapi_app
from lapor_schemas import CaseDispatched, topics

from .main import build

PUBLICATIONS = [
    (topics.CASES, CaseDispatched, "case.dispatched when a case reaches an agency"),
]


def app() -> FastStream:
    return asyncapi_app(build, title="Lapor routing", publications=PUBLICATIONS)
