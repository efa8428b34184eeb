"""Intake dies at the worst moments; every consumer's effect still happens exactly once.
And reporter identity appears on no topic but the contacts topic, and in no log."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from lapor_devstack.settings import StackSettings
from lapor_devstack.stack import Stack, services
from lapor_kit.auth import DEV_SIGNING_KEY, issue
from lapor_schemas import topics
from tests.e2e.test_pipeline import counter_value, mails_for, routed_view
from tests.support import eventually, publish, signed, unique_text

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

BODY: dict[str, Any] = {
    "title": "Sampah menumpuk di TPS Kayu Tangi",
    "description": "Sampah di TPS Kayu Tangi tidak diangkut seminggu dan berbau busuk.",
    "category": "persampahan",
    "region_code": "63.71",
}
DLH = "63.71.dlh"


def unique_body(**extra: Any) -> dict[str, Any]:
    return unique_text(BODY, **extra)


ADMIN = {
    "Authorization": "Bearer "
    + issue(DEV_SIGNING_KEY, subject="e2e", role="national_admin", tenant="*")
}


def restart_intake(stack: Stack, s: StackSettings, **env: str) -> None:
    """Stop intake and start it again with extra settings (test hooks)."""
    stack.pm.stop("intake")
    comp = services(s, ("intake",))[0]
    comp = dataclasses.replace(comp, env={**comp.env, **env})
    stack.pm.start(comp)
    stack.pm.wait_ready(comp, 60)


async def read_all(bootstrap: str, topic: str) -> list[Any]:
    """Every record of a topic, from the beginning to the current end."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        if not parts:
            await consumer.force_metadata_update()
            parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        ends = await consumer.end_offsets(parts)
        records: list[Any] = []
        while [tp for tp in parts if await consumer.position(tp) < ends[tp]]:
            batch = await consumer.getmany(timeout_ms=500)
            for recs in batch.values():
                records.extend(recs)
        return records
    finally:
        await consumer.stop()


async def effects(http: httpx.AsyncClient, s: StackSettings, tid: str) -> dict[str, Any]:
    case = (await http.get(f"{s.url('routing')}/api/v1/cases/{tid}", headers=ADMIN)).json()
    notes = (
        await http.get(
            f"{s.url('notify')}/api/v1/notifications", params={"tracking_id": tid}, headers=ADMIN
        )
    ).json()
    mails = (
        await http.get(f"http://127.0.0.1:{s.mail_http_port}/messages", params={"tracking_id": tid})
    ).json()
    return {
        "dispatches": sum(h["status"] == "dispatched" for h in case["history"]),
        "deliveries": sorted((n["recipient_role"], n["channel"], n["status"]) for n in notes),
        "mails": sorted(m["to"][0] for m in mails),
    }


async def received(http: httpx.AsyncClient, s: StackSettings) -> float:
    text = (await http.get(f"{s.url('metrics')}/metrics")).text
    return counter_value(
        text,
        "lapor_complaints_received_total",
        province="63",
        regency="63.71",
        channel="web",
        type="pengaduan",
    )


async def assert_exactly_once(
    http: httpx.AsyncClient, s: StackSettings, tid: str, email: str, before: float
) -> None:
    await routed_view(http, s, tid)
    await mails_for(http, s, tid, 3)

    async def counted() -> float | None:
        value = await received(http, s)
        return value if value > before else None

    await eventually(counted, timeout=60)
    await asyncio.sleep(3)  # room for a duplicate effect to show up, if there were one
    seen = await effects(http, s, tid)
    assert seen == {
        "dispatches": 1,
        "deliveries": [
            ("agency", "email", "sent"),
            ("agency", "inbox", "delivered"),
            ("reporter", "email", "sent"),
            ("reporter", "email", "sent"),
            ("reporter", "inbox", "delivered"),
            ("reporter", "inbox", "delivered"),
        ],
        "mails": sorted([email, email, "dlh.6371@instansi.lapor.example"]),
    }
    assert await received(http, s) == before + 1


