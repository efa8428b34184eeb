"""Kafka entry points of intake (thin: decode -> service -> effects)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from faststream.kafka import KafkaRouter
from faststream.kafka.annotations import KafkaMessage
from pydantic import ValidationError

from lapor_kit.kafka import (
    Bad,
    batch_subscriber_options,
    bounds_problem,
    decode_case_events,
    linger,
    process_isolated,
)
from lapor_kit.runtime import Runtime
from lapor_schemas import ComplaintSubmitted, ExternalSubmission, topics
from lapor_schemas.status import FINISHED

from .domain.credentials import SIGNATURE_HEADER, Registry, authenticate
from .domain.errors import field_error, from_pydantic
from .service import ExternalItem, IntakeService


def decode_external(raw: bytes, signature: str | None, registry: Registry) -> ExternalItem:
    """Never raises: an unauthenticated, oversized, too deeply nested or malformed record
    becomes an item with errors (and so a rejected receipt and a dead letter)."""
    problem = bounds_problem(raw)
    if problem is not None:
        code = "record_too_large" if problem.startswith("too large") else "record_too_deep"
        return ExternalItem(None, [field_error("", code, problem=problem)])
    channel, external_id = _peek_ids(raw)
    denied = authenticate(registry, channel, raw, signature)
    if denied is not None:
        return ExternalItem(None, [denied], channel, external_id, reason_class="unauthenticated")
    try:
        return ExternalItem(ExternalSubmission.model_validate_json(raw), [])
    except ValidationError as exc:
        return ExternalItem(None, from_pydantic(exc.errors()), channel, external_id)
    except Exception as exc:  # total: whatever the parser raises is the record's fault
        error = field_error("", "undecodable", error=type(exc).__name__)
        return ExternalItem(None, [error], channel, external_id)


def header(headers: Iterable[tuple[str, bytes]] | None, name: str) -> str | None:
    for key, value in headers or ():
        if key.lower() == name:
            return bytes(value).decode("utf-8", "replace")
    return None


def _peek_ids(raw: bytes) -> tuple[str | None, str | None]:
    try:
        obj: Any = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None, None
    if not isinstance(obj, dict):
        return None, None
    channel, external_id = obj.get("channel"), obj.get("external_id")
    return (
        channel if isinstance(channel, str) else None,
        external_id if isinstance(external_id, str) else None,
    )


def make_router(rt: Runtime, service: IntakeService, registry: Registry) -> KafkaRouter:
    router = KafkaRouter()
    settings = rt.settings

    @router.subscriber(
        topics.INTAKE,
        **batch_subscriber_options(settings, "lapor-intake", prompt=True),
        title="intake.external",
        description="Submissions from registered regional systems, signed with HMAC-SHA256 "
        "(header x-lapor-signature); every record is answered on lapor.intake.receipts.v1; "
        "refused records go to lapor.dlq.v1.",
    )
    async def on_external_submissions(msg: KafkaMessage) -> None:
        await process_isolated(msg.raw_message, submit_records, rt.dead_letters)

    async def submit_records(records: Sequence[Any]) -> None:
        items = [
            decode_external(r.value or b"", header(r.headers, SIGNATURE_HEADER), registry)
            for r in records
        ]
        outcome = await service.submit_external(items)
        for reason in {outcome.reason_classes.get(i, "invalid") for i in outcome.rejected}:
            await rt.dead_letters.send(
                [
                    Bad(
                        records[i],
                        "rejected: "
                        + "; ".join(
                            f"{e.field or '<body>'}: {e.message_en}"
                            for e in items[i].errors or outcome.receipts[i].errors
                        ),
                    )
                    for i in outcome.rejected
                    if outcome.reason_classes.get(i, "invalid") == reason
                ],
                reason_class=reason,
            )

    @router.subscriber(
        topics.CASES,
        **batch_subscriber_options(settings, "lapor-intake-views"),
        title="intake.case-views",
        description="Projects the case log into the reporter-facing status view.",
    )
    async def on_case_events(msg: KafkaMessage) -> None:
        await process_isolated(msg.raw_message, project, rt.dead_letters)
        await linger(rt.settings, msg.raw_message)

    async def project(records: Sequence[Any]) -> None:
        events, bad = decode_case_events(records)
        await service.project(events)
        await rt.dead_letters.send(bad)

    return router


def repeat_feed(service: IntakeService) -> Any:
    """What :class:`lapor_kit.kafka.TopicTail` hands the case log to: the reports every intake
    process accepts, and the cases that finish, for the repeat index. Only those two kinds
    are parsed; a record that does not parse is skipped (the index is a candidate filter:
    the store has the last word on whether a match is open)."""

    def handle(values: list[dict[str, Any]]) -> None:
        submitted: list[ComplaintSubmitted] = []
        finished: list[str] = []
        for value in values:
            kind = value.get("type")
            data = value.get("data")
            if kind == "complaint.submitted":
                try:
                    submitted.append(ComplaintSubmitted.model_validate(value))
                except Exception:  # noqa: S112 (total: one bad record skips only itself)
                    continue
            elif isinstance(data, dict) and data.get("status") in FINISHED:
                subject = value.get("subject")
                if isinstance(subject, str):
                    finished.append(subject)
        service.observe(submitted, finished)

    return handle
