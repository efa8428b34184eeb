"""What notify's service layer needs from the outside world."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from lapor_kit.outbox import OutMessage


class SendError(Exception):
    """A provider refused or failed; ``retryable`` tells whether trying again may help."""

    def __init__(self, reason: str, *, retryable: bool) -> None:
        super().__init__(reason)
        self.retryable = retryable


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One delivery attempt as a channel adapter sees it."""

    id: str  # the delivery id: providers get it as their idempotency key
    tracking_id: str
    address: str
    subject: str
    body: str
    payload: Mapping[str, Any] | None = None  # webhooks: the JSON body
    secret: str | None = None  # webhooks: the agency's signing secret


FACTS_VERSION = "_version"  # in a case's facts: how many events changed them (0: none yet)


@dataclass(frozen=True, slots=True)
class PlannedEvent:
    """An event a plan handles: the case facts it sets (a submission's facts, a dispatch's
    agency; often none) and its id, kept with the case's facts as handled. That record is
    the consumer's idempotency guard: recording the same event twice is refused, like a
    processed-id record would be, without a document of its own. ``version`` is the version
    of the facts the plan was based on: a plan whose facts changed meanwhile is refused too."""

    tracking_id: str
    event_id: str
    facts: Mapping[str, Any]
    version: int = 0


class Channel(Protocol):
    """Sends one message; raises :class:`SendError` (anything else counts as retryable)."""

    async def send(self, message: Outgoing) -> None: ...


class NotifyStore(Protocol):
    async def unseen(self, events: Mapping[str, str]) -> set[str]:
        """Of ``events`` (event id -> tracking id), the ids not handled before."""
        ...

    async def facts_and_contacts(
        self, tracking_ids: Sequence[str], contact_ids: Sequence[str] | None = None
    ) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
        """The case facts of ``tracking_ids`` (with their ``FACTS_VERSION``) and the reporter
        contacts of ``contact_ids`` (default: the same ids); an empty list is not asked for."""
        ...

    async def agency_entries(self, agency_ids: Sequence[str]) -> dict[str, dict[str, Any]]: ...

    async def agency_entries_since(
        self, version: int | None
    ) -> tuple[int, dict[str, dict[str, Any]] | None]:
        """The version of the agencies' entries (it grows with each change) and, unless it
        is still ``version``, every entry."""
        ...

    async def record_plan(
        self,
        *,
        events: Sequence[PlannedEvent],
        deliveries: Sequence[dict[str, Any]],
        waiting: Sequence[dict[str, Any]],
        messages: Sequence[OutMessage],
    ) -> None:
        """In one transaction: each event's facts, in order, with the event marked handled
        and the facts' version raised by one (raises a duplicate-key error, whole, if one
        was handled already or its facts are no longer at its ``version``), the
        deliveries, the parked notices and the send jobs."""
        ...

    async def save_contacts(self, contacts: Sequence[dict[str, Any]]) -> None: ...

    async def save_supporters(self, supporters: Sequence[dict[str, Any]]) -> None:
        """Keep the contacts of people who joined a report (``_id``: report and person)."""
        ...

    async def supporters_of(self, tracking_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        """The supporters of each report that has any (none asked: no read), but those who
        stopped hearing of it."""
        ...

    async def stop_supporter(self, supporter_id: str) -> str | None:
        """Marks a supporter as no longer told of the report (for good: a redelivered
        contact event does not undo it); the report's tracking id, ``None`` when unknown."""
        ...

    async def waiting_for(self, tracking_ids: Sequence[str]) -> list[dict[str, Any]]: ...

    async def expand_waiting(
        self, expansions: Mapping[str, tuple[Sequence[dict[str, Any]], Sequence[OutMessage]]]
    ) -> int:
        """Replace parked notices (by id) with their deliveries and send jobs, once."""
        ...

    async def deliveries(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]: ...

    async def due_deliveries(self, wanted: Mapping[str, int]) -> dict[str, dict[str, Any]]:
        """The deliveries of ``wanted`` (delivery id -> the attempt a job is for) that are
        due that attempt (:func:`~lapor_notify.domain.sending.due_attempt`)."""
        ...

    async def settle(
        self, updates: Sequence[tuple[str, dict[str, Any]]], messages: Sequence[OutMessage]
    ) -> None: ...

    async def requeue(self, messages: Sequence[OutMessage]) -> None: ...

    async def list_deliveries(
        self, query: Mapping[str, Any], limit: int, *, newest_first: bool = False
    ) -> list[dict[str, Any]]: ...

    async def agency_entry(self, agency_id: str) -> dict[str, Any] | None: ...

    async def claim_address_quotas(self, claims: Sequence[tuple[str, str]], cap: int) -> set[str]:
        """Count each (key, delivery id) against its key (an address and a day); the
        delivery ids that are among their key's first ``cap`` distinct deliveries (a
        repeated attempt counts once)."""
        ...

    async def save_agency_entry(self, agency_id: str, changes: Mapping[str, Any]) -> None:
        """Change an agency's entry and the entries' version, together."""
        ...