async def test_kill_9_between_store_write_and_publish(
    http: httpx.AsyncClient, running_stack: Stack, e2e_settings: StackSettings
) -> None:
    s = e2e_settings
    restart_intake(running_stack, s, LAPOR_OUTBOX_HOLD_SECONDS="3600")
    before = await received(http, s)
    email = f"korban.{uuid.uuid4().hex[:6]}@warga.example"
    resp = await http.post(
        f"{s.url('intake')}/api/v1/complaints",
        json=unique_body(reporter={"name": "Dewi", "email": email}),
    )
    assert resp.status_code == 202
    tid = resp.json()["tracking_id"]
    await asyncio.sleep(2)
    missing = await http.get(f"{s.url('routing')}/api/v1/cases/{tid}", headers=ADMIN)
    assert missing.status_code == 404

    assert running_stack.pm.kill("intake")  # kill -9: the event was stored, not published
    restart_intake(running_stack, s)
    await assert_exactly_once(http, s, tid, email, before)


async def test_crash_after_publish_before_the_outbox_is_cleared(
    http: httpx.AsyncClient, running_stack: Stack, e2e_settings: StackSettings
) -> None:
    s = e2e_settings
    restart_intake(
        running_stack, s, LAPOR_OUTBOX_HOLD_SECONDS="1", LAPOR_OUTBOX_EXIT_AFTER_PUBLISH="true"
    )
    before = await received(http, s)
    email = f"saksi.{uuid.uuid4().hex[:6]}@warga.example"
    resp = await http.post(
        f"{s.url('intake')}/api/v1/complaints",
        json=unique_body(reporter={"name": "Eko", "email": email}),
    )
    assert resp.status_code == 202
    tid = resp.json()["tracking_id"]

    async def died() -> bool:
        return running_stack.pm.pid("intake") is None

    await eventually(died, timeout=30)  # it published, then exited before deleting
    restart_intake(running_stack, s)  # ... so it publishes the same events again
    await assert_exactly_once(http, s, tid, email, before)
    copies = [
        r
        for r in await read_all(s.kafka_bootstrap, topics.CASES)
        if r.key == tid.encode() and b'"complaint.submitted"' in r.value
    ]
    assert len(copies) == 2  # the duplicate is really on the topic ...
    assert len({json.loads(r.value)["id"] for r in copies}) == 1  # ... with the same event id


async def test_identity_is_on_no_topic_but_contacts_and_in_no_log(
    http: httpx.AsyncClient, e2e_settings: StackSettings
) -> None:
    s = e2e_settings
    mark = uuid.uuid4().hex[:8]
    digits = f"{int(mark, 16) % 10**8:08d}"
    name, email, phone = f"Nama{mark}", f"surel{mark}@warga.example", f"+62813{digits}"
    phone_digits = phone.lstrip("+")
    named = await http.post(
        f"{s.url('intake')}/api/v1/complaints",
        json={**unique_body(), "reporter": {"name": name, "email": email, "phone": phone}},
    )
    anonymous = await http.post(
        f"{s.url('intake')}/api/v1/complaints",
        json={**unique_body(), "anonymous": True, "reporter": {"name": name, "email": email}},
    )
    external = {
        **unique_body(),
        "channel": "lapor-aa-banjarmasin",
        "external_id": f"P-{mark}",
        "reporter": {"name": name, "email": email, "phone": phone},
    }
    raw = json.dumps(external).encode()
    await publish(
        s.kafka_bootstrap,
        topics.INTAKE,
        raw,
        key=b"lapor-aa-banjarmasin",
        headers=signed("lapor-aa-banjarmasin", raw),
    )
    ids = [named.json()["tracking_id"], anonymous.json()["tracking_id"]]
    for tid in ids:
        await routed_view(http, s, tid)
        await mails_for(http, s, tid, 3)
    await asyncio.sleep(2)

    secrets = [name.encode(), email.encode(), phone_digits.encode()]
    for topic in topics.ALL:
        if topic in (topics.CONTACTS, topics.INTAKE):  # notify's private topic; the input
            continue
        for record in await read_all(s.kafka_bootstrap, topic):
            blob = record.value + b"".join(v for _, v in record.headers)
            assert not any(x in blob for x in secrets), (topic, record.value[:200])
    contacts = b"".join(r.value for r in await read_all(s.kafka_bootstrap, topics.CONTACTS))
    assert email.encode() in contacts
    for log in (s.var_dir / "log").glob("*.log"):
        text = log.read_bytes()
        assert not any(x in text for x in secrets), log.name
    agency_mails = (
        await http.get(
            f"http://127.0.0.1:{s.mail_http_port}/messages", params={"tracking_id": ids[1]}
        )
    ).json()
    for mail in agency_mails:
        if mail["to"] == [email]:
            continue
        body = (await http.get(f"http://127.0.0.1:{s.mail_http_port}/messages/{mail['id']}")).text
        assert name not in body
        assert "Anonim" in body
