"""The repeat index with two intake processes on the real broker and store: each learns the
other's reports and the cases that finish from the case log, and a restarted process starts
from the store."""

from __future__ import annotations

import uuid
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from lapor_devstack.settings import StackSettings
from lapor_intake.main import build
from lapor_intake.service import IntakeService
from lapor_intake.settings import IntakeSettings
from lapor_schemas import CaseClosed, topics
from lapor_schemas.events import Actor, TransitionData
from tests.support import eventually, fast_settings, publish

pytestmark = [pytest.mark.integration]


def report(place: str, variant: int) -> dict[str, Any]:
    titles = [f"Jembatan {place} retak parah", f"Jembatan gantung {place} miring"]
    texts = [
        f"Jembatan gantung {place} di desa kami retak dan miring berbahaya.",
        f"Jembatan {place} retak, miring dan berbahaya bagi warga.",
    ]
    return {
        "type": "pengaduan",
        "title": titles[variant],
        "description": texts[variant],
        "category": "infrastruktur",
        "region_code": "63.09",
        "anonymous": True,
    }


async def test_two_intake_processes_find_each_others_repeats(
    infra: object, stack_settings: StackSettings
) -> None:
    # groups of this test's own: two members that leave mid-rebalance keep a group busy on
    # Tansu for minutes, and the other tests join intake's usual groups
    settings = fast_settings(
        IntakeSettings, stack_settings, kafka_group_suffix=f"-{uuid.uuid4().hex[:6]}"
    )
    place = uuid.uuid4().hex[:6]
    async with AsyncExitStack() as stack:
        clients: list[httpx.AsyncClient] = []
        services: list[IntakeService] = []
        for name in ("a", "b"):
            app, _ = build(settings)  # two processes of one service: one database
            await stack.enter_async_context(app.router.lifespan_context(app))
            transport = httpx.ASGITransport(app=app)
            clients.append(
                await stack.enter_async_context(
                    httpx.AsyncClient(transport=transport, base_url=f"http://{name}")
                )
            )
            services.append(app.state.service)
        a, b = clients
        answer = await a.post("/api/v1/complaints", json=report(place, 0))
        assert answer.status_code == 202, answer.text
        first = answer.json()
        tid = first["tracking_id"]

        async def b_knows() -> bool:
            return tid in services[1].repeats

        await eventually(b_knows, timeout=20)
        second = (await b.post("/api/v1/complaints", json=report(place, 1))).json()
        assert second["repeat_of"] == tid

        # the case finishes: both indexes forget it when the log says so
        closed = CaseClosed(
            source="lapor-routing",
            tenant="63",
            subject=tid,
            correlation_id=tid,
            data=TransitionData(
                tracking_id=tid, status="closed", at=datetime.now(UTC), actor=Actor(kind="system")
            ),
        )
        await publish(
            stack_settings.kafka_bootstrap,
            topics.CASES,
            closed.model_dump_json().encode(),
            key=tid.encode(),
        )

        async def both_forgot() -> bool:
            return all(tid not in s.repeats for s in services)

        await eventually(both_forgot, timeout=20)

    # a process started now loads the open reports from the store (consumer groups of its
    # own: joining the two that just left waits out their rebalance on Tansu)
    app, _ = build(settings.model_copy(update={"kafka_group_suffix": f"-{place}"}))
    async with app.router.lifespan_context(app):
        restarted: IntakeService = app.state.service
        assert second["tracking_id"] in restarted.repeats
