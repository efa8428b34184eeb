"""The project's alerts on a real Prometheus (Debian's 2.42) scraping the running stack, with
the project's rules at a short evaluation interval: a quiet stack raises nothing, and each
failure created for real puts exactly its alert in `pending` (their `for` keeps them from
firing in a test's minutes) while no other alert fires.

`make ops-test` runs this file alone; `make test` runs it with the rest of the e2e tier."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from lapor_devstack.procs import free_port
from lapor_devstack.settings import StackSettings
from lapor_devstack.stack import Stack, infrastructure, services
from lapor_kit.auth import DEV_SIGNING_KEY, issue
from lapor_schemas import topics
from tests import factories
from tests.support import free_stack_settings, publish

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]
ROOT = Path(__file__).resolve().parents[2]
JOBS = ("intake", "routing", "notify", "metrics", "portal")


class Prometheus:
    def __init__(self, url: str) -> None:
        self.url = url

    async def query(self, expr: str) -> list[dict[str, Any]]:
        async with httpx.AsyncClient(base_url=self.url, timeout=10) as api:
            found = await api.get("/api/v1/query", params={"query": expr})
        data: list[dict[str, Any]] = found.json()["data"]["result"]
        return data

    async def alerts(self) -> list[dict[str, Any]]:
        async with httpx.AsyncClient(base_url=self.url, timeout=10) as api:
            found = await api.get("/api/v1/alerts")
        data: list[dict[str, Any]] = found.json()["data"]["alerts"]
        return data

    async def wait_for(self, name: str, timeout: float = 90.0) -> dict[str, Any]:
        """The alert ``name`` once Prometheus has it (pending or firing)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for alert in await self.alerts():
                if alert["labels"]["alertname"] == name:
                    return alert
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{name} never went pending: {await self.alerts()}")
            await asyncio.sleep(1)

    async def firing(self) -> set[str]:
        return {a["labels"]["alertname"] for a in await self.alerts() if a["state"] == "firing"}


def config(s: StackSettings, rules: Path) -> dict[str, Any]:
    return {
        "global": {"scrape_interval": "2s", "evaluation_interval": "2s", "scrape_timeout": "2s"},
        "rule_files": [str(rules)],
        "scrape_configs": [
            {
                "job_name": f"lapor-{name}",
                "static_configs": [{"targets": [s.url(name).removeprefix("http://")]}],
            }
            for name in JOBS
        ],
    }


@pytest.fixture(scope="module")
def ops_settings(tmp_path_factory: pytest.TempPathFactory) -> StackSettings:
    """A stack of its own: quiet means nothing else has happened on it, and the failures made
    here (a stopped mail server, a frozen store) touch no other test."""
    settings: StackSettings = free_stack_settings(tmp_path_factory.mktemp("var-ops"))
    return settings


@pytest.fixture(scope="module")
def ops_stack(ops_settings: StackSettings) -> Iterator[Stack]:
    stack = Stack(ops_settings)
    try:
        stack.up(infrastructure(ops_settings), timeout=90)
        stack.up(services(ops_settings), timeout=120)
        yield stack
    finally:
        stack.down()


