"""Notify in-process on the real broker and store, sending SMS through the provider stand-in."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from lapor_devstack.settings import StackSettings
from lapor_intake.domain.model import new_tracking_id
from lapor_notify.main import build
from lapor_notify.settings import NotifySettings
from lapor_schemas import ContactData, ReporterContact, topics
from tests import factories
from tests.support import eventually, fast_settings, publish

pytestmark = pytest.mark.integration


async def test_a_phone_only_reporter_is_told_by_sms_once(
    infra: object, stack_settings: StackSettings, provider: str
) -> None:
    settings = fast_settings(
        NotifySettings, stack_settings, sms_url=f"{provider}/send/sms-notify", sms_token="t0k3n"
    )
    app, _ = build(settings)
    tid = new_tracking_id()
    submitted = factories.submitted(tid, reporter_contactable=True)
    contact = ReporterContact(
        source="lapor-intake",
        tenant="63",
        subject=tid,
        correlation_id=tid,
        data=ContactData(tracking_id=tid, anonymous=True, phone="+6281377778888"),
    )
    async with app.router.lifespan_context(app):
        raw = submitted.model_dump_json().encode()
        await publish(stack_settings.kafka_bootstrap, topics.CASES, raw, key=tid.encode())
        await publish(
            stack_settings.kafka_bootstrap,
            topics.CONTACTS,
            contact.model_dump_json().encode(),
            key=tid.encode(),
        )
        await publish(stack_settings.kafka_bootstrap, topics.CASES, raw, key=tid.encode())

        async def sent() -> list[dict[str, Any]] | None:
            async with httpx.AsyncClient() as client:
                items: list[dict[str, Any]] = (
                    await client.get(f"{provider}/requests", params={"name": "sms-notify"})
                ).json()
            mine = [i for i in items if tid in i["body"]]
            return mine or None

        [sms] = await eventually(sent, timeout=30)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://notify") as api:

            async def settled() -> list[dict[str, Any]] | None:
                notes: list[dict[str, Any]] = (
                    await api.get("/api/v1/notifications", params={"tracking_id": tid})
                ).json()
                done = {n["channel"]: n["status"] for n in notes}
                return notes if done == {"email": "skipped", "sms": "sent"} else None

            notes = await eventually(settled, timeout=30)
    body = json.loads(sms["body"])
    assert body["to"] == "+6281377778888"
    assert tid in body["text"]
    assert body["text"].startswith("LAPOR! Laporan Anda diterima")
    assert sms["headers"]["idempotency-key"] == f"{submitted.id}:reporter:sms"
    assert sms["headers"]["authorization"] == "Bearer t0k3n"
    assert len(notes) == 2  # the redelivered event made no second delivery
