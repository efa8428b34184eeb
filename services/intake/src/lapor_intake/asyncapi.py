"""AsyncAPI document: `make asyncapi` (faststream docs gen --factory ...asyncapi:app)."""

from __future__ import annotations

from faststream import FastStream

from lapor_kit.runtime import asyncapi_app
from lapor_schemas import ComplaintSubmitted, IntakeReceipt, ReporterContact, topics

from .main import build

PUBLICATIONS = [
    (topics.CASES, ComplaintSubmitted, "complaint.submitted for each accepted report"),
    (topics.CONTACTS, ReporterContact, "reporter contact details, for notify only"),
    (topics.INTAKE_RECEIPTS, IntakeReceipt, "the answer to every lapor.intake.v1 record"),
]


def app() -> FastStream:
    return asyncapi_app(build, title="Lapor intake", publications=PUBLICATIONS)
