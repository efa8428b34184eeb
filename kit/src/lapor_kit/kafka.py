"""The Kafka edge: broker factory, topic creation, batch decoding and dead letters.

FastStream 0.7 has no retry or dead-letter support for Kafka; this module adds what the
services need:

* every subscriber is a batch subscriber with an explicit ``group_id`` and
  ``AckPolicy.NACK_ON_ERROR``: offsets are committed only after the handler returned, i.e.
  after its effects are durable. An infrastructure error (store down) raises, the batch is
  sought back and redelivered after a back-off (:func:`backoff_on_error`).
* a *malformed* record never blocks its partition: :func:`decode_batch` splits a batch into
  good records and dead letters; :class:`DeadLetters` publishes the original bytes with the
  reason in ``x-dlq-*`` headers to ``lapor.dlq.v1`` before the batch is acknowledged.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar, cast

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from faststream import BaseMiddleware
from faststream.kafka import KafkaBroker
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from faststream.middlewares import AckPolicy
from prometheus_client import CollectorRegistry, Counter
from pydantic import ValidationError

from lapor_schemas import CaseEvent, parse_case_event, topics

from .settings import KitSettings

log = logging.getLogger("lapor.kafka")

T = TypeVar("T")


def make_broker(
    settings: KitSettings,
    *,
    service: str,
    registry: CollectorRegistry,
    middlewares: Sequence[Any] = (),
) -> KafkaBroker:
    """A broker whose per-message logs are DEBUG, with FastStream's Prometheus middleware."""
    return KafkaBroker(
        settings.kafka_bootstrap,
        client_id=f"lapor-{service}",
        acks="all",
        linger_ms=settings.kafka_linger_ms,
        max_batch_size=64 * 1024,
        middlewares=(
            KafkaPrometheusMiddleware(registry=registry, app_name=f"lapor-{service}"),
            backoff_on_error(registry, service),
            *middlewares,
        ),
        log_level=logging.DEBUG,
    )


def batch_subscriber_options(
    settings: KitSettings, group_id: str, *, prompt: bool = False
) -> dict[str, Any]:
    """Options every Lapor subscriber uses (see module docstring). ``prompt``: a consumer on
    the path from a report to its agency and reporter, which uses the short fetch wait of
    ``kafka_fetch_max_wait_ms``; the others (views, metrics, retries) keep Kafka's 500 ms
    and cost the broker nothing while idle."""
    return {
        "batch": True,
        "group_id": group_id + settings.kafka_group_suffix,
        "auto_offset_reset": "earliest",
        "ack_policy": AckPolicy.NACK_ON_ERROR,
        "session_timeout_ms": settings.kafka_session_timeout_ms,
        "heartbeat_interval_ms": settings.kafka_heartbeat_interval_ms,
        "max_records": settings.kafka_max_records,
        "fetch_max_wait_ms": settings.kafka_fetch_max_wait_ms if prompt else 500,
        "batch_timeout_ms": settings.kafka_batch_timeout_ms,
    }


async def ensure_topics(
    settings: KitSettings, names: Iterable[str] = topics.ALL, *, attempts: int = 30
) -> None:
    """Create the topics with the configured partition count (idempotent, retried)."""
    wanted = list(dict.fromkeys(names))
    for attempt in range(attempts):
        admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
        try:
            await admin.start()
            existing = set(await admin.list_topics())
            missing = [n for n in wanted if n not in existing]
            if missing:
                new = [
                    NewTopic(n, settings.topic_partitions, settings.topic_replication_factor)
                    for n in missing
                ]
                with contextlib.suppress(TopicAlreadyExistsError):
                    await admin.create_topics(new)
            return
        except Exception as exc:  # broker still starting
            if attempt == attempts - 1:
                raise
            log.warning("topic setup failed, retrying: %r", exc)
            await asyncio.sleep(min(0.2 * (attempt + 1), 2.0))
        finally:
            await admin.close()


@dataclass(frozen=True, slots=True)
class Good(Generic[T]):
    record: Any
    value: T


@dataclass(frozen=True, slots=True)
class Bad:
    record: Any
    reason: str


