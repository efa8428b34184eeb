"""The staff workspace without JavaScript (plain GETs and form POSTs with the cookies the
portal sets), on the running stack: the daily work of each role that the browser tests do
not walk through — entering a walk-in report, the directory with its validation and history,
a national admin making a province's coordinator, two-step sign-in, the Ombudsman."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import AsyncIterator

import httpx
import pyotp
import pytest
import pytest_asyncio

from lapor_devstack.settings import StackSettings
from lapor_devstack.stack import Stack
from lapor_kit.auth import DEV_SIGNING_KEY, issue
from lapor_portal.seed import DEV_PASSWORD
from tests.support import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]


def hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no hidden field {name}"
    return found.group(1)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def portal(running_stack: Stack, e2e_settings: StackSettings) -> str:
    return e2e_settings.url("portal")


async def signed_in(
    base: str, username: str, password: str = DEV_PASSWORD, code: str = ""
) -> tuple[httpx.AsyncClient, httpx.Response]:
    client = httpx.AsyncClient(base_url=base, timeout=15.0)
    form = await client.get("/masuk")
    answer = await client.post(
        "/masuk",
        data={
            "csrf": hidden(form.text, "csrf"),
            "username": username,
            "password": password,
            "code": code,
        },
    )
    return client, answer


@pytest_asyncio.fixture(loop_scope="module")
async def staff(portal: str) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    opened: dict[str, httpx.AsyncClient] = {}
    for name in ("banjarmasin.pdam", "kalsel.koordinator", "admin.nasional", "ombudsman"):
        client, answer = await signed_in(portal, name)
        assert answer.status_code == 303, answer.text
        opened[name] = client
    yield opened
    for client in opened.values():
        await client.aclose()


async def test_a_walk_in_report_is_entered_and_reaches_the_agency_without_identity(
    staff: dict[str, httpx.AsyncClient], e2e_settings: StackSettings
) -> None:
    pdam = staff["banjarmasin.pdam"]
    form = await pdam.get("/kerja/lapor")
    assert form.status_code == 200
    words = " ".join(uuid.uuid4().hex[:6] for _ in range(5))
    entry = {
        "csrf": hidden(form.text, "csrf"),
        "channel": "walk_in",
        "reference": f"loket-{uuid.uuid4().hex[:6]}",
        "type": "pengaduan",
        "title": "Air PDAM mati tiga hari",
        "description": f"Air mati di Jalan Veteran {words}, sudah tiga hari.",
        "category": "air-bersih",
        "region_code": "63.71",
        "name": "Pak Darto",
        "phone": "081234567890",
        "anonymous": "on",
    }
    short = await pdam.post("/kerja/lapor", data={**entry, "title": "Air"})
    assert short.status_code == 422
    assert 'href="#f-title"' in short.text
    assert "Pak Darto" in short.text  # nothing typed is lost
    done = await pdam.post("/kerja/lapor", data=entry)
    assert done.status_code == 201, done.text
    tid = re.search(r'<code id="tracking-id">([^<]+)</code>', done.text)
    assert tid
    tracking_id = tid.group(1)
    assert re.search(r'<code id="secret">[^<]{10,}</code>', done.text)
    again = await pdam.post("/kerja/lapor", data=entry)  # the same slip entered twice
    assert tracking_id in again.text
    assert "sudah pernah dicatat" in again.text

    async def in_inbox() -> str | None:
        page = await pdam.get("/kerja")
        return page.text if tracking_id in page.text else None

    await eventually(in_inbox, timeout=60)

    async def readable() -> str | None:
        # intake learns of the dispatch from the case log a moment after routing's inbox
        page = await pdam.get(f"/kerja/kasus/{tracking_id}")
        return (
            page.text
            if "Isi laporan belum tersedia" not in page.text and "Air mati" in page.text
            else None
        )

    text = await eventually(readable, timeout=30)
    assert "Pelapor memilih anonim" in text
    assert "Pak Darto" not in text
    assert "081234567890" not in text
    assert "Tampilkan identitas pelapor" not in text
    admin = issue(DEV_SIGNING_KEY, subject="a", role="national_admin", tenant="*")
    async with httpx.AsyncClient() as api:
        who = await api.get(
            f"{e2e_settings.url('intake')}/api/v1/staff/complaints/{tracking_id}/reporter",
            headers={"Authorization": f"Bearer {admin}"},
        )
    assert who.status_code == 404  # anonymous: nobody, not even a national admin
    audit = await staff["kalsel.koordinator"].get("/kerja/audit", params={"kasus": tracking_id})
    assert "Mencatat laporan" in audit.text
    assert "banjarmasin.pdam" in audit.text


async def test_the_coordinator_edits_the_directory_with_validation_and_history(
    staff: dict[str, httpx.AsyncClient],
) -> None:
    kalsel = staff["kalsel.koordinator"]
    page = await kalsel.get("/kerja/direktori")
    assert page.status_code == 200
    assert "Kota Banjarmasin" in page.text or "63.71.pupr" in page.text
    current = json.loads(
        re.search(r'<textarea id="f-directory"[^>]*>(.*?)</textarea>', page.text, re.S)
        .group(1)  # type: ignore[union-attr]
        .replace("&#34;", '"')
        .replace("&quot;", '"')
        .replace("&amp;", "&")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
    )
    csrf = hidden(page.text, "csrf")

    async def save(text: str) -> httpx.Response:
        return await kalsel.post("/kerja/direktori", data={"csrf": csrf, "directory": text})

    broken = await save("{ not json")
    assert broken.status_code == 422
    assert "JSON" in broken.text
    wrong = dict(
        current,
        rules=[*current["rules"], {"id": "x", "keywords": ["x"], "agency": "63.99.tidak-ada"}],
    )
    refused = await save(json.dumps(wrong))
    assert refused.status_code == 422
    assert "63.99.tidak-ada" in refused.text
    versions_before = len(re.findall(r"Revisi \d+", refused.text))
    saved = await save(json.dumps(dict(current, version=current["version"] + 1)))
    assert saved.status_code == 303
    after = await kalsel.get(saved.headers["location"])
    assert "tersimpan sebagai revisi baru" in after.text
    assert len(re.findall(r"Revisi \d+ ·", after.text)) == versions_before + 1
    revisions = [int(n) for n in re.findall(r'name="revision" value="(\d+)"', after.text)]
    back = await kalsel.post(
        "/kerja/direktori/kembalikan",
        data={"csrf": csrf, "revision": str(revisions[0])},
    )
    assert back.status_code == 303
    assert len(re.findall(r"Revisi \d+ ·", (await kalsel.get("/kerja/direktori")).text)) == (
        versions_before + 2
    )
    # another province's directory is not this coordinator's to edit
    other = await kalsel.post(
        "/kerja/direktori", data={"csrf": csrf, "tenant": "73", "directory": "{}"}
    )
    assert other.status_code == 422  # it was checked as Kalsel's own, never sent as 73's


async def test_a_national_admin_makes_a_coordinator_who_turns_on_two_step_sign_in(
    staff: dict[str, httpx.AsyncClient], portal: str, e2e_settings: StackSettings
) -> None:
    admin = staff["admin.nasional"]
    form = await admin.get("/kerja/akun")
    username = f"kepri.{uuid.uuid4().hex[:6]}"
    made = await admin.post(
        "/kerja/akun",
        data={
            "csrf": hidden(form.text, "csrf"),
            "username": username,
            "name": "Kominfo Kepri",
            "role": "province_coordinator",
            "tenant": "21",
        },
    )
    assert made.status_code == 201, made.text
    temporary = re.search(r'<code class="secret">([^<]+)</code>', made.text)
    assert temporary
    client, first = await signed_in(portal, username, temporary.group(1))
    assert first.headers["location"] == "/kerja/akun/saya"
    me = await client.get("/kerja/akun/saya")
    chosen = f"Kepri-{uuid.uuid4().hex[:10]}"
    changed = await client.post(
        "/kerja/akun/saya/sandi",
        data={
            "csrf": hidden(me.text, "csrf"),
            "current": temporary.group(1),
            "new": chosen,
            "again": chosen,
        },
    )
    assert changed.headers["location"] == "/kerja"
    inbox = await client.get("/kerja")
    assert inbox.status_code == 200
    assert "21" in inbox.text
    # two-step: start, confirm with a code from the app, then sign-in needs a code
    me = await client.get("/kerja/akun/saya")
    unasked = await client.post(
        "/kerja/akun/saya/2fa", data={"csrf": hidden(me.text, "csrf"), "step": "mulai"}
    )
    assert unasked.status_code == 401  # turning it on asks for the password again
    start = await client.post(
        "/kerja/akun/saya/2fa",
        data={"csrf": hidden(me.text, "csrf"), "step": "mulai", "password": chosen},
    )
    key = re.search(r'<code class="secret" id="kunci-totp">([A-Z2-7]+)</code>', start.text)
    assert key
    totp = pyotp.TOTP(key.group(1))
    wrong = await client.post(
        "/kerja/akun/saya/2fa", data={"csrf": hidden(me.text, "csrf"), "code": "000000"}
    )
    assert wrong.status_code == 422
    chosen_by_form = pyotp.random_base32()  # the server makes the key: a form cannot
    forged = await client.post(
        "/kerja/akun/saya/2fa",
        data={
            "csrf": hidden(me.text, "csrf"),
            "secret": chosen_by_form,
            "code": pyotp.TOTP(chosen_by_form).now(),
        },
    )
    assert forged.status_code == 422
    on = await client.post(
        "/kerja/akun/saya/2fa", data={"csrf": hidden(me.text, "csrf"), "code": totp.now()}
    )
    assert on.status_code == 200
    assert "Verifikasi dua langkah aktif" in on.text
    await client.aclose()
    no_code = await signed_in(portal, username, chosen)
    assert no_code[1].status_code == 401
    await no_code[0].aclose()
    step = int(time.time()) // 30 + 1  # a code not used yet (enrolment used this window's)
    code = totp.at(step * 30)
    with_code = await signed_in(portal, username, chosen, code)
    assert with_code[1].status_code == 303
    await with_code[0].aclose()
    replayed = await signed_in(portal, username, chosen, code)
    assert replayed[1].status_code == 401  # a one-time code works once
    await replayed[0].aclose()
    audit = await admin.get("/kerja/audit", params={"provinsi": "21"})
    assert "Membuat akun" in audit.text
    assert "Menyalakan verifikasi dua langkah" in audit.text


async def test_the_ombudsman_sees_its_escalations_and_the_audit_log_only_grows(
    staff: dict[str, httpx.AsyncClient],
) -> None:
    ombudsman = staff["ombudsman"]
    inbox = await ombudsman.get("/kerja")
    assert inbox.status_code == 200
    assert "Ombudsman" in inbox.text
    assert (await ombudsman.get("/kerja/dasbor")).status_code == 404  # a coordinator's page
    assert (await ombudsman.get("/kerja/audit")).status_code == 404
    assert (await ombudsman.get("/kerja/lapor")).status_code == 404
    admin = staff["admin.nasional"]
    csv_text = (await admin.get("/kerja/audit.csv")).text
    assert csv_text.startswith("waktu,siapa,peran,provinsi,laporan,tindakan,keterangan")
    assert ",Masuk,cara: kata sandi" in csv_text
    for method in ("PUT", "DELETE", "PATCH", "POST"):
        changed = await admin.request(method, "/kerja/audit")
        assert changed.status_code in (404, 405), method
