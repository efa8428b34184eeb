"""What notify's service layer needs from the outside world."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from lapor_kit.outbox import OutMessage

from .domain.planning import Delivery


@dataclass(frozen=True, slots=True)
class Email:
    to: str
    subject: str
    body: str
    message_id: str
    headers: dict[str, str]


class EmailSender(Protocol):
    async def send(self, email: Email) -> None: ...


class TextSender(Protocol):
    """SMS or WhatsApp through a provider; ``reference`` is the delivery id (idempotency)."""

    async def send(self, *, to: str, text: str, reference: str) -> str: ...


class NotifyStore(Protocol):
    async def unseen(self, event_ids: Sequence[str]) -> set[str]: ...

    async def record(
        self,
        event_ids: Sequence[str],
        facts: Sequence[dict[str, Any]],
        deliveries: Sequence[Delivery],
        changes: Sequence[tuple[str, dict[str, Any]]] = (),
    ) -> None: ...

    async def save_contacts(self, contacts: Sequence[dict[str, Any]]) -> None: ...

    async def claim(self, limit: int) -> list[dict[str, Any]]: ...

    async def contact(self, tracking_id: str) -> dict[str, Any] | None: ...

    async def facts(self, tracking_id: str) -> dict[str, Any] | None: ...

    async def set_awaiting_contact(self, delivery_id: str) -> None: ...

    async def finish(
        self,
        delivery_id: str,
        status: str,
        attempts: int,
        error: str | None,
        retry_in: float | None,
        outcome: OutMessage | None,
    ) -> None: ...

    async def list_for_case(self, tracking_id: str) -> list[dict[str, Any]]: ...