def decode_batch(
    records: Iterable[Any], decode: Callable[[bytes], T | None]
) -> tuple[list[Good[T]], list[Bad]]:
    """Split records into decoded values and dead letters. ``decode`` returning ``None`` means
    "skip on purpose" (e.g. an event type this version does not handle)."""
    good: list[Good[T]] = []
    bad: list[Bad] = []
    for record in records:
        raw = record.value or b""
        try:
            value = decode(raw)
        except ValidationError as exc:
            bad.append(Bad(record, describe_validation_error(exc)))
            continue
        except (ValueError, UnicodeDecodeError) as exc:
            bad.append(Bad(record, f"undecodable: {exc}"))
            continue
        if value is not None:
            good.append(Good(record, value))
    return good, bad


def decode_case_events(records: Iterable[Any]) -> tuple[list[CaseEvent], list[Bad]]:
    """:func:`decode_batch` for ``lapor.cases.v1`` (unknown event types are skipped)."""
    good, bad = decode_batch(records, parse_case_event)
    return [cast("CaseEvent", g.value) for g in good], bad


def describe_validation_error(exc: ValidationError, limit: int = 10) -> str:
    parts = []
    for err in exc.errors()[:limit]:
        loc = ".".join(str(p) for p in err.get("loc", ())) or "<body>"
        parts.append(f"{loc}: {err.get('msg')}")
    return "invalid message: " + "; ".join(parts)


class DeadLetters:
    """Publishes refused records to the dead-letter topic, unchanged, and counts them."""

    def __init__(self, broker: KafkaBroker, *, service: str, registry: CollectorRegistry) -> None:
        self._broker = broker
        self._service = service
        self._counter = Counter(
            "lapor_dead_letters_total",
            "Records sent to the dead-letter topic, by source topic and reason class.",
            ["service", "source_topic", "reason"],
            registry=registry,
        )

    async def send(self, bad: Sequence[Bad], *, reason_class: str = "invalid") -> None:
        """Publish and wait for the broker's confirmation (so the batch may be committed)."""
        if not bad:
            return
        futures: list[Awaitable[Any]] = []
        for item in bad:
            rec = item.record
            headers = {
                topics.DLQ_REASON: item.reason[:2000],
                topics.DLQ_SOURCE_TOPIC: str(rec.topic),
                topics.DLQ_SOURCE_PARTITION: str(rec.partition),
                topics.DLQ_SOURCE_OFFSET: str(rec.offset),
                topics.DLQ_SERVICE: f"lapor-{self._service}",
                topics.DLQ_TIME: datetime.now(UTC).isoformat(),
            }
            if rec.key is not None:
                headers[topics.DLQ_SOURCE_KEY] = bytes(rec.key).decode("utf-8", "replace")
            for name, value in rec.headers or ():
                headers.setdefault(name, bytes(value).decode("utf-8", "replace"))
            futures.append(
                await self._broker.publish(
                    rec.value or b"", topics.DLQ, key=rec.key, headers=headers, no_confirm=True
                )
            )
            self._counter.labels(self._service, rec.topic, reason_class).inc()
            log.warning(
                "dead-lettered %s[%s]@%s: %s", rec.topic, rec.partition, rec.offset, item.reason
            )
        await asyncio.gather(*futures)


def backoff_on_error(registry: CollectorRegistry, service: str) -> type[BaseMiddleware]:
    """A middleware class: on an unhandled error (an infrastructure failure; malformed records
    never get here) log, count, and wait before the batch is sought back and redelivered, so
    that a store outage does not become a hot loop. Nothing is committed, nothing is lost."""
    errors = Counter(
        "lapor_processing_errors_total",
        "Batches that failed and will be redelivered (infrastructure errors).",
        ["service"],
        registry=registry,
    ).labels(service)
    state = {"failures": 0}

    class BackoffOnError(BaseMiddleware):
        async def consume_scope(self, call_next: Any, msg: Any) -> Any:
            try:
                result = await call_next(msg)
            except Exception as exc:
                state["failures"] += 1
                delay = min(0.25 * 2 ** min(state["failures"], 5), 5.0)
                log.error("batch failed, will be redelivered in %.2fs: %r", delay, exc)
                errors.inc()
                await asyncio.sleep(delay)
                raise
            state["failures"] = 0
            return result

    return BackoffOnError


def encode(model: Any) -> bytes:
    """Serialize a pydantic model (or JSON-able value) to the bytes put on a topic."""
    dump = getattr(model, "model_dump_json", None)
    if dump is not None:
        data: bytes = dump().encode()
        return data
    return json.dumps(model, separators=(",", ":"), default=str).encode()
