"""Routing's service layer: cases through their lifecycle, from events, people and the clock."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import cache
from typing import Any, Protocol

from lapor_kit.auth import Principal
from lapor_kit.idempotency import first_unseen
from lapor_schemas import (
    Actor,
    CaseEvent,
    ComplaintSubmitted,
    ReporterDisputed,
    ReporterRated,
    ReporterReplied,
)
from lapor_schemas.calendar import Calendar

from .domain.access import can_act, can_read
from .domain.directory import Directory, DirectoryFile, directory_from
from .domain.lifecycle import Effects, IllegalTransitionError, Lifecycle
from .ports import ConflictError

log = logging.getLogger("lapor.routing")
REPORTER_EVENTS = (ReporterReplied, ReporterDisputed, ReporterRated)


class NotVisibleError(LookupError):
    """Unknown case, or one the user may not see (the same answer: no leak)."""


class ForbiddenError(PermissionError):
    pass


class CaseStore(Protocol):
    async def unseen(self, event_ids: Sequence[str]) -> set[str]: ...
    async def get(self, tracking_id: str) -> dict[str, Any] | None: ...
    async def existing(self, tracking_ids: Sequence[str]) -> set[str]: ...
    async def find(self, query: dict[str, Any], limit: int = 200) -> list[dict[str, Any]]: ...
    async def apply(
        self,
        case: dict[str, Any],
        effects: Effects,
        *,
        new: bool = False,
        processed: Sequence[str] = (),
        timer_id: str | None = None,
    ) -> bool: ...
    async def open_many(
        self, opened: Sequence[tuple[dict[str, Any], Effects]], processed: Sequence[str]
    ) -> None: ...
    async def mark_processed(self, event_ids: Sequence[str]) -> None: ...
    async def due_timers(self, now: datetime, limit: int = 200) -> list[dict[str, Any]]: ...
    async def directory_files(self) -> list[DirectoryFile]: ...
    async def save_directory(self, f: DirectoryFile, by: str) -> None: ...
    async def directory_stamp(self) -> float: ...


class Refused(Protocol):
    def count(self, action: str) -> None: ...


def actor_of(who: Principal) -> Actor:
    return Actor(kind="staff", id=who.subject, role=who.role, agency_id=who.agency_id)


class RoutingService:
    def __init__(
        self,
        store: CaseStore,
        directory: Directory,
        clock: Callable[[], datetime],
        refused: Refused | None = None,
        directory_ttl: float = 2.0,
    ) -> None:
        self.store = store
        self.clock = clock
        self.refused = refused
        self._set_directory(directory)
        self._stamp = 0.0
        self._checked = 0.0
        self._ttl = directory_ttl

    def _set_directory(self, directory: Directory) -> None:
        self.directory = directory

        @cache
        def calendar(tenant: str) -> Calendar:
            policy = directory.policy(tenant)
            return Calendar.for_tenant(policy.timezone, policy.local_holidays)

        self.lifecycle = Lifecycle(directory, calendar)

    async def refresh_directory(self, force: bool = False) -> None:
        """Pick up directory changes made through the API (by any process)."""
        if not force and time.monotonic() - self._checked < self._ttl:
            return
        self._checked = time.monotonic()
        stamp = await self.store.directory_stamp()
        if force or stamp != self._stamp:
            files = await self.store.directory_files()
            if files:
                self._set_directory(directory_from(files))
            self._stamp = stamp

    # -- events --------------------------------------------------------------------------

    async def handle(self, events: Sequence[CaseEvent]) -> int:
        """Apply a batch of case-log events once each, in order."""
        await self.refresh_directory()
        fresh = await self.store.unseen([e.id for e in events])
        done = 0
        skipped: list[str] = []
        todo = first_unseen(events, fresh)
        existing = await self.store.existing(
            [e.subject for e in todo if isinstance(e, ComplaintSubmitted)]
        )
        opened: list[tuple[dict[str, Any], Effects]] = []
        opened_ids: list[str] = []
        for event in todo:
            if isinstance(event, ComplaintSubmitted):
                if event.subject in existing:
                    skipped.append(event.id)
                    continue
                existing.add(event.subject)
                opened.append(self.lifecycle.open_case(event, self.clock()))
                opened_ids.append(event.id)
                done += 1
        # New cases of the batch in one transaction (a case's later events come after its
        # opening in the log, so they are applied after it, below).
        if opened:
            await self.store.open_many(opened, opened_ids)
        for event in todo:
            if isinstance(event, ComplaintSubmitted):
                continue
            if isinstance(event, REPORTER_EVENTS):
                if await self._reporter(event):
                    done += 1
                else:
                    skipped.append(event.id)
        await self.store.mark_processed(skipped)
        return done

    async def _reporter(self, event: CaseEvent, attempts: int = 3) -> bool:
        for _ in range(attempts):
            case = await self.store.get(event.subject)
            if case is None:
                return False
            try:
                effects = self.lifecycle.reporter_event(case, event, self.clock())
            except IllegalTransitionError as exc:
                log.info("reporter event refused for %s: %s", event.subject, exc.message_en)
                if self.refused:
                    self.refused.count(exc.action)
                return False
            try:
                await self.store.apply(case, effects, processed=[event.id])
                return True
            except ConflictError:
                continue
        raise ConflictError(event.subject)

    # -- people --------------------------------------------------------------------------

    async def visible_case(self, who: Principal, tracking_id: str) -> dict[str, Any]:
        case = await self.store.get(tracking_id)
        if case is None or not can_read(who, case):
            raise NotVisibleError(tracking_id)
        return case

    async def act(
        self, who: Principal, tracking_id: str, action: str, **args: Any
    ) -> dict[str, Any]:
        """Run one admin/agency action; returns the updated case."""
        await self.refresh_directory()
        for _ in range(3):
            case = await self.visible_case(who, tracking_id)
            if not can_act(who, case, action):
                raise ForbiddenError(action)
            decide = getattr(self.lifecycle, action)
            if action == "mark_repeat":
                # the repeat counts against the agency handling the original
                original = await self.store.get(str(args["repeat_of"]))
                args["original_agency_id"] = (original or {}).get("agency_id")
            effects: Effects = decide(case, actor_of(who), self.clock(), **args)
            try:
                await self.store.apply(case, effects)
            except ConflictError:
                continue
            updated = await self.store.get(tracking_id)
            assert updated is not None
            return updated
        raise ConflictError(tracking_id)

    async def inbox(
        self,
        query: dict[str, Any],
        *,
        status: str | None = None,
        overdue: bool | None = None,
        agency_id: str | None = None,
        category: str | None = None,
        limit: int = 200,
    ) -> list[dict[str, Any]]:
        q = dict(query)
        if status:
            q["status"] = {"$in": status.split(",")}
        if agency_id:
            q["agency_id"] = agency_id
        if category:
            q["category"] = category
        if overdue is not None:
            now = self.clock()
            late = [{"due_at": {"$lt": now}}, {"overdue_since": {"$ne": None}}]
            if overdue:
                q["$and"] = [*q.get("$and", []), {"$or": late}]
            else:
                q["$nor"] = late
        return await self.store.find(q, limit=limit)

    async def replace_directory(self, f: DirectoryFile, by: str) -> None:
        await self.store.save_directory(f, by)
        await self.refresh_directory(force=True)

    # -- the clock -----------------------------------------------------------------------

    async def tick(self, now: datetime | None = None) -> int:
        """Fire every due timer once; returns how many fired."""
        await self.refresh_directory()
        now = now or self.clock()
        fired = 0
        for timer in await self.store.due_timers(now):
            case = await self.store.get(timer["tracking_id"])
            effects = self.lifecycle.fire(case, timer, now) if case else Effects()
            try:
                if await self.store.apply(
                    case or {"_id": timer["tracking_id"]}, effects, timer_id=timer["_id"]
                ):
                    fired += 1
            except ConflictError:
                continue  # the case moved on meanwhile; the timer is looked at again
        return fired

    async def run_scheduler(self, interval: float = 5.0) -> None:
        while True:
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.error("scheduler tick failed: %r", exc)
            await asyncio.sleep(interval)
