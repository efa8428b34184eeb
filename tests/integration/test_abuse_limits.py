"""Abuse limits at intake's public doors, on the real broker and store, with the service's
own (strict) default rates: per-client 429 + Retry-After, counted; bodies refused by size
before parsing; uploads checked by content."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio

from lapor_devstack.settings import StackSettings
from lapor_intake.main import build
from lapor_intake.settings import IntakeSettings
from tests.support import fast_settings, photo

pytestmark = [pytest.mark.integration, pytest.mark.asyncio(loop_scope="module")]

BODY: dict[str, Any] = {
    "type": "pengaduan",
    "title": "Sampah menumpuk di pasar",
    "description": "Sampah di Pasar Lima tidak diangkut selama seminggu.",
    "category": "persampahan",
    "region_code": "63.71",
    "anonymous": True,
}


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def client(infra: object, stack_settings: StackSettings) -> AsyncIterator[httpx.AsyncClient]:
    settings = fast_settings(
        IntakeSettings,
        stack_settings,
        rate_limits=IntakeSettings.model_fields["rate_limits"].default,
    )
    app, _ = build(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 5555))
        async with httpx.AsyncClient(transport=transport, base_url="http://intake") as c:
            yield c


def unique() -> dict[str, str]:
    words = " ".join(uuid.uuid4().hex[:7] for _ in range(6))
    return {"title": f"Sampah {words[:15]}", "description": f"Laporan {words} di pasar."}


async def test_one_client_flooding_reports_gets_429_with_retry_after(
    client: httpx.AsyncClient,
) -> None:
    answers = [
        await client.post("/api/v1/complaints", json={**BODY, **unique()}) for _ in range(15)
    ]
    codes = [a.status_code for a in answers]
    assert codes[:10] == [202] * 10
    assert set(codes[10:]) == {429}
    refused = answers[-1]
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.json()["detail"].startswith("Terlalu banyak permintaan")
    metrics = (await client.get("/metrics")).text
    assert 'lapor_rate_limited_total{door="submit",service="intake"} 5.0' in metrics


async def test_sms_from_one_number_is_limited_per_number(client: httpx.AsyncClient) -> None:
    auth = {"Authorization": "Bearer dev-sms-token-kalsel"}
    sender = f"+62812{uuid.uuid4().int % 10**7:07d}"
    outcomes = []
    for n in range(12):
        msg = {
            "message_id": f"gw-{uuid.uuid4().hex[:8]}",
            "from": sender,
            "text": f"LAPOR 63.71 Lampu jalan nomor {n} mati di {uuid.uuid4().hex[:6]}.",
        }
        outcomes.append((await client.post("/sms/v1/inbound", json=msg, headers=auth)).status_code)
    assert outcomes.count(200) == 10
    assert outcomes[-1] == 429
    other = {
        "message_id": f"gw-{uuid.uuid4().hex[:8]}",
        "from": f"+62813{uuid.uuid4().int % 10**7:07d}",
        "text": "LAPOR 63.71 Jalan berlubang di depan sekolah dasar negeri.",
    }
    assert (await client.post("/sms/v1/inbound", json=other, headers=auth)).status_code == 200


async def test_a_huge_body_is_refused_by_size_before_it_is_parsed(
    client: httpx.AsyncClient,
) -> None:
    huge = b'{"title": "' + b"x" * (5 * 1024 * 1024) + b'"}'
    declared = await client.post(
        "/api/v1/complaints", content=huge, headers={"content-type": "application/json"}
    )
    assert declared.status_code == 413
    assert "too large" in declared.json()["detail_en"]

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(40):
            yield b"x" * 65536

    streamed = await client.post(
        "/api/v1/complaints", content=chunks(), headers={"content-type": "application/json"}
    )
    assert streamed.status_code == 413


async def test_an_upload_must_be_what_it_says_it_is(client: httpx.AsyncClient) -> None:
    exe = b"MZ\x90\x00\x03" + b"\x00" * 4096  # a Windows executable
    session = {"X-Lapor-Upload-Key": "sesi-unggah-0123456789"}
    disguised = await client.post(
        "/api/v1/attachments", files={"file": ("foto.png", exe, "image/png")}, headers=session
    )
    assert disguised.status_code == 415
    assert disguised.json()["errors"][0]["code"] == "attachment_content"
    jpeg = photo("JPEG")
    real = await client.post(
        "/api/v1/attachments", files={"file": ("foto.jpg", jpeg, "image/jpeg")}, headers=session
    )
    assert real.status_code == 201


async def test_the_address_quota_counts_distinct_deliveries_in_the_real_store(
    infra: object, stack_settings: StackSettings
) -> None:
    from lapor_kit.runtime import Runtime
    from lapor_notify.adapters.store import MongoNotifyStore
    from lapor_notify.settings import NotifySettings

    rt = Runtime(fast_settings(NotifySettings, stack_settings), "notify")
    store = MongoNotifyStore(rt)
    key = f"addr-{uuid.uuid4().hex}:2026-12-02"
    allowed = [await store.claim_address_quota(key, f"d{n}", 3) for n in range(5)]
    assert allowed == [True, True, True, False, False]
    assert await store.claim_address_quota(key, "d1", 3) is True  # a repeat counts once
    assert await store.claim_address_quota(key, "d4", 3) is False
    # at once, as a batch of sends claims them: none of the first ones is refused
    import asyncio

    other = f"addr-{uuid.uuid4().hex}:2026-12-02"
    at_once = await asyncio.gather(
        *(store.claim_address_quota(other, f"c{n}", 20) for n in range(8))
    )
    assert at_once == [True] * 8
    await rt.mongo.close()
