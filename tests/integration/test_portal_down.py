"""The portal with its backends unreachable (nothing listens on their ports): a friendly
page with a retry, never a 500, and a report being written is handed back as typed."""

from __future__ import annotations

import httpx
import pytest

from lapor_devstack.procs import free_port
from lapor_portal.main import create_app
from lapor_portal.settings import PortalSettings


async def test_a_backend_that_is_down_gives_a_friendly_page_and_a_retry() -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    settings = PortalSettings(
        intake_url=nowhere, notify_url=nowhere, metrics_url=nowhere, backend_timeout_seconds=1
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://portal") as client:
            home = await client.get("/")
            assert home.status_code == 200  # needs no backend
            form = await client.get("/lapor")
            assert form.status_code == 503
            assert "Layanan sedang sibuk" in form.text
            assert 'href="/lapor"' in form.text  # the retry
            status = await client.get("/laporan/LPR-ABCDEFGHJK")
            assert status.status_code == 503
            assert "Coba lagi" in status.text


def test_production_refuses_the_development_secret() -> None:
    from lapor_kit.settings import UnsafeSettingsError

    with pytest.raises(UnsafeSettingsError, match="LAPOR_PORTAL_SECRET"):
        create_app(PortalSettings(env="production"))
    create_app(PortalSettings(env="production", portal_secret="p" * 40, secure_cookies=True))
