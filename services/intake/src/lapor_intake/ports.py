"""What the service layer needs from the outside world (adapters implement these)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, Protocol

from lapor_kit.outbox import OutMessage

from .domain.model import Accepted
from .domain.repeats import Indexed


class DuplicateExternalIdError(Exception):
    """Another writer stored the same (channel, external_id) first; retry the batch."""


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

    async def identity(self, tracking_id: str) -> dict[str, Any] | None: ...

    async def add_reply(
        self, tracking_id: str, entry: dict[str, Any], message: OutMessage
    ) -> None: ...

    async def public_list(
        self, query: dict[str, Any], *, limit: int, skip: int = 0
    ) -> list[dict[str, Any]]: ...

    async def apply_views(
        self, updates: Sequence[tuple[dict[str, Any], dict[str, Any]]]
    ) -> None: ...

    async def applied_events(self, tracking_ids: Sequence[str]) -> dict[str, set[str]]:
        """The event ids already in each view's history."""
        ...
