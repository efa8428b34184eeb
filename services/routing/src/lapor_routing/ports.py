"""What routing's service layer needs from its store, and the errors it shares with it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class ConflictError(Exception):
    """The case changed since it was read; the caller reads it again and retries."""


@dataclass(frozen=True, slots=True)
class InboxPage:
    """A page of an inbox and how many cases the filter lists in all."""

    cases: list[dict[str, Any]]
    total: int
