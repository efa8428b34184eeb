"""AsyncAPI document: `make asyncapi` (faststream docs gen --factory ...asyncapi:app)."""

from __future__ import annotations

from faststream import FastStream

from lapor_kit.runtime import asyncapi_app
from lapor_schemas import (
    CaseSupported,
    ComplaintSubmitted,
    IntakeReceipt,
    ReporterContact,
    SupporterContact,
    topics,
)

from .main import build

PUBLICATIONS = [
    (topics.CASES, ComplaintSubmitted, "complaint.submitted for each accepted report"),
    (topics.CASES, CaseSupported, "case.supported: someone joined a report (a count)"),
    (topics.CONTACTS, ReporterContact, "reporter contact details, for notify only"),
    (topics.CONTACTS, SupporterContact, "a supporter's contact details, for notify only"),
    (topics.INTAKE_RECEIPTS, IntakeReceipt, "the answer to every lapor.intake.v1 record"),
]


def app() -> FastStream:
    return asyncapi_app(build, title="Lapor intake", publications=PUBLICATIONS)
