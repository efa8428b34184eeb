"""AsyncAPI document: `make asyncapi` (faststream docs gen --factory ...asyncapi:app)."""

from __future__ import annotations

from faststream import FastStream

from lapor_kit.runtime import asyncapi_app

from .main import build

PUBLICATIONS: list[tuple[str, object, str]] = []


def app() -> FastStream:
    return asyncapi_app(build, title="Lapor metrics", publications=PUBLICATIONS)
