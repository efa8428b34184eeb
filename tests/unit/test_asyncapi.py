"""Each service produces an AsyncAPI document naming what it consumes and publishes."""

from __future__ import annotations

import importlib
import json

import pytest

from lapor_schemas import topics

EXPECTED = {
    "intake": (
        {topics.INTAKE, topics.CASES},
        {topics.CASES, topics.CONTACTS, topics.INTAKE_RECEIPTS},
    ),
    "routing": ({topics.CASES}, {topics.CASES}),
    "notify": ({topics.CASES, topics.CONTACTS}, {topics.NOTIFICATIONS}),
    "metrics": ({topics.CASES, topics.NOTIFICATIONS}, set()),
}


@pytest.mark.parametrize("service", sorted(EXPECTED))
async def test_asyncapi_document_lists_subscriptions_and_publications(service: str) -> None:
    module = importlib.import_module(f"lapor_{service}.asyncapi")
    app = module.app()
    doc = json.loads(app.schema.to_specification().to_json())
    addresses = {ch["address"] for ch in doc["channels"].values()}
    subscribes, publishes = EXPECTED[service]
    assert subscribes | publishes <= addresses
    actions = {op["action"] for op in doc["operations"].values()}
    assert "receive" in actions
    if publishes:
        assert "send" in actions
