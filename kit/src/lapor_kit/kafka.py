"""The Kafka edge: broker factory, topic creation, batch decoding and dead letters.

FastStream 0.7 has no retry or dead-letter support for Kafka; this module adds what the
services need:

* every subscriber is a batch subscriber with an explicit ``group_id`` and
  ``AckPolicy.NACK_ON_ERROR``: offsets are committed only after the handler returned, i.e.
  after its effects are durable. An infrastructure error (store down) raises, the batch is
  sought back and redelivered after a back-off (:func:`backoff_on_error`).
* a *malformed* record never blocks its partition: :func:`decode_batch` splits a batch into
  good records and dead letters; decoding is bounded (size, nesting depth) and total — any
  exception while decoding is a dead letter, never a redelivery. :class:`DeadLetters`
  publishes the original bytes with the reason in ``x-dlq-*`` headers to ``lapor.dlq.v1``
  before the batch is acknowledged; an original too large for the topic is truncated and
  carries its size and SHA-256, so the dead letter itself always fits.
* a record that decodes but that the service cannot handle (a bug, a value the domain has no
  answer for) is isolated by :func:`process_isolated`: the batch is retried record by record
  and only the record that fails is dead-lettered. Only infrastructure errors
  (:func:`is_infrastructure`) make a batch redeliver.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import ssl
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence, Sized
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar, cast

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, MessageSizeTooLargeError, TopicAlreadyExistsError
from bson.errors import InvalidDocument
from faststream import BaseMiddleware
from faststream.kafka import KafkaBroker
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from faststream.kafka.security import parse_security
from faststream.middlewares import AckPolicy
from faststream.security import (
    BaseSecurity,
    SASLPlaintext,
    SASLScram256,
    SASLScram512,
)
from prometheus_client import CollectorRegistry, Counter
from pydantic import ValidationError
from pymongo.errors import PyMongoError

from lapor_schemas import CaseEvent, parse_case_event, topics

from .settings import KitSettings

log = logging.getLogger("lapor.kafka")

T = TypeVar("T")


def kafka_security(settings: KitSettings) -> BaseSecurity | None:
    """FastStream's security object for the settings (None: plaintext, the local stack)."""
    protocol = settings.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return None
    context = None
    if protocol in ("SSL", "SASL_SSL"):
        ca = str(settings.kafka_ca_file) if settings.kafka_ca_file else None
        context = ssl.create_default_context(cafile=ca)
    if protocol == "SSL":
        return BaseSecurity(ssl_context=context, use_ssl=True)
    sasl = {"SCRAM-SHA-512": SASLScram512, "SCRAM-SHA-256": SASLScram256, "PLAIN": SASLPlaintext}
    return sasl[settings.kafka_sasl_mechanism](
        str(settings.kafka_username),
        str(settings.kafka_password),
        ssl_context=context,
        use_ssl=protocol == "SASL_SSL",
    )


def kafka_client_options(settings: KitSettings) -> dict[str, Any]:
    """Keyword arguments for a plain aiokafka client (admin, tail, lag reader): the same
    bootstrap servers and security as the broker's."""
    return {
        "bootstrap_servers": settings.kafka_bootstrap,
        **parse_security(kafka_security(settings)),
    }


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
        security=kafka_security(settings),
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
        "decoder": skip_decoding,
    }


async def linger(settings: KitSettings, records: Sized, ms: int | None = None) -> None:
    """Called by a background consumer (see ``kafka_background_linger_ms``) after handling a
    batch: when the batch was not full, wait, so that the records arriving meanwhile come as
    one batch (aiokafka keeps fetching while the handler waits). Its offsets are committed
    after the wait; a crash meanwhile redelivers a batch whose effects are already stored,
    which the idempotent consumer skips. ``ms``: the consumer's own wait, instead of
    ``kafka_background_linger_ms``."""
    wait = settings.kafka_background_linger_ms if ms is None else ms
    if len(records) < settings.kafka_max_records and wait > 0:
        await asyncio.sleep(wait / 1000)


