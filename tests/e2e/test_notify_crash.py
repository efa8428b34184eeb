"""Notify is killed (-9) while SMS are in flight; after the restart every message reaches the
provider exactly once: jobs already finished are skipped, and the attempt that was in flight
is repeated with the same delivery id, which the provider takes as its idempotency key."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from typing import Any

import httpx
import pytest

from lapor_devstack.settings import StackSettings
from lapor_devstack.stack import Stack, services
from lapor_kit.auth import DEV_SIGNING_KEY, issue
from tests.support import eventually, unique_text

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

BODY: dict[str, Any] = {
    "title": "Lampu jalan padam di Jalan Veteran",
    "description": "Lampu penerangan jalan padam sepanjang Jalan Veteran sejak minggu lalu.",
    "category": "infrastruktur",
    "region_code": "63.71",
}
REPORTS = 10
ADMIN = {
    "Authorization": "Bearer "
    + issue(DEV_SIGNING_KEY, subject="e2e", role="national_admin", tenant="*")
}


async def sms_for(http: httpx.AsyncClient, s: StackSettings, path: str, tids: set[str]) -> Any:
    items = (
        await http.get(f"http://127.0.0.1:{s.provider_port}/{path}", params={"name": "sms"})
    ).json()
    return [i for i in items if tracking_id(i) in tids]


def tracking_id(request: dict[str, Any]) -> str:
    found = re.search(r"LPR-[0-9A-Z]{10}", json.loads(request["body"])["text"])
    return found.group(0) if found else ""


async def test_kill_9_mid_send_and_restart_sends_nothing_twice(
    http: httpx.AsyncClient, running_stack: Stack, e2e_settings: StackSettings
) -> None:
    s = e2e_settings
    provider = f"http://127.0.0.1:{s.provider_port}"
    await http.post(f"{provider}/control/delay", params={"seconds": 0.5, "name": "sms"})
    tids: set[str] = set()
    try:
        for _ in range(REPORTS):
            phone = f"+62812{uuid.uuid4().int % 10**7:07d}"
            resp = await http.post(
                f"{s.url('intake')}/api/v1/complaints",
                json=unique_text(BODY, anonymous=True, reporter={"phone": phone}),
            )
            assert resp.status_code == 202, resp.text
            tids.add(resp.json()["tracking_id"])

        async def some_in_flight() -> int | None:
            n = len(await sms_for(http, s, "requests", tids))
            return n if n >= 3 else None

        await eventually(some_in_flight, timeout=60, interval=0.05)
        assert running_stack.pm.kill("notify")
        killed_with = len(await sms_for(http, s, "requests", tids))
        await asyncio.sleep(1.0)  # the provider finishes what it was given
        comp = services(s, ("notify",))[0]
        running_stack.pm.start(comp)
        running_stack.pm.wait_ready(comp, 60)

        expected = 2 * REPORTS  # "received" and "forwarded", for each report

        async def all_delivered() -> list[dict[str, Any]] | None:
            got: list[dict[str, Any]] = await sms_for(http, s, "delivered", tids)
            return got if len(got) >= expected else None

        delivered = await eventually(all_delivered, timeout=120)
        await asyncio.sleep(3)  # room for a duplicate to show up, if there were one
    finally:
        await http.post(f"{provider}/control/reset")
    delivered = await sms_for(http, s, "delivered", tids)
    requests = await sms_for(http, s, "requests", tids)
    keys = [d["headers"]["idempotency-key"] for d in delivered]
    assert len(keys) == len(set(keys)) == expected
    per_report: dict[str, int] = {}
    for d in delivered:
        tid = tracking_id(d)
        per_report[tid] = per_report.get(tid, 0) + 1
    assert per_report == dict.fromkeys(tids, 2)
    # the kill interrupted sends: those were repeated under the same key and dropped by it
    # (every send still unanswered at the kill is repeated: the provider answers in 0.5 s)
    repeated = len(requests) - len(delivered)
    assert 1 <= repeated <= killed_with, "no send was in flight at the kill"
    # notify's own record: every SMS sent, none attempted more than its interrupted attempt
    for tid in tids:
        notes = (
            await http.get(
                f"{s.url('notify')}/api/v1/notifications",
                params={"tracking_id": tid},
                headers=ADMIN,
            )
        ).json()
        sms = [n for n in notes if n["channel"] == "sms"]
        assert [n["status"] for n in sms] == ["sent", "sent"]
        assert all(n["attempts"] == 1 for n in sms)
