"""What the service layer needs from the outside world (adapters implement these)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from lapor_kit.outbox import OutMessage
from lapor_schemas import status as case_status

from .domain.model import Accepted
from .domain.repeats import Indexed
from .triage import Correction, Retrained


class DuplicateExternalIdError(Exception):
    """Another writer stored the same (channel, external_id) first; retry the batch."""


@dataclass(frozen=True, slots=True)
class Box:
    """Reports whose spot lies in this box (degrees): the first cut of "nearby", refined
    to a distance by the service."""

    south: float
    north: float
    west: float
    east: float

    def holds(self, location: Any) -> bool:
        if not isinstance(location, Mapping):
            return False
        lat, lon = location.get("lat"), location.get("lon")
        if not isinstance(lat, int | float) or not isinstance(lon, int | float):
            return False
        return self.south <= lat <= self.north and self.west <= lon <= self.east


@dataclass(frozen=True, slots=True)
class PublicFilter:
    """Which reports a public list may show. Always: not confidential, verified (a report is
    public only once a person or the rules verified it), not hidden by a coordinator. The
    rest narrows: a province, a regency, categories, statuses, open or finished, a period,
    or some tracking ids (then the other fields are ignored)."""

    tenant: str | None = None
    region_code: str | None = None
    categories: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    open_cases: bool | None = None
    since: datetime | None = None
    until: datetime | None = None
    ids: tuple[str, ...] = ()
    within: Box | None = None

    def admits(self, doc: Mapping[str, Any]) -> bool:
        """The same test in Python (for fakes; the store asks the database)."""
        if doc.get("confidential") or not doc.get("verified") or doc.get("hidden"):
            return False
        if self.ids:
            return doc.get("_id") in self.ids
        status = doc.get("status")
        finished = status in case_status.FINISHED
        submitted = doc.get("submitted_at")
        return (
            (self.tenant is None or doc.get("tenant") == self.tenant)
            and (self.region_code is None or doc.get("region_code") == self.region_code)
            and (not self.categories or doc.get("category") in self.categories)
            and (not self.statuses or status in self.statuses)
            and (self.open_cases is None or finished != self.open_cases)
            and (self.since is None or (submitted is not None and submitted >= self.since))
            and (self.until is None or (submitted is not None and submitted <= self.until))
            and (self.within is None or self.within.holds(doc.get("location")))
        )


class ComplaintStore(Protocol):
    async def external_ids(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], str]: ...

    async def request_digest(self, key: tuple[str, str]) -> str | None:
        """The digest of the request that first used ``key`` (web idempotency keys)."""
        ...

    async def add(self, accepted: Sequence[Accepted], extra: Sequence[OutMessage]) -> None:
        """Atomically store complaints, identities, and every outgoing message (the events of
        ``accepted`` plus ``extra``). Raises :class:`DuplicateExternalIdError` on a race."""
        ...

    async def open_among(self, tracking_ids: Collection[str]) -> set[str]:
        """Those of ``tracking_ids`` that are open and not confidential (repeat targets)."""
        ...

    async def recent_open(self, since: datetime) -> list[Indexed]:
        """Every open, non-confidential report submitted since ``since``, oldest first (the
        repeat index's start)."""
        ...

    async def get(self, tracking_id: str) -> dict[str, Any] | None: ...

    async def save_corrections(self, corrections: Sequence[Correction]) -> None:
        """Store verifiers' corrections of categories (idempotent by event id)."""
        ...

    async def corrections(self) -> dict[str, list[Correction]]: ...

    async def record_retrain(self, decision: Retrained, at: datetime) -> None: ...

    async def suggestion_agreement(self, since: datetime) -> dict[str, tuple[int, int]]: ...

    async def identity(self, tracking_id: str) -> dict[str, Any] | None: ...

    async def add_reply(
        self, tracking_id: str, entry: dict[str, Any], message: OutMessage
    ) -> None: ...

    async def public_list(
        self, which: PublicFilter, *, limit: int, skip: int = 0
    ) -> list[dict[str, Any]]:
        """Reports ``which`` admits, newest first."""
        ...

    async def set_public(self, tracking_id: str, hidden: bool, redactions: Sequence[str]) -> None:
        """A coordinator's choice of what the public sees of a report."""
        ...

    async def add_supporter(
        self,
        tracking_id: str,
        supporter: dict[str, Any],
        messages: Callable[[int], Sequence[OutMessage]],
    ) -> int | None:
        """Atomically keep ``supporter`` (its ``_id`` is unique per report and person), count
        one more on the report and store ``messages(count)`` in the outbox. ``None`` when
        that person had joined already (nothing changes)."""
        ...

    async def apply_views(
        self, updates: Sequence[tuple[dict[str, Any], dict[str, Any]]]
    ) -> None: ...

    async def applied_events(self, tracking_ids: Sequence[str]) -> dict[str, set[str]]:
        """The event ids already in each view's history."""
        ...