async def skip_decoding(_msg: Any) -> None:
    """FastStream's own decoder parses every record as JSON before the handler runs, outside
    any handler's error handling: one record nested 100,000 levels deep raised there and
    blocked its partition. Lapor's handlers read ``msg.raw_message`` and decode with
    :func:`decode_batch` (bounded and total), so the framework decodes nothing."""
    return None


async def ensure_topics(
    settings: KitSettings, names: Iterable[str] = topics.ALL, *, attempts: int = 30
) -> None:
    """Create the topics with the configured partition count (idempotent, retried). Nothing
    where ``kafka_create_topics`` is off (the topics are declared, e.g. Strimzi's KafkaTopic)."""
    if not settings.kafka_create_topics:
        return
    wanted = list(dict.fromkeys(names))
    for attempt in range(attempts):
        admin = AIOKafkaAdminClient(**kafka_client_options(settings))
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


MAX_RECORD_BYTES = 512 * 1024
"""The largest record value a service decodes. Lapor's messages are a few KiB (attachments
travel as references); anything larger is refused before it is parsed."""
MAX_JSON_DEPTH = 32
"""The deepest nesting of arrays and objects a record may have (Lapor's own are < 8)."""


def bounds_problem(
    raw: bytes, *, max_bytes: int = MAX_RECORD_BYTES, max_depth: int = MAX_JSON_DEPTH
) -> str | None:
    """Why ``raw`` is too big or too deep to parse, or ``None``. The depth scan runs only on
    values with more brackets than ``max_depth`` (a C-speed count first), so ordinary records
    cost nothing; brackets inside JSON strings are skipped."""
    if len(raw) > max_bytes:
        return f"too large: {len(raw)} bytes (limit {max_bytes})"
    if raw.count(b"[") + raw.count(b"{") <= max_depth:
        return None
    depth = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > max_depth:
                return f"too deeply nested: more than {max_depth} levels"
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return None


def decode_batch(
    records: Iterable[Any], decode: Callable[[bytes], T | None]
) -> tuple[list[Good[T]], list[Bad]]:
    """Split records into decoded values and dead letters. ``decode`` returning ``None`` means
    "skip on purpose" (e.g. an event type this version does not handle). Total: whatever
    ``decode`` raises (a ``RecursionError``, a bug) makes that record a dead letter."""
    good: list[Good[T]] = []
    bad: list[Bad] = []
    for record in records:
        raw = record.value or b""
        problem = bounds_problem(raw)
        if problem is not None:
            bad.append(Bad(record, problem))
            continue
        try:
            value = decode(raw)
        except ValidationError as exc:
            bad.append(Bad(record, describe_validation_error(exc)))
            continue
        except (ValueError, UnicodeDecodeError) as exc:
            bad.append(Bad(record, f"undecodable: {str(exc)[:500]}"))
            continue
        except Exception as exc:
            bad.append(Bad(record, f"undecodable: {type(exc).__name__}: {str(exc)[:500]}"))
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


DLQ_MAX_VALUE_BYTES = 64 * 1024
"""Originals above this are truncated in the dead letter (with their size and SHA-256)."""
_DLQ_MAX_HEADER = 1024
_DLQ_MAX_COPIED_HEADERS = 16


