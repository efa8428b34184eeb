"""What happens after a send attempt, and how fast each provider may be called. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Outcome = Literal["sent", "retrying", "failed", "dead_lettered"]
TERMINAL = frozenset({"sent", "delivered", "failed", "dead_lettered"})


@dataclass(frozen=True, slots=True)
class Decision:
    status: Outcome
    tier: int | None = None  # the retry tier (topic) to wait in
    delay: float | None = None  # seconds before the next attempt


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """``max_attempts`` tries in all; after failed attempt *k* the delivery waits in tier
    ``min(k - 1, tiers - 1)`` for ``delays[tier]`` seconds (growing exponentially)."""

    max_attempts: int = 6
    delays: tuple[float, ...] = (5.0, 30.0, 180.0)

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or not self.delays:
            raise ValueError("need at least one attempt and one retry delay")

    def after(self, attempt: int, error: Exception | None, *, retryable: bool = True) -> Decision:
        if error is None:
            return Decision("sent")
        if not retryable:
            return Decision("failed")
        if attempt >= self.max_attempts:
            return Decision("dead_lettered")
        tier = min(attempt - 1, len(self.delays) - 1)
        return Decision("retrying", tier, self.delays[tier])


@dataclass(slots=True)
class TokenBucket:
    """``rate`` calls per second on average, bursts of up to ``burst``. :meth:`reserve`
    takes a token and says how long to wait before using it (0 when one is free now)."""

    rate: float
    burst: float
    tokens: float = field(init=False)
    updated: float | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.tokens = self.burst

    def reserve(self, now: float) -> float:
        if self.updated is not None:
            self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        self.tokens -= 1.0
        return 0.0 if self.tokens >= 0 else -self.tokens / self.rate


def parse_rates(spec: str) -> dict[str, float]:
    """``"email=50,sms=10"`` -> ``{"email": 50.0, "sms": 10.0}`` (calls per second)."""
    out: dict[str, float] = {}
    for part in spec.split(","):
        if not part.strip():
            continue
        name, _, value = part.partition("=")
        out[name.strip()] = float(value)
    return out


def due_attempt(doc: Mapping[str, Any], attempt: int) -> bool:
    """A job for ``attempt`` acts on its delivery only if the delivery is not finished and
    that attempt is the next one (a redelivered or duplicated job sends nothing twice)."""
    return doc.get("status") not in TERMINAL and attempt == int(doc.get("attempts") or 0) + 1
