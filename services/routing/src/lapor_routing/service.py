"""Routing's service layer."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol

from lapor_kit.outbox import OutMessage
from lapor_schemas import CaseEvent, ComplaintSubmitted, topics

from .domain.cases import Routed, route_new_case
from .domain.directory import Directory


class CaseStore(Protocol):
    async def record(
        self, event_ids: Sequence[str], routed: Sequence[Routed], messages: Sequence[OutMessage]
    ) -> None:
        """Atomically: remember the events as processed, store the cases, queue the events."""
        ...

    async def unseen(self, event_ids: Sequence[str]) -> set[str]: ...

    async def existing_cases(self, tracking_ids: Sequence[str]) -> set[str]: ...

    async def get(self, tracking_id: str) -> dict[str, Any] | None: ...


class RoutingService:
    def __init__(
        self, store: CaseStore, directory: Directory, clock: Callable[[], datetime]
    ) -> None:
        self.store = store
        self.directory = directory
        self.clock = clock

    async def handle(self, events: Sequence[CaseEvent]) -> list[Routed]:
        """Process a batch of case-log events once each."""
        fresh = await self.store.unseen([e.id for e in events])
        todo = [e for e in events if e.id in fresh]
        submitted = [e for e in todo if isinstance(e, ComplaintSubmitted)]
        already = await self.store.existing_cases([e.subject for e in submitted])
        now = self.clock()
        routed: list[Routed] = []
        for event in submitted:
            if event.subject in already:
                continue
            already.add(event.subject)
            routed.append(route_new_case(event, self.directory, now))
        if todo:
            messages = [OutMessage.of(topics.CASES, r.event.subject, r.event) for r in routed]
            await self.store.record([e.id for e in todo], routed, messages)
        return routed

    async def case(self, tracking_id: str) -> dict[str, Any] | None:
        return await self.store.get(tracking_id)
