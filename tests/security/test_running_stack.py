"""The stack as ``make run`` starts it (separate processes behind uvicorn): no answer names
the server software, and the reporter's secret is refused in a URL by every service that
knows it."""

from __future__ import annotations

import httpx
import pytest

from lapor_devstack.settings import StackSettings
from lapor_devstack.stack import Stack

pytestmark = [pytest.mark.e2e]

SERVICES = ("intake", "routing", "notify", "metrics", "portal")


async def test_no_answer_names_the_server_software(
    running_stack: Stack, e2e_settings: StackSettings
) -> None:
    """Found: every answer said ``server: uvicorn``."""
    async with httpx.AsyncClient(timeout=10) as client:
        for name in SERVICES:
            for path in ("/health", "/nothing-here"):
                answer = await client.get(f"{e2e_settings.url(name)}{path}")
                assert "server" not in answer.headers, (name, path, answer.headers)
        secret_in_url = await client.get(
            f"{e2e_settings.url('intake')}/api/v1/complaints/LPR-0123456789",
            params={"secret": "coba-coba"},
        )
        assert secret_in_url.status_code == 400
        assert secret_in_url.headers["cache-control"] == "no-store"
