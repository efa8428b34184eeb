"""The portal with its backends unreachable (nothing listens on their ports): a friendly
page with a retry, never a 500, and a report being written is handed back as typed."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from lapor_devstack.procs import free_port
from lapor_portal.main import create_app
from lapor_portal.settings import PortalSettings


async def test_a_backend_that_is_down_gives_a_friendly_page_and_a_retry() -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    settings = PortalSettings(
        intake_url=nowhere,
        notify_url=nowhere,
        metrics_url=nowhere,
        routing_url=nowhere,
        backend_timeout_seconds=1,
        mongo_url=f"mongodb://127.0.0.1:{free_port()}/?directConnection=true",
        mongo_timeout_ms=300,
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
            # the staff sign-in with its own database down: the same page, no 500
            signin = await client.get("/masuk")
            assert signin.status_code == 200
            csrf = signin.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
            tried = await client.post(
                "/masuk", data={"csrf": csrf, "username": "admin.nasional", "password": "x" * 12}
            )
            assert tried.status_code == 503
            assert "Layanan sedang sibuk" in tried.text
            assert (await client.get("/.well-known/jwks.json")).status_code == 200


def test_production_refuses_the_development_secret_and_keys(tmp_path: Path) -> None:
    from lapor_kit.auth import SigningKey
    from lapor_kit.settings import UnsafeSettingsError

    with pytest.raises(UnsafeSettingsError, match="LAPOR_PORTAL_SECRET") as refused:
        create_app(PortalSettings(env="production"))
    assert "LAPOR_SIGNING_KEYS" in str(refused.value)
    assert "LAPOR_TOTP_KEY" in str(refused.value)
    key = tmp_path / "signing.pem"
    key.write_bytes(SigningKey.generate().pem())
    safe = {
        "portal_secret": "p" * 40,
        "secure_cookies": True,
        "signing_keys": str(key),
        "totp_key": "t" * 40,
    }
    with pytest.raises(UnsafeSettingsError, match="LAPOR_SEED_DEV_ACCOUNTS"):
        create_app(PortalSettings(env="production", seed_dev_accounts=True, **safe))
    create_app(PortalSettings(env="production", **safe))