def dead_letter_parts(
    rec: Any, reason: str, service: str
) -> tuple[bytes, bytes | None, dict[str, str]]:
    """The value, key and headers of a dead letter for ``rec``: always small enough to be
    published, whatever the original was (a record that could not be dead-lettered would
    block its partition again)."""
    value = bytes(rec.value or b"")
    key = bytes(rec.key)[:_DLQ_MAX_HEADER] if rec.key is not None else None
    headers = {
        topics.DLQ_REASON: reason[:2000],
        topics.DLQ_SOURCE_TOPIC: str(rec.topic),
        topics.DLQ_SOURCE_PARTITION: str(rec.partition),
        topics.DLQ_SOURCE_OFFSET: str(rec.offset),
        topics.DLQ_SERVICE: f"lapor-{service}",
        topics.DLQ_TIME: datetime.now(UTC).isoformat(),
    }
    if key is not None:
        headers[topics.DLQ_SOURCE_KEY] = key.decode("utf-8", "replace")
    if len(value) > DLQ_MAX_VALUE_BYTES:
        headers[topics.DLQ_TRUNCATED] = "true"
        headers[topics.DLQ_ORIGINAL_BYTES] = str(len(value))
        headers[topics.DLQ_ORIGINAL_SHA256] = hashlib.sha256(value).hexdigest()
        value = value[:DLQ_MAX_VALUE_BYTES]
    for name, header_value in list(rec.headers or ())[:_DLQ_MAX_COPIED_HEADERS]:
        if len(name) <= 256:
            text = bytes(header_value)[:_DLQ_MAX_HEADER].decode("utf-8", "replace")
            headers.setdefault(name, text)
    return value, key, headers


DEAD_LETTER_REASONS = ("invalid", "unauthenticated", "unprocessable")
"""Why a consumer set a record aside: bad input, a signature that does not check, or a record
that makes the service fail (notify adds ``undeliverable`` for notices given up)."""


class DeadLetters:
    """Publishes refused records to the dead-letter topic, unchanged (truncated when too large
    for the topic), and counts them."""

    def __init__(self, broker: KafkaBroker, *, service: str, registry: CollectorRegistry) -> None:
        self._broker = broker
        self._service = service
        self._counter = Counter(
            "lapor_dead_letters_total",
            "Records sent to the dead-letter topic, by source topic and reason class.",
            ["service", "source_topic", "reason"],
            registry=registry,
        )
        # every topic and reason class at 0 from the start: a series that appeared with its
        # first dead letters (often a whole batch at once) would never show in increase()
        for topic in topics.ALL:
            for reason in DEAD_LETTER_REASONS:
                self._counter.labels(service, topic, reason)

    def count(self, source_topic: str, reason_class: str, n: int = 1) -> None:
        """Count dead letters this service sent another way (notify's go out through its
        outbox, with the delivery's state, in one transaction); ``n=0`` creates the series
        at zero, so the first one is seen by ``increase()``."""
        self._counter.labels(self._service, source_topic, reason_class).inc(n)

    async def send(self, bad: Sequence[Bad], *, reason_class: str = "invalid") -> None:
        """Publish and wait for the broker's confirmation (so the batch may be committed)."""
        if not bad:
            return
        futures: list[Awaitable[Any]] = []
        for item in bad:
            rec = item.record
            value, key, headers = dead_letter_parts(rec, item.reason, self._service)
            futures.append(
                await self._broker.publish(
                    value, topics.DLQ, key=key, headers=headers, no_confirm=True
                )
            )
            self._counter.labels(self._service, rec.topic, reason_class).inc()
            log.warning(
                "dead-lettered %s[%s]@%s: %s", rec.topic, rec.partition, rec.offset, item.reason
            )
        await asyncio.gather(*futures)


def is_infrastructure(exc: BaseException, extra: tuple[type[BaseException], ...] = ()) -> bool:
    """True for failures of the things around the code (store, broker, network, a deadline),
    which a redelivery after a back-off may cure; False for anything a record itself causes
    (invalid data, a bug), which no redelivery cures."""
    if isinstance(exc, InvalidDocument | MessageSizeTooLargeError):
        return False
    return isinstance(exc, (PyMongoError, KafkaError, OSError, TimeoutError, *extra))


