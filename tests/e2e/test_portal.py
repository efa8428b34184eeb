"""The citizen portal on the running stack, as a browser without JavaScript uses it: plain
GETs and form POSTs with the cookies the portal sets (real intake, routing, notify and
metrics behind it)."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio

from lapor_devstack.settings import StackSettings
from lapor_devstack.stack import Stack
from lapor_kit.auth import DEV_SIGNING_KEY, issue
from tests.support import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def browser(
    running_stack: Stack, e2e_settings: StackSettings
) -> AsyncIterator[httpx.AsyncClient]:
    """One visitor: a cookie jar, no JavaScript, redirects not followed (to see them)."""
    async with httpx.AsyncClient(base_url=e2e_settings.url("portal"), timeout=15.0) as client:
        yield client


def hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no hidden field {name}"
    return found.group(1)


def words() -> dict[str, str]:
    w = " ".join(uuid.uuid4().hex[:7] for _ in range(6))
    return {"title": f"Jalan rusak {w[:15]}", "description": f"Jalan {w} rusak parah sekali."}


async def file_report(browser: httpx.AsyncClient, **fields: Any) -> httpx.Response:
    form = await browser.get("/lapor")
    assert form.status_code == 200
    data = {
        "csrf": hidden(form.text, "csrf"),
        "form_id": hidden(form.text, "form_id"),
        "type": "pengaduan",
        "category": "infrastruktur",
        "region_code": "63.71",
        **fields,
    }
    return await browser.post("/lapor", data=data)


async def test_a_report_filed_without_javascript_reaches_an_agency_and_is_rated(
    browser: httpx.AsyncClient, e2e_settings: StackSettings
) -> None:
    text = words()
    sent = await file_report(
        browser, **text, name="Siti Aminah", email=f"siti.{uuid.uuid4().hex[:6]}@warga.example"
    )
    assert sent.status_code == 303
    receipt_url = sent.headers["location"]
    tid = receipt_url.rsplit("/", 1)[1]
    assert re.fullmatch(r"LPR-[0-9A-Z]{10}", tid)
    assert "secret" not in receipt_url
    receipt = await browser.get(receipt_url)
    assert tid in receipt.text
    secret = re.search(r'<code id="secret">([^<]+)</code>', receipt.text)
    assert secret
    saved = await browser.get(f"{receipt_url}/berkas")
    assert "attachment" in saved.headers["content-disposition"]
    assert secret.group(1) in saved.text

    async def dispatched() -> str | None:
        page = await browser.get(f"/laporan/{tid}")
        return page.text if "Diteruskan ke instansi" in page.text else None

    status = await eventually(dispatched, timeout=60)
    assert text["title"] in status
    assert "hari kerja lagi" in status  # the agency's deadline, in working days
    assert "Dinas Pekerjaan Umum" in status or "PUPR" in status

    # another browser follows it with the tracking id and the secret (a POST, no query)
    async with httpx.AsyncClient(base_url=str(browser.base_url), timeout=15.0) as other:
        form = await other.get("/lacak")
        wrong = await other.post(
            "/lacak",
            data={"csrf": hidden(form.text, "csrf"), "tracking_id": tid, "secret": "salah"},
        )
        assert wrong.status_code == 404
        opened = await other.post(
            "/lacak",
            data={"csrf": hidden(form.text, "csrf"), "tracking_id": tid, "secret": secret.group(1)},
        )
        assert opened.status_code == 303
        assert opened.headers["location"] == f"/laporan/{tid}"
        mine = await other.get(f"/laporan/{tid}")
        assert "Balasan Anda" in mine.text  # the owner may reply
        assert "Belum puas" not in mine.text  # nothing to dispute yet

    # the agency answers; the reporter sees it, may dispute, replies (closing it) and rates
    staff = issue(
        DEV_SIGNING_KEY,
        subject="staf-pupr",
        role="agency_staff",
        tenant="63",
        agency_id="63.71.pupr",
    )
    async with httpx.AsyncClient(timeout=15.0) as api:
        done = await api.post(
            f"{e2e_settings.url('routing')}/api/v1/cases/{tid}/follow-up",
            headers={"Authorization": f"Bearer {staff}"},
            json={"text": "Lubang sudah kami tambal hari ini."},
        )
        assert done.status_code == 200, done.text

    async def answered() -> str | None:
        page = await browser.get(f"/laporan/{tid}")
        return page.text if "Lubang sudah kami tambal" in page.text else None

    page = await eventually(answered, timeout=60)
    assert "Belum puas" in page
    disputed = await browser.post(
        f"/laporan/{tid}/dispute",
        data={"csrf": hidden(page, "csrf"), "text": "Lubang di sisi kiri belum ditambal."},
    )
    assert disputed.status_code == 303

    async def back_with_agency() -> bool:
        text = (await browser.get(f"/laporan/{tid}")).text
        return "Dikembalikan ke instansi" in text and "Belum puas" not in text

    assert await eventually(back_with_agency, timeout=60)
    async with httpx.AsyncClient(timeout=15.0) as api:
        again = await api.post(
            f"{e2e_settings.url('routing')}/api/v1/cases/{tid}/follow-up",
            headers={"Authorization": f"Bearer {staff}"},
            json={"text": "Sisi kiri juga sudah kami tambal."},
        )
        assert again.status_code == 200, again.text

    async def answered_again() -> str | None:
        page = await browser.get(f"/laporan/{tid}")
        return page.text if "Sisi kiri juga sudah" in page.text else None

    page = await eventually(answered_again, timeout=60)
    csrf = hidden(page, "csrf")
    replied = await browser.post(
        f"/laporan/{tid}/reply", data={"csrf": csrf, "text": "Terima kasih, sudah beres."}
    )
    assert replied.status_code == 303

    async def closed() -> str | None:
        page = await browser.get(f"/laporan/{tid}")
        return page.text if "Beri penilaian" in page.text else None

    page = await eventually(closed, timeout=60)
    rated = await browser.post(
        f"/laporan/{tid}/rate", data={"csrf": hidden(page, "csrf"), "score": "5"}
    )
    assert rated.status_code == 303
    assert rated.headers["location"].endswith("done=ok")

    async def is_rated() -> bool:
        return "Selesai dan dinilai" in (await browser.get(f"/laporan/{tid}")).text

    assert await eventually(is_rated, timeout=60)


async def test_an_invalid_form_comes_back_with_reasons_and_everything_typed(
    browser: httpx.AsyncClient,
) -> None:
    answer = await file_report(
        browser, title="abc", description="Deskripsi yang cukup panjang.", name="Budi"
    )
    assert answer.status_code == 422
    assert "terlalu pendek" in answer.text
    assert 'value="abc"' in answer.text
    assert "Deskripsi yang cukup panjang." in answer.text
    assert 'value="Budi"' in answer.text
    english = await browser.get("/bahasa/en", params={"next": "/lapor"})
    assert english.status_code == 303
    again = await file_report(browser, title="abc", description="A long enough text here.")
    assert "too short" in again.text
    await browser.get("/bahasa/id", params={"next": "/"})


async def test_a_form_without_its_csrf_token_files_nothing(browser: httpx.AsyncClient) -> None:
    forged = await browser.post(
        "/lapor",
        data={"csrf": "forged", "form_id": "x", "category": "infrastruktur", **words()},
    )
    assert forged.status_code == 400
    assert "kedaluwarsa" in forged.text


async def test_a_confidential_report_is_on_no_public_page(browser: httpx.AsyncClient) -> None:
    text = words()
    sent = await file_report(browser, **text, anonymous="1", confidential="1")
    assert sent.status_code == 303
    tid = sent.headers["location"].rsplit("/", 1)[1]
    async with httpx.AsyncClient(base_url=str(browser.base_url), timeout=15.0) as stranger:
        for path in ("/publik", "/", "/statistik", f"/laporan/{tid}"):
            page = await stranger.get(path)
            assert text["title"] not in page.text, path
        assert (await stranger.get(f"/laporan/{tid}")).status_code == 404


async def test_pages_are_light_safe_and_self_hosted(browser: httpx.AsyncClient) -> None:
    for path in ("/", "/lapor", "/lacak", "/statistik", "/publik"):
        page = await browser.get(path, headers={"Accept-Encoding": "gzip"})
        assert page.status_code == 200, path
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert "<script>" not in page.text  # no inline script
        assert not re.search(r'(src|href)="(https?:)?//', page.text), path
        assets = re.findall(r'(?:src|href)="(/(?:static|vendor)/[^"]+)"', page.text)
        weight = len(page.content)
        sizes = []
        for asset in assets:
            got = await browser.get(asset, headers={"Accept-Encoding": "gzip"})
            assert got.status_code == 200, asset
            sizes.append(int(got.headers.get("content-length") or len(got.content)))
        total = int(page.headers.get("content-length") or weight) + sum(sizes)
        assert total <= 150 * 1024, (path, total)
    cookie = browser.cookies.jar
    assert any(c.name == "lapor_csrf" and c.has_nonstandard_attr("HttpOnly") for c in cookie)


async def test_attachments_go_through_intakes_door_and_survive_a_refusal(
    browser: httpx.AsyncClient, e2e_settings: StackSettings
) -> None:
    form = await browser.get("/lapor")
    assert "10 MiB" in form.text
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 1024
    fields = {
        "csrf": hidden(form.text, "csrf"),
        "form_id": hidden(form.text, "form_id"),
        "type": "pengaduan",
        "category": "infrastruktur",
        "region_code": "63.71",
        "title": "x",  # refused: the upload must not be lost
        "description": "Jalan berlubang besar di dekat pasar.",
        "anonymous": "1",
    }
    refused = await browser.post(
        "/lapor", data=fields, files={"lampiran": ("lubang.png", png, "image/png")}
    )
    assert refused.status_code == 422
    assert "lubang.png" in refused.text
    kept = re.search(r'name="attachment" value="([^"]+)"', refused.text)
    assert kept
    import html

    sent = await browser.post(
        "/lapor",
        data={**fields, **words(), "attachment": html.unescape(kept.group(1))},
    )
    assert sent.status_code == 303, sent.text
    tid = sent.headers["location"].rsplit("/", 1)[1]
    async with httpx.AsyncClient() as api:
        view = (await api.get(f"{e2e_settings.url('intake')}/api/v1/complaints/{tid}")).json()
    assert [a["name"] for a in view["attachments"]] == ["lubang.png"]
    disguised = await browser.post(
        "/lapor",
        data={**fields, **words(), "csrf": hidden(refused.text, "csrf")},
        files={"lampiran": ("foto.png", b"MZ\x90\x00" + b"\x00" * 64, "image/png")},
    )
    assert disguised.status_code == 422
    assert "foto.png" in disguised.text
