"""Helpers for tests on the real broker: read what a topic received after a point in time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition


class TopicReader:
    """Reads a topic from its end offsets at :meth:`start` (no consumer group)."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.records: list[ConsumerRecord[bytes, bytes]] = []
        self._consumer: AIOKafkaConsumer | None = None

    async def start(self) -> TopicReader:
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False)
        await consumer.start()
        partitions = None
        for _ in range(50):
            partitions = consumer.partitions_for_topic(self.topic)
            if partitions:
                break
            await consumer.force_metadata_update()
            await asyncio.sleep(0.1)
        assert partitions, f"topic {self.topic} does not exist"
        tps = [TopicPartition(self.topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
        for tp in tps:
            consumer.seek(tp, ends[tp])
        self._consumer = consumer
        return self

    async def stop(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()

    async def wait_for(
        self,
        predicate: Callable[[ConsumerRecord[bytes, bytes]], bool],
        count: int = 1,
        timeout: float = 30.0,
    ) -> list[ConsumerRecord[bytes, bytes]]:
        assert self._consumer is not None
        deadline = time.monotonic() + timeout
        while True:
            matched = [r for r in self.records if predicate(r)]
            if len(matched) >= count:
                return matched
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"{len(matched)}/{count} matching records on {self.topic} "
                    f"after {timeout}s ({len(self.records)} seen)"
                )
            batch = await self._consumer.getmany(timeout_ms=200)
            for recs in batch.values():
                self.records.extend(recs)


async def publish(
    bootstrap: str,
    topic: str,
    value: bytes,
    key: bytes | None = None,
    headers: list[tuple[str, bytes]] | None = None,
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topic, value, key=key, headers=headers)
    finally:
        await producer.stop()


async def eventually(check: Callable[[], Any], timeout: float = 30.0, interval: float = 0.2) -> Any:
    """Await ``check()`` until it returns something truthy; return that."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(interval)
    raise TimeoutError(f"condition not met within {timeout}s; last value: {last!r}")


def dev_channel_secret(channel: str) -> str:
    """The development secret of a registered channel (lapor_intake's dev credentials)."""
    import json as _json
    from importlib.resources import files

    data = _json.loads(files("lapor_intake").joinpath("data", "credentials.dev.json").read_text())
    secret: str = next(c["secret"] for c in data["channels"] if c["id"] == channel)
    return secret


def signed(channel: str, body: bytes) -> list[tuple[str, bytes]]:
    """Kafka headers that authenticate ``body`` as coming from ``channel``."""
    import hashlib
    import hmac

    mac = hmac.new(dev_channel_secret(channel).encode(), body, hashlib.sha256).hexdigest()
    return [("x-lapor-signature", f"sha256={mac}".encode())]


def fast_settings(cls: type[Any], stack: Any, **overrides: Any) -> Any:
    """Settings for an in-process service on the test stack: its own databases, short group
    timeouts, a quick outbox."""
    import uuid as _uuid

    values = {
        "kafka_bootstrap": stack.kafka_bootstrap,
        "mongo_url": stack.mongo_url,
        "mongo_db_prefix": f"t{_uuid.uuid4().hex[:8]}",
        "kafka_session_timeout_ms": 6000,
        "kafka_heartbeat_interval_ms": 500,
        "kafka_fetch_max_wait_ms": 50,
        "outbox_idle_seconds": 0.2,
        "kafka_background_linger_ms": 100,
        # a scrape here waits for the broker's numbers: the tests read them right after
        # acting (the running stack keeps the default, as Prometheus sees it)
        "scrape_wait_seconds": 30.0,
        **overrides,
    }
    if "rate_limits" in cls.model_fields and "rate_limits" not in overrides:
        values["rate_limits"] = "submit=6000/60,read=60000/60,upload=6000/60,sms=6000/60"
    if "refresh_seconds" in cls.model_fields:
        values.setdefault("refresh_seconds", 0.0)
    if "linger_ms" in cls.model_fields:
        values.setdefault("linger_ms", 100)
    if "notify_address_daily_cap" in cls.model_fields:
        values.setdefault("notify_address_daily_cap", 5000)
    return cls(**values)


def unique_text(body: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """``body`` with a title and description no other test sends: a similar text would be
    linked as a repeat of an open report and wait for a person to verify it."""
    import uuid as _uuid

    words = [_uuid.uuid4().hex[:7] for _ in range(6)]
    return {
        **body,
        "title": f"{body['title'].split()[0]} {words[0]} {words[1]}",
        "description": f"Laporan {' '.join(words)} mohon ditindaklanjuti.",
        **extra,
    }


def free_stack_settings(var_dir: Any, **overrides: Any) -> Any:
    """A whole local stack's settings on free ports, with its own folder."""
    from lapor_devstack.settings import StackSettings

    return StackSettings.on_free_ports(
        var_dir, kafka_session_timeout_ms=6000, log_level="INFO", **overrides
    )


OIDC_USERS = (
    # a province's own sign-on: its people and the claims it gives them
    {
        "sub": "andi.sulsel",
        "name": "Andi Makassar",
        "email": "andi@sulselprov.example",
        "lapor_role": "admin_opd",
        "lapor_agency": "73.71.pupr",
    },
    {"sub": "budi.sulsel", "name": "Budi", "lapor_role": "superadmin"},
)


def oidc_provider_config(port: int) -> str:
    """Sulawesi Selatan's sign-on as the portal's provider list (role values mapped)."""
    import json

    return json.dumps(
        [
            {
                "name": "sulsel",
                "label": "SSO Sulsel",
                "tenant": "73",
                "metadata_url": f"http://127.0.0.1:{port}/.well-known/openid-configuration",
                "client_id": "lapor-portal",
                "client_secret": "rahasia-klien-uji",
                "roles": {"admin_opd": "agency_staff", "kominfo": "province_coordinator"},
            }
        ]
    )


def photo(fmt: str = "PNG", size: tuple[int, int] = (64, 48), **save: Any) -> bytes:
    """A real, decodable photo (intake decodes every photo to strip its metadata)."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, (120, 160, 200)).save(out, fmt, **save)
    return out.getvalue()


def phone_photo() -> bytes:
    """A JPEG as a phone makes it: EXIF with the GPS position, the device, an orientation,
    and a comment."""
    import io

    from PIL import Image

    image = Image.new("RGB", (640, 320), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Model X"  # Model
    exif[0x0112] = 6  # Orientation: turn 90 degrees to show it upright
    exif[0x8825] = {1: "S", 2: (3.0, 19.0, 12.5), 3: "E", 4: (114.0, 35.0, 24.0)}  # GPS
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), comment=b"rumah Pak Darto")
    return out.getvalue()
