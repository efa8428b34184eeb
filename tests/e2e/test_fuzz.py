"""Schemathesis against every service's OpenAPI document on the running stack (separate
processes on the real broker and store), with a national admin's token: no generated
request, valid or not, may get a server error (``--checks not_a_server_error``).

``make test`` runs a few examples per operation with a fixed seed so CI stays fast;
``make fuzz`` runs ``LAPOR_FUZZ_EXAMPLES`` (default 100) per operation.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from lapor_devstack.settings import StackSettings
from lapor_devstack.stack import Stack
from lapor_kit.auth import DEV_SIGNING_KEY, issue

pytestmark = pytest.mark.e2e

EXAMPLES = int(os.environ.get("LAPOR_FUZZ_EXAMPLES", "8"))
SEED = int(os.environ.get("LAPOR_FUZZ_SEED", "20261202"))


def schemathesis() -> str:
    return str(Path(sys.executable).with_name("schemathesis"))


@pytest.mark.parametrize("service", ["intake", "routing", "notify", "metrics"])
def test_no_generated_request_gets_a_server_error(
    service: str, running_stack: Stack, e2e_settings: StackSettings, tmp_path: Path
) -> None:
    token = issue(DEV_SIGNING_KEY, subject="fuzz", role="national_admin", tenant="*")
    url = e2e_settings.url(service)
    done = subprocess.run(
        [
            schemathesis(),
            "run",
            f"{url}/openapi.json",
            "--checks",
            "not_a_server_error",
            "--max-examples",
            str(EXAMPLES),
            "--seed",
            str(SEED),
            "--header",
            f"Authorization: Bearer {token}",
            "--generation-database",
            "none",
            "--request-timeout",
            "15",
            "--no-color",
            "--report-dir",
            str(tmp_path),
        ],
        capture_output=True,
        cwd=tmp_path,  # its cache stays out of the repository
        text=True,
        timeout=1500,
        check=False,
    )
    out = done.stdout + done.stderr
    summary = re.search(r"(\d+) generated, (\d+) passed", out)
    print(f"{service}: {summary.group(0) if summary else 'no summary'} ({EXAMPLES} per operation)")
    assert done.returncode == 0, out[-6000:]
    assert summary is not None, out[-3000:]
    generated, passed = int(summary.group(1)), int(summary.group(2))
    assert generated >= 10
    assert passed == generated, out[-6000:]
