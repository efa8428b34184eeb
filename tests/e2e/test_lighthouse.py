"""Lighthouse's mobile preset (npm lighthouse@12.2.3, Debian's Chromium) on the two pages with
the heaviest maps, on a first visit: the report form and the statistics, with their
boundaries, Leaflet and the demo-free data of the test stack. Goals: performance >= 90,
accessibility >= 95, best practices >= 95, and at most 150 KB transferred."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from lapor_devstack.settings import StackSettings
from lapor_devstack.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

ROOT = Path(__file__).resolve().parents[2]
LIGHTHOUSE = ROOT / "tools/lighthouse/node_modules/.bin/lighthouse"
FLAGS = (
    "--headless=new --no-sandbox --disable-gpu --disable-background-networking "
    "--disable-component-update --disable-sync"
)


async def audit(url: str, out: Path) -> dict[str, float]:
    proc = await asyncio.create_subprocess_exec(
        str(LIGHTHOUSE),
        url,
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