async def process_isolated(
    records: Sequence[Any],
    work: Callable[[Sequence[Any]], Awaitable[None]],
    dead_letters: DeadLetters,
    *,
    retry_on: tuple[type[BaseException], ...] = (),
) -> None:
    """``await work(records)``; if it fails for a reason that is not infrastructure, run it
    again one record at a time and dead-letter (reason class ``unprocessable``) only the
    records that fail, so one poison record never blocks the records behind it. ``work`` must
    be idempotent (every Lapor consumer is: processed event ids, channel keys), because the
    records before the poison one are handled again. ``retry_on``: a service's own
    exceptions that mean "try again later" (e.g. an optimistic-concurrency conflict)."""
    try:
        await work(records)
        return
    except Exception as exc:
        if is_infrastructure(exc, retry_on) or len(records) == 0:
            raise
        log.error("batch of %d failed, isolating the poison record(s): %r", len(records), exc)
    for record in records:
        try:
            await work([record])
        except Exception as exc:
            if is_infrastructure(exc, retry_on):
                raise
            reason = f"unprocessable: {type(exc).__name__}: {str(exc)[:1000]}"
            await dead_letters.send([Bad(record, reason)], reason_class="unprocessable")


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


class TopicTail:
    """Follows *every* partition of a topic from the offsets it had when :meth:`open` was
    called, with no consumer group: each process sees the whole topic (a group would share the
    partitions out). For in-process state that every process needs whole, such as intake's
    repeat index: take the offsets, load the state from the store, then :meth:`follow`, so
    nothing committed after the load is missed (what was committed before is both loaded
    and seen again, so ``handle`` must be idempotent).

    Best effort by design: ``handle`` gets decoded JSON objects (records that are too large,
    too deep or not JSON objects are skipped), its errors are logged and skipped, and a broker
    outage only delays it (aiokafka reconnects). Nothing is committed anywhere."""

    def __init__(
        self,
        options: Mapping[str, Any],
        topic: str,
        handle: Callable[[list[dict[str, Any]]], Any],
        *,
        fetch_max_wait_ms: int = 500,
        client_id: str = "lapor-tail",
    ) -> None:
        self.options = dict(options)  # kafka_client_options(): servers and security
        self.topic = topic
        self.handle = handle
        self.fetch_max_wait_ms = fetch_max_wait_ms
        self.client_id = client_id
        self._consumer: Any = None
        self._task: asyncio.Task[None] | None = None
        self.seen = 0

    async def open(self, attempts: int = 50) -> None:
        from aiokafka import AIOKafkaConsumer, TopicPartition

        consumer = AIOKafkaConsumer(
            **self.options,
            enable_auto_commit=False,
            client_id=self.client_id,
            fetch_max_wait_ms=self.fetch_max_wait_ms,
        )
        await consumer.start()
        try:
            parts: set[int] = set()
            for _ in range(attempts):
                parts = consumer.partitions_for_topic(self.topic) or set()
                if parts:
                    break
                await consumer.topics()
                await asyncio.sleep(0.1)
            tps = [TopicPartition(self.topic, p) for p in sorted(parts)]
            consumer.assign(tps)
            ends = await consumer.end_offsets(tps)
            for tp in tps:
                consumer.seek(tp, ends[tp])
        except BaseException:
            await consumer.stop()
            raise
        self._consumer = consumer

    def follow(self) -> None:
        assert self._consumer is not None, "open() first"
        self._task = asyncio.create_task(self._run(), name=f"tail-{self.topic}")

    async def _run(self) -> None:
        assert self._consumer is not None
        while True:
            try:
                batch = await self._consumer.getmany(timeout_ms=1000, max_records=2000)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the broker away: aiokafka reconnects
                log.warning("tail of %s: %r", self.topic, exc)
                await asyncio.sleep(1.0)
                continue
            values: list[dict[str, Any]] = []
            for records in batch.values():
                for r in records:
                    raw = r.value or b""
                    if bounds_problem(raw) is not None:
                        continue
                    try:
                        value = json.loads(raw)
                    except (ValueError, UnicodeDecodeError, RecursionError):
                        continue
                    if isinstance(value, dict):
                        values.append(value)
            if not values:
                continue
            self.seen += len(values)
            try:
                result = self.handle(values)
                if asyncio.iscoroutine(result):
                    await result
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.error("tail of %s: a batch was skipped: %r", self.topic, exc)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None
