"""Abuse limits at every public door: request bodies by size before they are parsed, and
requests by client with token buckets.

* :class:`BodyLimit` is an ASGI middleware: a declared ``Content-Length`` over the limit is
  answered ``413`` at once; a body without one (chunked) is counted while it streams and cut
  off at the limit. Nothing over the limit is ever handed to a JSON or form parser.
* :func:`client_ip` is the client's address, through trusted proxies only
  (``LAPOR_TRUSTED_PROXIES``): behind an ingress, one client's limits never block everyone.
* :class:`RateLimiter` keeps one token bucket per (door, client) in the process — a report
  form per IP address, SMS per sender number, Open311 per API key, uploads per IP. A refused
  request gets ``429`` with ``Retry-After`` and is counted in
  ``lapor_rate_limited_total{service,door}``. The buckets are per replica (n replicas let n
  times the rate through); a gateway in front of the cluster limits the total.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry, Counter

from .web import error_body, error_response, send_error

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def too_large_body(limit: int) -> dict[str, Any]:
    return error_body(
        "too_large",
        f"Permintaan terlalu besar (maksimal {limit} byte).",
        f"The request is too large (at most {limit} bytes).",
    )


class BodyLimit:
    """Refuse request bodies over ``default`` bytes (``by_prefix``: other limits for paths
    starting with a prefix, the longest match wins) with ``413`` before any parsing."""

    def __init__(
        self, app: ASGIApp, default: int, by_prefix: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.default = default
        self.by_prefix = sorted((by_prefix or {}).items(), key=lambda kv: -len(kv[0]))

    def limit_for(self, path: str) -> int:
        for prefix, limit in self.by_prefix:
            if path.startswith(prefix):
                return limit
        return self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope.get("path", ""))
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await send_error(send, 413, too_large_body(limit))
            return
        seen = 0
        app_started = refused = False

        async def limited_receive() -> Message:
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    # answer now and tell the app the client is gone: it stops reading,
                    # and whatever it tries to send after that is dropped
                    refused = True
                    if not app_started:
                        await send_error(send, 413, too_large_body(limit))
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal app_started
            if refused:
                return
            if message["type"] == "http.response.start":
                app_started = True
            await send(message)

        await self.app(scope, limited_receive, guarded_send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers") or ():
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


@dataclass(frozen=True, slots=True)
class Rate:
    """``count`` requests per ``seconds`` (a bucket of ``count`` tokens refilled evenly)."""

    count: int
    seconds: float

    @classmethod
    def parse(cls, text: str) -> Rate:
        count, _, seconds = text.partition("/")
        return cls(int(count), float(seconds or 60))


def parse_rates(text: str) -> dict[str, Rate]:
    """``"submit=10/60,sms=10/3600"`` -> {door: Rate}."""
    out = {}
    for part in text.split(","):
        if part.strip():
            door, _, rate = part.partition("=")
            out[door.strip()] = Rate.parse(rate.strip())
    return out


class RateLimiter:
    def __init__(
        self,
        rates: Mapping[str, Rate],
        *,
        registry: CollectorRegistry | None = None,
        service: str = "",
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rates = dict(rates)
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: OrderedDict[tuple[str, str], tuple[float, float]] = OrderedDict()
        self._service = service
        self._counter = (
            Counter(
                "lapor_rate_limited_total",
                "Requests refused with 429 by a per-client rate limit, by door.",
                ["service", "door"],
                registry=registry,
            )
            if registry is not None
            else None
        )

    def check(self, door: str, client: str) -> float | None:
        """Take a token for ``client`` at ``door``; ``None`` if allowed, else the seconds
        until the next token."""
        rate = self.rates.get(door)
        if rate is None or rate.count <= 0:
            return None
        now = self.clock()
        key = (door, client)
        tokens, at = self._buckets.pop(key, (float(rate.count), now))
        tokens = min(float(rate.count), tokens + (now - at) * rate.count / rate.seconds)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now)
            allowed = True
        else:
            self._buckets[key] = (tokens, now)
            allowed = False
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        if allowed:
            return None
        if self._counter is not None:
            self._counter.labels(self._service, door).inc()
        return (1.0 - tokens) * rate.seconds / rate.count


def too_many_requests(wait: float) -> JSONResponse:
    seconds = max(1, math.ceil(wait))
    return error_response(
        429,
        "rate_limited",
        f"Terlalu banyak permintaan; coba lagi dalam {seconds} detik.",
        f"Too many requests; try again in {seconds} seconds.",
        headers={"Retry-After": str(seconds)},
    )


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(text: str) -> tuple[Network, ...]:
    """``"10.0.0.0/8, 127.0.0.1"`` -> networks (a bare address is a /32 or /128). Raises
    ``ValueError`` naming the entry that is not an address or a CIDR."""
    out: list[Network] = []
    for part in text.split(","):
        entry = part.strip()
        if not entry:
            continue
        try:
            out.append(ipaddress.ip_network(entry, strict=False))
        except ValueError as exc:
            raise ValueError(f"not an address or CIDR: {entry!r}") from exc
    return tuple(out)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        found = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(found, ipaddress.IPv6Address) and found.ipv4_mapped is not None:
        return found.ipv4_mapped
    return found


def _trusted(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, nets: Sequence[Network]
) -> bool:
    return any(address.version == net.version and address in net for net in nets)


def client_address(peer: str | None, forwarded: str | None, trusted: Sequence[Network]) -> str:
    """The client's address behind zero or more trusted proxies.

    ``X-Forwarded-For`` is read only when the connection itself comes from a trusted proxy,
    and only as far as trusted hops go: walking the header from the right (the entry the
    nearest proxy appended), every trusted address is skipped and the first untrusted one is
    the client. Whatever a client writes into the header itself sits further left and is
    never reached unless every hop to its right is trusted. A malformed entry ends the walk
    at the last trusted hop."""
    if not peer:
        return "unknown"
    last = _address(peer)
    if last is None or not trusted or not _trusted(last, trusted):
        return peer
    for hop in reversed([h for h in (forwarded or "").split(",") if h.strip()]):
        address = _address(hop)
        if address is None:
            break
        last = address
        if not _trusted(address, trusted):
            return str(address)
    return str(last)


def client_ip(request: Request) -> str:
    """The client's address of a request, through the app's trusted proxies
    (``app.state.trusted_proxies``, from ``LAPOR_TRUSTED_PROXIES``; none: the socket's
    peer, whatever ``X-Forwarded-For`` says)."""
    trusted: Sequence[Network] = getattr(request.app.state, "trusted_proxies", ())
    peer = request.client.host if request.client else None
    return client_address(peer, request.headers.get("x-forwarded-for"), trusted)


class RateLimitedError(Exception):
    """Raised by a door over its client's rate; answered ``429`` + ``Retry-After``."""

    def __init__(self, wait: float) -> None:
        super().__init__(f"rate limited for {wait:.1f}s")
        self.wait = wait


def install_rate_limits(app: FastAPI, limiter: RateLimiter) -> None:
    """Keep ``limiter`` on the app for :func:`per_client` and answer its refusals (clients
    are told apart by :func:`client_ip`)."""
    app.state.limiter = limiter

    @app.exception_handler(RateLimitedError)
    async def on_limited(_: Request, exc: RateLimitedError) -> JSONResponse:
        return too_many_requests(exc.wait)


def take(request: Request, door: str, client: str | None = None) -> None:
    """Spend one of ``client``'s tokens at ``door`` (default client: the caller's IP)."""
    limiter: RateLimiter | None = getattr(request.app.state, "limiter", None)
    if limiter is None:
        return
    who = client or client_ip(request)
    wait = limiter.check(door, who)
    if wait is not None:
        raise RateLimitedError(wait)


def per_client(door: str) -> Callable[[Request], None]:
    """A FastAPI dependency limiting each client IP at ``door``."""

    def dependency(request: Request) -> None:
        take(request, door)

    return dependency
