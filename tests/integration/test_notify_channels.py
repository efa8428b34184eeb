"""The SMS/WhatsApp gateway and webhook adapters against a real local HTTP server."""

from __future__ import annotations

import json

import httpx
import pytest

from lapor_devstack.procs import free_port
from lapor_notify.adapters.gateway import (
    GatewayConfig,
    HttpGateway,
    SendError,
    WebhookSender,
    verify,
)

pytestmark = pytest.mark.integration
TEMPLATE = json.dumps(
    {"msisdn": "{to}", "message": {"text": "{text}"}, "ref": "{reference}", "sender": "LAPOR1708"}
)


async def received(base: str, name: str) -> list[dict[str, object]]:
    async with httpx.AsyncClient() as client:
        items: list[dict[str, object]] = (
            await client.get(f"{base}/requests", params={"name": name})
        ).json()
        return items


async def test_sms_gateway_sends_the_templated_payload_with_an_idempotency_key(
    provider: str,
) -> None:
    gateway = HttpGateway(
        GatewayConfig(url=f"{provider}/send/sms-a", token="tkn", payload=TEMPLATE)
    )
    try:
        await gateway.send(
            to="+6281234567890", text='Laporan "LPR-1"\nditerima', reference="evt-1:reporter:sms"
        )
    finally:
        await gateway.close()
    [request] = await received(provider, "sms-a")
    body = json.loads(str(request["body"]))
    assert body == {
        "msisdn": "+6281234567890",
        "message": {"text": 'Laporan "LPR-1"\nditerima'},
        "ref": "evt-1:reporter:sms",
        "sender": "LAPOR1708",
    }
    headers = request["headers"]
    assert isinstance(headers, dict)
    assert headers["authorization"] == "Bearer tkn"
    assert headers["idempotency-key"] == "evt-1:reporter:sms"


async def test_provider_failures_say_whether_a_retry_may_help(provider: str) -> None:
    gateway = HttpGateway(GatewayConfig(url=f"{provider}/send/sms-b"))
    async with httpx.AsyncClient() as control:
        await control.post(f"{provider}/control/fail", params={"times": 1, "status": 503})
        with pytest.raises(SendError) as outage:
            await gateway.send(to="+62811", text="x", reference="r1")
        assert outage.value.retryable is True
        await gateway.send(to="+62811", text="x", reference="r1")  # the provider is back
        await control.post(f"{provider}/control/fail", params={"times": 1, "status": 400})
        with pytest.raises(SendError) as refused:
            await gateway.send(to="bad", text="x", reference="r2")
        assert refused.value.retryable is False
    await gateway.close()
    attempts = await received(provider, "sms-b")
    assert [a["failed"] for a in attempts] == [True, False, True]
    nowhere = HttpGateway(
        GatewayConfig(url=f"http://127.0.0.1:{free_port()}/send", timeout_seconds=2)
    )
    with pytest.raises(SendError) as unreachable:
        await nowhere.send(to="+62811", text="x", reference="r3")
    assert unreachable.value.retryable is True
    await nowhere.close()


async def test_webhook_payloads_are_signed_and_the_signature_verifies(provider: str) -> None:
    sender = WebhookSender(allowed=[provider.removeprefix("http://")])
    secret = "agency-webhook-secret-0001"
    payload = {
        "type": "case.dispatched",
        "tracking_id": "LPR-0000000001",
        "agency_id": "63.71.pupr",
        "title": "Jalan berlubang",
    }
    try:
        await sender.send(
            url=f"{provider}/send/hook-pupr",
            secret=secret,
            payload=payload,
            delivery_id="evt-2:63.71.pupr:webhook",
        )
    finally:
        await sender.close()
    [request] = await received(provider, "hook-pupr")
    body = str(request["body"]).encode()
    headers = request["headers"]
    assert isinstance(headers, dict)
    assert json.loads(body) == payload
    assert headers["x-lapor-delivery-id"] == "evt-2:63.71.pupr:webhook"
    assert verify(secret, headers, body)
    assert not verify("another-secret", headers, body)
    assert not verify(secret, headers, body.replace(b"berlubang", b"mulus"))
    stale = int(headers["x-lapor-timestamp"]) + 3600
    assert not verify(secret, headers, body, now=stale)