@pytest.fixture(scope="module")
def prometheus(
    ops_stack: Stack, ops_settings: StackSettings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Prometheus]:
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.fail("Debian's prometheus is missing: `make promtool` installs it")
    folder = tmp_path_factory.mktemp("prometheus")
    # the project's rules, evaluated every 2 s instead of every minute
    text = (ROOT / "deploy/prometheus/rules/lapor.rules.yml").read_text()
    rules = folder / "lapor.rules.yml"
    rules.write_text(text.replace("interval: 1m", "interval: 2s"))
    (folder / "prometheus.yml").write_text(json.dumps(config(ops_settings, rules)))
    port = free_port()
    proc = subprocess.Popen(
        [
            binary,
            f"--config.file={folder / 'prometheus.yml'}",
            f"--storage.tsdb.path={folder / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=(folder / "prometheus.log").open("wb"),
    )
    try:
        yield Prometheus(f"http://127.0.0.1:{port}")
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def watched(prometheus: Prometheus) -> AsyncIterator[Prometheus]:
    """Prometheus once it scrapes every service and has evaluated the rules a few times."""
    deadline = asyncio.get_running_loop().time() + 90
    while True:
        try:
            up = await prometheus.query('sum(up{job=~"lapor-.*"})')
            names = await prometheus.query("count(lapor:province_names)")
        except (httpx.HTTPError, ValueError, KeyError):  # still starting: not JSON yet
            up, names = [], []
        if up and float(up[0]["value"][1]) == len(JOBS) and names:
            break
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"Prometheus never scraped the stack: {up}")
        await asyncio.sleep(1)
    await asyncio.sleep(8)  # a few evaluations with two samples each
    yield prometheus


async def test_a_quiet_stack_raises_nothing(watched: Prometheus) -> None:
    assert await watched.alerts() == []
    # each service reports its own consumers' lag (not only the metrics service)
    own = await watched.query('lapor_consumer_lag_records{job="lapor-routing"}')
    assert {r["metric"]["group"] for r in own} >= {"lapor-routing"}


async def test_a_burst_of_refused_records_raises_its_alert_only(
    watched: Prometheus, ops_settings: StackSettings
) -> None:
    for i in range(12):
        await publish(
            ops_settings.kafka_bootstrap, topics.INTAKE, b'{"not": "a report", "i": %d}' % i
        )
    alert = await watched.wait_for("LaporRecordsRefused")
    assert alert["labels"]["source_topic"] == topics.INTAKE
    assert alert["annotations"]["runbook_url"] == "docs/runbooks.md#laporrecordsrefused"
    assert await watched.firing() == set()


async def test_a_stopped_mail_server_raises_failing_notices(
    watched: Prometheus, ops_stack: Stack, ops_settings: StackSettings
) -> None:
    ops_stack.pm.stop("smtp-sink")
    try:
        async with httpx.AsyncClient(base_url=ops_settings.url("intake"), timeout=30) as api:
            for i in range(3):
                made = await api.post(
                    "/api/v1/complaints",
                    json={
                        "type": "pengaduan",
                        "title": f"Lampu jalan mati nomor {i} {uuid.uuid4().hex[:6]}",
                        "description": "Lampu penerangan jalan mati sejak seminggu, gelap.",
                        "category": "infrastruktur",
                        "region_code": "63.71",
                        "anonymous": False,
                        "reporter": {"name": "Siti", "email": f"siti{i}@warga.example"},
                    },
                )
                assert made.status_code == 202, made.text
        alert = await watched.wait_for("LaporNotificationsFailing", timeout=120)
        assert alert["labels"]["channel"] == "email"
        assert await watched.firing() == set()
    finally:
        ops_stack.up([c for c in infrastructure(ops_settings) if c.name == "smtp-sink"])


async def test_a_dispatched_case_past_its_deadline_counts_against_the_follow_up_sla(
    watched: Prometheus, ops_settings: StackSettings
) -> None:
    """Found: a dispatched case was never at its follow-up stage in metrics, so the follow-up
    SLA never had data and this alert could never fire."""
    tid = f"LPR-OPS{uuid.uuid4().hex[:7].upper()}"
    past = datetime.now(UTC) - timedelta(days=20)
    # flagged as a possible repeat: routing waits for a verifier instead of dispatching it
    # itself, so the dispatch below (due a fortnight ago) stays the case's last
    submitted = factories.submitted(tid, region="21.72", time=past, repeat_of="LPR-0000000001")
    dispatched = factories.dispatched(
        tid, agency_id="21.72.pupr", region="21.72", time=past + timedelta(hours=1)
    )
    dispatched = dispatched.model_copy(
        update={"data": dispatched.data.model_copy(update={"due_at": past + timedelta(days=7)})}
    )
    for event in (submitted, dispatched):
        await publish(
            ops_settings.kafka_bootstrap,
            topics.CASES,
            event.model_dump_json().encode(),
            key=tid.encode(),
        )
    alert = await watched.wait_for("LaporFollowUpSlaBreachRateHigh", timeout=120)
    assert alert["labels"]["province_name"] == "Provinsi Kepulauan Riau"
    overdue = await watched.query('lapor:overdue_cases:by_province{stage="follow_up"}')
    assert {r["metric"]["province"] for r in overdue if float(r["value"][1]) > 0} >= {"21"}
    assert await watched.firing() == set()


