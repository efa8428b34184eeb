"""Submit a few sample reports through the running stack and show what became of them."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
import uuid
from functools import cache
from importlib.resources import files
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from lapor_kit.auth import DEV_SIGNING_KEY, issue

from .settings import StackSettings

# The demo reads every delivery of its cases, as a national administrator would.
ADMIN = {
    "Authorization": "Bearer "
    + issue(DEV_SIGNING_KEY, subject="demo", role="national_admin", tenant="*")
}

SAMPLES: list[dict[str, Any]] = [
    {
        "type": "pengaduan",
        "title": "Jalan berlubang di Jalan Pramuka",
        "description": "Jalan Pramuka dekat jembatan berlubang besar dan membahayakan "
        "pengendara motor, terutama saat hujan.",
        "category": "infrastruktur",
        "region_code": "63.71",
        "reporter": {"name": "Siti Rahmah", "email": "siti.rahmah@warga.example"},
    },
    {
        "type": "pengaduan",
        "title": "Antrean panjang di Puskesmas",
        "description": "Antrean pasien di puskesmas sangat panjang dan loket hanya dibuka satu.",
        "category": "kesehatan",
        "region_code": "63.72",
        "anonymous": True,
        "reporter": {"email": "anonim.pelapor@warga.example"},
    },
    {
        "type": "permintaan_informasi",
        "title": "Jadwal perekaman KTP-el",
        "description": "Mohon informasi jadwal perekaman KTP-el keliling di kecamatan kami.",
        "category": "kependudukan",
        "region_code": "63.03",
        "reporter": {"name": "Ahmad Fauzi", "phone": "+6281234567890"},
    },
]

EXTERNAL_SAMPLE: dict[str, Any] = {
    "channel": "baruga-sulsel",
    "type": "pengaduan",
    "title": "Sampah menumpuk di TPS Pasar Terong",
    "description": "Sampah di TPS dekat Pasar Terong tidak diangkut selama seminggu.",
    "category": "persampahan",
    "region_code": "73.71",
    "reporter": {"name": "Andi Baso", "email": "andi.baso@warga.example"},
}


@cache
def _dev_secret(channel: str) -> str:
    data = json.loads(
        files("lapor_intake").joinpath("data", "credentials.dev.json").read_text("utf-8")
    )
    secret: str = next(c["secret"] for c in data["channels"] if c["id"] == channel)
    return secret


def sign(channel: str, body: bytes) -> str:
    """Sign like a registered channel, with its development secret (public, demo only)."""
    return "sha256=" + hmac.new(_dev_secret(channel).encode(), body, hashlib.sha256).hexdigest()


async def submit_http(client: httpx.AsyncClient, base: str, body: dict[str, Any]) -> str:
    resp = await client.post(f"{base}/api/v1/complaints", json=body)
    resp.raise_for_status()
    tracking_id: str = resp.json()["tracking_id"]
    return tracking_id


async def submit_kafka(s: StackSettings, body: dict[str, Any], timeout: float = 60.0) -> str:
    """Publish like a regional system would, then read intake's receipt."""
    external_id = f"demo-{uuid.uuid4().hex[:12]}"
    message = {**body, "external_id": external_id}
    raw = json.dumps(message).encode()
    consumer = AIOKafkaConsumer(
        "lapor.intake.receipts.v1",
        bootstrap_servers=s.kafka_bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    producer = AIOKafkaProducer(bootstrap_servers=s.kafka_bootstrap)
    await consumer.start()
    await producer.start()
    try:
        await producer.send_and_wait(
            "lapor.intake.v1",
            raw,
            key=body["channel"].encode(),
            headers=[("x-lapor-signature", sign(body["channel"], raw).encode())],
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for rec in records:
                    receipt = json.loads(rec.value)
                    if receipt.get("external_id") == external_id:
                        if receipt["status"] != "accepted":
                            raise RuntimeError(f"rejected: {receipt['errors']}")
                        tracking_id: str = receipt["tracking_id"]
                        return tracking_id
        raise TimeoutError("no receipt from intake")
    finally:
        await producer.stop()
        await consumer.stop()


async def run_demo(s: StackSettings) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(timeout=10.0) as client:
        ids = [await submit_http(client, s.url("intake"), body) for body in SAMPLES]
        ids.append(await submit_kafka(s, EXTERNAL_SAMPLE))
        views = []
        for tracking_id, body in zip(ids, [*SAMPLES, EXTERNAL_SAMPLE], strict=True):
            # the staff view (a report is public only once verified; a repeat waits)
            view = (
                await client.get(
                    f"{s.url('intake')}/api/v1/staff/complaints/{tracking_id}", headers=ADMIN
                )
            ).json()
            # one message per event on each channel the reporter left an address for
            channels = sum(1 for k in ("email", "phone") if body["reporter"].get(k))
            if view.get("repeat_of"):
                # Same substance as an open report (e.g. from an earlier `make run`): it waits
                # for a verifier instead of being dispatched at once.
                view = await wait_for_case(client, s, tracking_id, channels, routed=False)
            else:
                # the reporter hears twice (received, forwarded), the agency once
                view = await wait_for_case(client, s, tracking_id, 2 * channels + 1, routed=True)
            views.append(view)
        return views


async def wait_for_case(
    client: httpx.AsyncClient,
    s: StackSettings,
    tracking_id: str,
    expected_sent: int,
    *,
    routed: bool,
    timeout: float = 60.0,
) -> dict[str, Any]:
    """Until the case has an agency (when ``routed``) and ``expected_sent`` notifications."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        resp = await client.get(
            f"{s.url('intake')}/api/v1/staff/complaints/{tracking_id}", headers=ADMIN
        )
        view: dict[str, Any] = resp.json()
        if resp.status_code == 200 and (view.get("agency") or not routed):
            notes = (
                await client.get(
                    f"{s.url('notify')}/api/v1/notifications",
                    params={"tracking_id": tracking_id},
                    headers=ADMIN,
                )
            ).json()
            if sum(1 for n in notes if n["status"] == "sent") >= expected_sent:
                view["notifications"] = notes
                return view
        await asyncio.sleep(0.3)
    raise TimeoutError(f"{tracking_id} not handled within {timeout:.0f}s")
