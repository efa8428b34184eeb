"""Scrape-time reads that never hold a scrape up.

Some numbers are read from the broker when Prometheus scrapes (a service's own consumer lag,
the metrics service's view of every group and of the dead-letter topic). A scrape that
waited on a slow broker could outlast Prometheus's scrape timeout, and a busy broker would
then read as the service being down (``up`` 0, ``LaporServiceDown`` pending) while the
service is fine. :class:`BoundedRefresh` waits a short while for a fresh read and otherwise
lets the scrape answer with the last values; the read goes on and lands for the next
scrape. One read at a time: a slow broker never piles reads up."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable


class BoundedRefresh:
    def __init__(self, read: Callable[[], Awaitable[None]], wait: float = 0.5) -> None:
        self.read = read
        self.wait = wait
        self._reading: asyncio.Task[None] | None = None

    async def __call__(self) -> None:
        if self._reading is None or self._reading.done():
            self._reading = asyncio.ensure_future(self.read())
        # past the wait: answered with the last values; this read lands for the next scrape
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._reading), self.wait)

    async def close(self) -> None:
        """Stops a read still going (at shutdown)."""
        if self._reading is not None and not self._reading.done():
            self._reading.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reading