async def test_a_stopped_service_raises_service_down(
    watched: Prometheus, ops_stack: Stack, ops_settings: StackSettings
) -> None:
    ops_stack.pm.stop("notify")
    try:
        alert = await watched.wait_for("LaporServiceDown")
        assert alert["labels"]["job"] == "lapor-notify"
        assert alert["labels"]["severity"] == "critical"
        assert await watched.firing() == set()
    finally:
        ops_stack.up(services(ops_settings, ("notify",)))


async def test_one_unreadable_record_on_the_case_log_raises_poison(
    watched: Prometheus, ops_settings: StackSettings
) -> None:
    # not JSON at all (an unknown event type would be skipped: consumers read on past
    # event types they do not know)
    await publish(ops_settings.kafka_bootstrap, topics.CASES, b"\xff{ not json")
    alert = await watched.wait_for("LaporPoisonRecord")
    assert alert["labels"]["source_topic"] == topics.CASES
    assert await watched.firing() == set()


async def test_a_hotspot_against_its_baseline_raises_one_alert_for_the_province(
    watched: Prometheus, ops_settings: StackSettings
) -> None:
    """Eight weeks of one report a week about a category in a regency, then four this week."""
    now = datetime.now(UTC)
    times = [now - timedelta(days=7 * week + 3) for week in range(1, 9)]
    times += [now - timedelta(hours=h) for h in (2, 5, 9, 30)]
    for i, at in enumerate(times):
        tid = f"LPR-HOT{uuid.uuid4().hex[:7].upper()}"
        event = factories.submitted(
            tid,
            region="73.24",
            time=at,
            category="kesehatan",
            title=f"Puskesmas tutup {i}",
            description=f"Puskesmas di desa {i} tutup pada jam pelayanan ({uuid.uuid4().hex}).",
        )
        await publish(
            ops_settings.kafka_bootstrap,
            topics.CASES,
            event.model_dump_json().encode(),
            key=tid.encode(),
        )
    found = await watched.query('lapor_category_complaints_7d{regency="73.24"}')
    alert = await watched.wait_for("LaporComplaintHotspots", timeout=120)
    assert alert["labels"]["province_name"] == "Provinsi Sulawesi Selatan", found
    assert alert["state"] == "pending"  # it waits half an hour before it fires
    assert await watched.firing() == set()


async def test_a_frozen_store_raises_unavailable(
    watched: Prometheus, ops_stack: Stack, ops_settings: StackSettings
) -> None:
    token = issue(DEV_SIGNING_KEY, subject="ops", role="national_admin", tenant="*")
    ops_stack.pm.pause("secantusdb")
    try:
        async with httpx.AsyncClient(base_url=ops_settings.url("intake"), timeout=30) as api:
            answers = await asyncio.gather(
                *(
                    api.get(
                        "/api/v1/staff/complaints/LPR-0000000000",
                        headers={"Authorization": f"Bearer {token}"},
                    )
                    for _ in range(4)
                )
            )
        assert [a.status_code for a in answers] == [503] * 4
    finally:
        ops_stack.pm.resume("secantusdb")
    alert = await watched.wait_for("LaporUnavailable")
    assert alert["labels"]["service"] == "lapor-intake"
    assert await watched.firing() == set()
