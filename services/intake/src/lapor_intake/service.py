"""Intake's service layer: one code path for every channel."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lapor_kit.outbox import OutMessage
from lapor_schemas import (
    CaseEvent,
    Channel,
    ComplaintSubmission,
    ExternalSubmission,
    FieldError,
    IntakeReceipt,
    topics,
)

from .domain.model import Accepted, Catalogue, accept, new_tracking_id
from .domain.views import view_update
from .ports import ComplaintStore, DuplicateExternalIdError


class SubmissionRejectedError(Exception):
    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message_en}" for e in errors))
        self.errors = errors


@dataclass(frozen=True, slots=True)
class ExternalItem:
    """One record from ``lapor.intake.v1``: either a parsed submission or its errors."""

    submission: ExternalSubmission | None
    errors: list[FieldError]
    channel: str | None = None
    external_id: str | None = None


@dataclass(frozen=True, slots=True)
class ExternalOutcome:
    receipts: list[IntakeReceipt]
    rejected: list[int]  # indexes of items that were refused (they go to the dead-letter topic)


def events_of(a: Accepted) -> list[OutMessage]:
    messages = [OutMessage.of(topics.CASES, a.tracking_id, a.submitted)]
    if a.contact is not None:
        messages.append(OutMessage.of(topics.CONTACTS, a.tracking_id, a.contact))
    return messages


class IntakeService:
    def __init__(
        self,
        store: ComplaintStore,
        catalogue: Catalogue,
        clock: Callable[[], datetime],
        tracking_ids: Callable[[], str] = new_tracking_id,
    ) -> None:
        self.store = store
        self.catalogue = catalogue
        self.clock = clock
        self.tracking_ids = tracking_ids

    async def submit(
        self, sub: ComplaintSubmission, *, channel: Channel, entered_by: str | None = None
    ) -> str:
        """Validate against the catalogue, store durably (with the outbox), return the id."""
        errors = self.catalogue.check(sub)
        if errors:
            raise SubmissionRejectedError(errors)
        accepted = accept(
            sub,
            channel=channel,
            now=self.clock(),
            tracking_id=self.tracking_ids(),
            entered_by=entered_by,
        )
        await self.store.add([accepted], [])
        return accepted.tracking_id

    async def submit_external(
        self, items: Sequence[ExternalItem], attempts: int = 3
    ) -> ExternalOutcome:
        """Store a batch from ``lapor.intake.v1``; every item gets a receipt (in the outbox,
        in the same transaction). The same (channel, external_id) always yields the same
        tracking id: known keys are answered from the store, and a concurrent writer's win
        makes the whole batch retry."""
        for attempt in range(attempts):
            try:
                return await self._submit_external_once(items)
            except DuplicateExternalIdError:
                if attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")

    async def _submit_external_once(self, items: Sequence[ExternalItem]) -> ExternalOutcome:
        now = self.clock()
        keys = [
            (i.submission.channel, i.submission.external_id)
            for i in items
            if i.submission is not None
        ]
        known = await self.store.external_ids(keys)
        accepted: list[Accepted] = []
        receipts: list[IntakeReceipt] = []
        rejected: list[int] = []
        fresh: dict[tuple[str, str], str] = {}
        for index, item in enumerate(items):
            sub = item.submission
            errors = item.errors if sub is None else self.catalogue.check(sub)
            if sub is None or errors:
                rejected.append(index)
                receipts.append(
                    IntakeReceipt(
                        channel=sub.channel if sub else item.channel,
                        external_id=sub.external_id if sub else item.external_id,
                        status="rejected",
                        errors=errors,
                        received_at=now,
                    )
                )
                continue
            key = (sub.channel, sub.external_id)
            existing = known.get(key) or fresh.get(key)
            if existing is not None:
                receipts.append(
                    IntakeReceipt(
                        channel=sub.channel,
                        external_id=sub.external_id,
                        status="accepted",
                        tracking_id=existing,
                        duplicate=True,
                        received_at=now,
                    )
                )
                continue
            core = ComplaintSubmission.model_validate(
                sub.model_dump(exclude={"channel", "external_id"})
            )
            a = accept(
                core,
                channel=Channel.EXTERNAL,
                now=now,
                tracking_id=self.tracking_ids(),
                channel_id=sub.channel,
                external_id=sub.external_id,
            )
            fresh[key] = a.tracking_id
            accepted.append(a)
            receipts.append(
                IntakeReceipt(
                    channel=sub.channel,
                    external_id=sub.external_id,
                    status="accepted",
                    tracking_id=a.tracking_id,
                    received_at=now,
                )
            )
        extra = [OutMessage.of(topics.INTAKE_RECEIPTS, r.channel or "", r) for r in receipts]
        await self.store.add(accepted, extra)
        return ExternalOutcome(receipts, rejected)

    async def status(self, tracking_id: str) -> dict[str, Any] | None:
        return await self.store.get(tracking_id)

    async def project(self, events: Sequence[CaseEvent]) -> int:
        """Apply case-log events to the reporter-facing views (idempotent)."""
        updates = [u for u in (view_update(e) for e in events) if u is not None]
        if updates:
            await self.store.apply_views(updates)
        return len(updates)
