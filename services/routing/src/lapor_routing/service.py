"""Routing's service layer: cases through their lifecycle, from events, people and the clock."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from functools import cache
from typing import Any, Protocol

from lapor_kit.auth import Principal
from lapor_kit.idempotency import first_unseen, optimistically
from lapor_kit.kafka import is_infrastructure
from lapor_schemas import (
    Actor,
    CaseEvent,
    CaseSupported,
    ComplaintSubmitted,
    ReporterAccepted,
    ReporterDisputed,
    ReporterMessaged,
    ReporterRated,
    ReporterReplied,
)
from lapor_schemas.calendar import Calendar
from lapor_schemas.reference import categories, regions

from .domain.access import can_act, can_assign, can_read
from .domain.directory import (
    Directory,
    DirectoryFile,
    DirectoryProblem,
    DirectoryRevision,
    directory_from,
    directory_problems,
)
from .domain.inbox import InboxFilter
from .domain.lifecycle import Effects, IllegalTransitionError, Lifecycle
from .ports import ConflictError, InboxPage

log = logging.getLogger("lapor.routing")
REPORTER_EVENTS = (
    CaseSupported,
    ReporterReplied,
    ReporterMessaged,
    ReporterAccepted,
    ReporterDisputed,
    ReporterRated,
)


class NotVisibleError(LookupError):
    """Unknown case, or one the user may not see (the same answer: no leak)."""


class ForbiddenError(PermissionError):
    pass


class InvalidDirectoryError(ValueError):
    """A directory that would leave cases unroutable; every problem is named."""

    def __init__(self, problems: Sequence[DirectoryProblem]) -> None:
        super().__init__("; ".join(p.message_en for p in problems))
        self.problems = list(problems)


class CaseStore(Protocol):
    async def unseen(self, event_ids: Sequence[str]) -> set[str]: ...
    async def get(self, tracking_id: str) -> dict[str, Any] | None: ...
    async def existing(self, tracking_ids: Sequence[str]) -> set[str]: ...
    async def find_inbox(self, f: InboxFilter, limit: int, skip: int) -> InboxPage: ...
    async def add_note(self, tracking_id: str, note: dict[str, Any]) -> None: ...
    async def set_assignee(self, tracking_id: str, assignee: dict[str, Any] | None) -> None: ...
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
    async def save_directory(self, f: DirectoryFile, by: str, note: str | None = None) -> int: ...
    async def directory_versions_of(self, tenant: str) -> list[DirectoryRevision]: ...
    async def directory_version(self, tenant: str, revision: int) -> DirectoryFile | None: ...
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
        parked: Refused | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.refused = refused
        self.parked = parked
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
        """Apply a batch of case-log events once each, in order. Most of the log is
        routing's own events (verified, dispatched ...), which it does not act on: a batch of
        only those costs no store round trip."""
        relevant = [e for e in events if isinstance(e, (ComplaintSubmitted, *REPORTER_EVENTS))]
        if not relevant:
            return 0
        await self.refresh_directory()
        return await optimistically(lambda assume_new: self._handle(relevant, assume_new))

    async def _handle(self, events: Sequence[CaseEvent], assume_new: bool) -> int:
        """``assume_new``: no event seen and no case opened before (nothing is read first;
        a write that meets a stored key aborts, and the batch is handled again, carefully)."""
        ids = [e.id for e in events]
        fresh = set(ids) if assume_new else await self.store.unseen(ids)
        done = 0
        skipped: list[str] = []
        todo = first_unseen(events, fresh)
        opening = [e.subject for e in todo if isinstance(e, ComplaintSubmitted)]
        existing = set() if assume_new else await self.store.existing(opening)
        opened: list[tuple[dict[str, Any], Effects]] = []
        for event in todo:
            if isinstance(event, ComplaintSubmitted):
                if event.subject in existing:
                    skipped.append(event.id)
                    continue
                existing.add(event.subject)
                case, effects = self.lifecycle.open_case(event, self.clock())
                if effects.sets.get("parked"):
                    log.warning(
                        "case %s parked for manual handling: %s",
                        event.subject,
                        effects.sets["parked"]["reason"],
                    )
                    if self.parked:
                        self.parked.count(event.tenant)
                opened.append((case, effects))
                done += 1
        # New cases of the batch in one transaction (a case's later events come after its
        # opening in the log, so they are applied after it, below). A case's _id is its
        # tracking id: the store's unique key makes opening idempotent, so a submission needs
        # no processed-event record of its own (one write less per report).
        if opened:
            await self.store.open_many(opened, [])
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

    async def add_note(self, who: Principal, tracking_id: str, text: str) -> dict[str, Any]:
        """An internal note on a case: for the staff who may read it, never published (no
        event: the reporter, the public and notices never see it)."""
        case = await self.visible_case(who, tracking_id)
        note = {
            "at": self.clock(),
            "by": who.subject,
            "name": who.name or who.subject,
            "role": who.role,
            "text": text,
        }
        await self.store.add_note(case["_id"], note)
        return await self.visible_case(who, tracking_id)

    async def assign(
        self, who: Principal, tracking_id: str, username: str | None, name: str | None
    ) -> dict[str, Any]:
        """Hand the case to a named officer of the agency holding it (``None``: nobody).
        The portal checks the officer belongs to that agency; a dispatch clears it."""
        case = await self.visible_case(who, tracking_id)
        if not can_assign(who, case):
            raise ForbiddenError("assign")
        assignee = {"username": username, "name": name or username} if username else None
        await self.store.set_assignee(case["_id"], assignee)
        return await self.visible_case(who, tracking_id)

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
                # only a case of the same province, one this user may see, and not itself:
                # another province's case looks exactly like one that does not exist
                original = await self.store.get(str(args["repeat_of"]))
                if (
                    original is None
                    or original["tenant"] != case["tenant"]
                    or original["_id"] == case["_id"]
                    or not can_read(who, original)
                ):
                    raise NotVisibleError(str(args["repeat_of"]))
                args["original_agency_id"] = original.get("agency_id")
            effects: Effects = decide(case, actor_of(who), self.clock(), **args)
            try:
                await self.store.apply(case, effects)
            except ConflictError:
                continue
            updated = await self.store.get(tracking_id)
            assert updated is not None
            return updated
        raise ConflictError(tracking_id)

    async def inbox(self, f: InboxFilter, *, limit: int = 200, skip: int = 0) -> InboxPage:
        """A page of the cases ``f`` lists and how many it lists in all."""
        if f.overdue is not None and f.now is None:
            f = replace(f, now=self.clock())
        return await self.store.find_inbox(f, limit=limit, skip=skip)

    async def replace_directory(self, f: DirectoryFile, by: str, note: str | None = None) -> int:
        """Validate ``f`` as a whole against the reference regions and catalogue and the
        national directory, then store it as the tenant's next revision. Raises
        :class:`InvalidDirectoryError` naming everything that is missing."""
        files = {d.tenant: d for d in await self.store.directory_files()}
        problems = directory_problems(
            f, regions=regions(), categories=categories(), national=files.get("00")
        )
        if f.tenant == "00":
            # every other tenant's chain and coordinators may lean on the national file
            for other in files.values():
                if other.tenant != "00":
                    problems += [
                        DirectoryProblem(
                            p.field,
                            f"Direktori {other.tenant} akan rusak: {p.message}",
                            f"Tenant {other.tenant} would break: {p.message_en}",
                        )
                        for p in directory_problems(
                            other, regions=regions(), categories=categories(), national=f
                        )
                    ]
        if problems:
            raise InvalidDirectoryError(problems)
        revision = await self.store.save_directory(f, by, note)
        await self.refresh_directory(force=True)
        return revision

    async def directory_history(self, tenant: str) -> list[DirectoryRevision]:
        return await self.store.directory_versions_of(tenant)

    async def roll_back_directory(self, tenant: str, revision: int, by: str) -> int:
        """Make an earlier revision current again (as a new revision, so the history keeps
        what was rolled back); validated like any replacement."""
        old = await self.store.directory_version(tenant, revision)
        if old is None:
            raise LookupError(f"{tenant}:{revision}")
        return await self.replace_directory(old, by, note=f"rollback to revision {revision}")

    # -- the clock -----------------------------------------------------------------------

    async def tick(self, now: datetime | None = None) -> int:
        """Fire every due timer once; returns how many fired."""
        await self.refresh_directory()
        now = now or self.clock()
        fired = 0
        for timer in await self.store.due_timers(now):
            case = await self.store.get(timer["tracking_id"])
            try:
                effects = self.lifecycle.fire(case, timer, now) if case else Effects()
            except Exception as exc:
                # A timer the rules cannot decide must not stop every timer behind it.
                if is_infrastructure(exc) or case is None:
                    raise
                log.error("timer %s parked its case: %r", timer["_id"], exc)
                reason = f"timer {timer['kind']}/{timer['stage']} failed: {exc}"
                effects = Effects(sets={"parked": {"reason": reason[:500], "at": now}})
                if self.parked:
                    self.parked.count(case["tenant"])
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
