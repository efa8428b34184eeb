"""Lighthouse's mobile preset (npm lighthouse@12.2.3, Debian's Chromium) on the two pages with
the heaviest maps, on a first visit: the report form and the statistics, with their
boundaries, Leaflet and the demo-free data of the test stack. Goals: performance >= 90,
accessibility >= 95, best practices >= 95, and at most 150 KB transferred."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import httpx
import pytest

from lapor_devstack.settings import StackSettings
from lapor_devstack.stack import Stack
from lapor_kit.auth import DEV_SIGNING_KEY, issue
from lapor_portal.seed import DEV_PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

ROOT = Path(__file__).resolve().parents[2]
LIGHTHOUSE = ROOT / "tools/lighthouse/node_modules/.bin/lighthouse"
FLAGS = (
    "--headless=new --no-sandbox --disable-gpu --disable-background-networking "
    "--disable-component-update --disable-sync"
)


async def audit(url: str, out: Path, cookie: str | None = None) -> dict[str, float]:
    extra = [f"--extra-headers={json.dumps({'Cookie': cookie})}"] if cookie else []
    proc = await asyncio.create_subprocess_exec(
        str(LIGHTHOUSE),
        url,
        *extra,
        "--quiet",
        "--output=json",
        f"--output-path={out}",
        "--only-categories=performance,accessibility,best-practices,seo",
        f"--chrome-flags={FLAGS}",
        env={"CHROME_PATH": "/usr/bin/chromium", "PATH": "/usr/bin:/bin:/usr/local/bin"},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(proc.communicate(), timeout=180)
    assert proc.returncode == 0, err.decode()[-2000:]
    report = json.loads(await asyncio.to_thread(out.read_text))
    scores = {k: round(v["score"] * 100) for k, v in report["categories"].items()}
    scores["kb"] = report["audits"]["total-byte-weight"]["numericValue"] / 1024
    return scores


@pytest.mark.parametrize("path", ["/lapor", "/statistik"])
async def test_the_map_pages_are_light_and_score_well_on_a_phone(
    running_stack: Stack, e2e_settings: StackSettings, tmp_path: Path, path: str
) -> None:
    assert LIGHTHOUSE.exists(), "make test installs it (make lighthouse-tools)"
    scores = await audit(f"{e2e_settings.url('portal')}{path}", tmp_path / "report.json")
    print(path, scores)
    assert scores["kb"] <= 150, scores
    assert scores["accessibility"] >= 95, scores
    assert scores["best-practices"] >= 95, scores
    assert scores["performance"] >= 90, scores


async def staff_cookie(base: str) -> str:
    """A coordinator's session, signed in as a person would (the form and its token)."""
    async with httpx.AsyncClient(base_url=base) as browser:
        page = await browser.get("/masuk")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert token
        signed = await browser.post(
            "/masuk",
            data={
                "csrf": token.group(1),
                "username": "kalsel.koordinator",
                "password": DEV_PASSWORD,
                "next": "/kerja",
            },
        )
        assert signed.status_code == 303, signed.text[:300]
        return f"lapor_sesi={browser.cookies['lapor_sesi']}"


async def a_case(e2e_settings: StackSettings) -> str:
    """A case of the coordinator's province, entered for this test."""
    token = issue(DEV_SIGNING_KEY, subject="loket", role="province_coordinator", tenant="63")
    async with httpx.AsyncClient(base_url=e2e_settings.url("intake")) as api:
        made = await api.post(
            "/api/v1/staff/complaints",
            json={
                "channel": "walk_in",
                "type": "pengaduan",
                "title": "Saluran air tersumbat di Jalan Veteran",
                "description": "Saluran air di depan pasar tersumbat sampah, air meluap.",
                "category": "infrastruktur",
                "region_code": "63.71",
                "anonymous": True,
            },
            headers={"Authorization": f"Bearer {token}"},
        )
    assert made.status_code == 202, made.text
    return str(made.json()["tracking_id"])


@pytest.mark.parametrize("page", ["inbox", "case"])
async def test_the_workspace_scores_well_for_a_signed_in_officer(
    running_stack: Stack, e2e_settings: StackSettings, tmp_path: Path, page: str
) -> None:
    base = e2e_settings.url("portal")
    path = "/kerja" if page == "inbox" else f"/kerja/kasus/{await a_case(e2e_settings)}"
    cookie = await staff_cookie(base)
    scores = await audit(f"{base}{path}", tmp_path / "report.json", cookie=cookie)
    print(path, scores)
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["finalDisplayedUrl"].endswith(path)  # the page itself, not the sign-in
    assert scores["accessibility"] >= 95, scores
    assert scores["best-practices"] >= 95, scores
    assert scores["performance"] >= 90, scores
