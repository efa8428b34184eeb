from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest_asyncio

from lapor_devstack.stack import Stack


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def http(running_stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for the running stack (one per test module)."""
    async with httpx.AsyncClient(timeout=10.0) as client:
        yield client
