"""SMS and WhatsApp through a configurable HTTP gateway, and signed agency webhooks.

A gateway is a URL, a bearer token and a JSON payload template whose string values may use
``{to}``, ``{text}`` and ``{reference}``; every request carries ``Idempotency-Key: <delivery
id>`` so that a provider can drop a resend of the same delivery.

A webhook body is JSON; the receiver checks ``X-Lapor-Signature: sha256=<hex>``, the
HMAC-SHA256 of ``"<X-Lapor-Timestamp>.<body>"`` with its shared secret (:func:`verify`), and
rejects stale timestamps.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from ..domain.targets import Resolver, TargetRefusedError, check_target, system_resolver
from ..ports import Outgoing, SendError


@dataclass(frozen=True, slots=True)
class GatewayConfig:
    url: str
    token: str | None = None
    payload: str = '{"to": "{to}", "text": "{text}", "reference": "{reference}"}'
    timeout_seconds: float = 10.0


def render_payload(template: str, **values: str) -> Any:
    """Fill the template's string values (JSON-safe: values are never spliced as raw text)."""

    def fill(node: Any) -> Any:
        if isinstance(node, str):
            out = node
            for key, value in values.items():
                out = out.replace("{" + key + "}", value)
            return out
        if isinstance(node, list):
            return [fill(n) for n in node]
        if isinstance(node, dict):
            return {k: fill(v) for k, v in node.items()}
        return node

    return fill(json.loads(template))


class HttpGateway:
    def __init__(self, config: GatewayConfig, client: httpx.AsyncClient | None = None) -> None:
        self.config = config
        self.client = client or httpx.AsyncClient(timeout=config.timeout_seconds)

    async def send(self, *, to: str, text: str, reference: str) -> str:
        """Hand one message to the provider; returns its answer's id if it gives one."""
        headers = {"Idempotency-Key": reference}
        if self.config.token:
            headers["Authorization"] = f"Bearer {self.config.token}"
        body = render_payload(self.config.payload, to=to, text=text, reference=reference)
        try:
            resp = await self.client.post(self.config.url, json=body, headers=headers)
        except httpx.HTTPError as exc:
            raise SendError(f"provider unreachable: {exc!r}", retryable=True) from exc
        if resp.status_code >= 500 or resp.status_code == 429:
            raise SendError(f"provider answered {resp.status_code}", retryable=True)
        if resp.status_code >= 400:
            raise SendError(
                f"provider refused: {resp.status_code} {resp.text[:200]}", retryable=False
            )
        try:
            return str(resp.json().get("id", ""))
        except ValueError:
            return ""

    async def close(self) -> None:
        await self.client.aclose()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    tolerance_seconds: int = 300,
    now: float | None = None,
) -> bool:
    """For webhook receivers: the signature matches and the timestamp is fresh."""
    lowered = {k.lower(): v for k, v in headers.items()}
    try:
        timestamp = int(lowered["x-lapor-timestamp"])
    except (KeyError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - timestamp) > tolerance_seconds:
        return False
    expected = sign(secret, timestamp, body)
    return hmac.compare_digest(expected, lowered.get("x-lapor-signature", ""))


class WebhookSender:
    """Signed POSTs to agency webhooks. The target is checked again before every call
    (:mod:`..domain.targets`), and redirects are never followed (a public host could
    otherwise bounce the call into the cluster)."""

    def __init__(
        self,
        client: httpx.AsyncClient | None = None,
        timeout: float = 10.0,
        *,
        production: bool = False,
        allowed: Collection[str] = (),
        resolve: Resolver = system_resolver,
    ) -> None:
        self.client = client or httpx.AsyncClient(timeout=timeout, follow_redirects=False)
        self.production = production
        self.allowed = allowed
        self.resolve = resolve

    async def send(
        self, *, url: str, secret: str, payload: Mapping[str, Any], delivery_id: str
    ) -> None:
        try:
            await check_target(
                url, production=self.production, resolve=self.resolve, allowed=self.allowed
            )
        except TargetRefusedError as exc:
            raise SendError(f"webhook target refused: {exc}", retryable=False) from exc
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "X-Lapor-Timestamp": str(timestamp),
            "X-Lapor-Signature": sign(secret, timestamp, body),
            "X-Lapor-Delivery-Id": delivery_id,
            "Idempotency-Key": delivery_id,
        }
        try:
            resp = await self.client.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise SendError(f"webhook unreachable: {exc!r}", retryable=True) from exc
        if resp.status_code >= 500 or resp.status_code == 429:
            raise SendError(f"webhook answered {resp.status_code}", retryable=True)
        if resp.status_code >= 300:
            raise SendError(f"webhook refused: {resp.status_code}", retryable=False)

    async def close(self) -> None:
        await self.client.aclose()


class TextChannel:
    """SMS or WhatsApp: the message body through an HTTP gateway."""

    def __init__(self, gateway: HttpGateway) -> None:
        self.gateway = gateway

    async def send(self, message: Outgoing) -> None:
        await self.gateway.send(to=message.address, text=message.body.strip(), reference=message.id)


class WebhookChannel:
    """The agency's webhook: the delivery's JSON payload, signed with the agency's secret."""

    def __init__(self, sender: WebhookSender) -> None:
        self.sender = sender

    async def send(self, message: Outgoing) -> None:
        if message.secret is None or message.payload is None:
            raise SendError("webhook delivery without secret or payload", retryable=False)
        await self.sender.send(
            url=message.address,
            secret=message.secret,
            payload=message.payload,
            delivery_id=message.id,
        )
