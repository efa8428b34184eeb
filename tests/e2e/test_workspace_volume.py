"""A province's working day in Chromium, on the running stack: 250 reports entered for
Kepulauan Riau (one, two dozen near-identical repeats of it, the rest distinct), and a
coordinator on an office PC (1366x768) and on a phone (360x740) finds one by its number,
filters, bulk-verifies ten repeats while someone else verified one of them, edits the
directory through its forms and brings a revision back. axe-core on every staff page; no
element wider than the window."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page, expect

from lapor_devstack.settings import StackSettings
from lapor_kit.auth import DEV_SIGNING_KEY, issue
from lapor_portal.seed import DEV_PASSWORD
from tests.e2e.test_portal_browser import PHONE
from tests.e2e.test_portal_browser import browser as browser  # the same Chromium fixture
from tests.e2e.volume import Volume, seed_volume
from tests.support import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]
PC = {"width": 1366, "height": 768}
KEPRI = issue(
    DEV_SIGNING_KEY, subject="kepri.koordinator", role="province_coordinator", tenant="21"
)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def day(e2e_settings: StackSettings, browser: Browser) -> AsyncIterator[Volume]:
    volume = await seed_volume(e2e_settings.url("intake"), f"v{uuid.uuid4().hex[:6]}")
    headers = {"Authorization": f"Bearer {KEPRI}"}
    async with httpx.AsyncClient(base_url=e2e_settings.url("routing"), headers=headers) as api:

        async def all_opened() -> bool:
            found = await api.get("/api/v1/inbox", params={"q": volume.marker, "limit": 1})
            return bool(found.headers.get("x-total-count") == "250")

        await eventually(all_opened, timeout=90)
        repeats = await api.get(
            "/api/v1/inbox",
            params={"q": volume.marker, "possible_repeat": "true", "limit": 200},
        )
        flagged = {c["tracking_id"] for c in repeats.json()}
    assert set(volume.repeats) <= flagged  # intake took them for repeats; they wait
    yield volume


async def serious(page: Page) -> list[str]:
    result = await Axe().run(page)
    return [
        f"{v['id']}: {[n['target'] for n in v['nodes']][:3]}"
        for v in result.response["violations"]
        if v.get("impact") in ("serious", "critical")
    ]


async def too_wide(page: Page) -> list[str]:
    """Elements of the page that reach past the window's right edge (a clipped column, a
    button cut off). The dashboard's wide matrices scroll on purpose, in a region of their
    own that fits the window (``.table-wrap.scroll``)."""
    found: list[str] = await page.evaluate(
        """() => [...document.querySelectorAll('main *')]
            .filter(e => !e.closest('.table-wrap.scroll'))
            .filter(e => { const r = e.getBoundingClientRect();
                           return r.width > 0 && r.right > window.innerWidth + 1; })
            .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
                      + (e.className ? '.' + e.className : ''))
            .slice(0, 8)"""
    )
    return found


async def coordinator(browser: Browser, base: str, viewport: dict[str, int]) -> Page:
    context = await browser.new_context(viewport=viewport)
    page = await context.new_page()
    await page.goto(f"{base}/masuk")
    await page.get_by_label("Nama pengguna").fill("kepri.koordinator")
    await page.get_by_label("Kata sandi").fill(DEV_PASSWORD)
    await page.get_by_role("button", name="Masuk", exact=True).click()
    await expect(page.get_by_role("heading", name="Kotak masuk")).to_be_visible()
    return page


@pytest.mark.parametrize("viewport", [PC, PHONE], ids=["pc", "phone"])
async def test_a_coordinator_finds_filters_and_bulk_verifies_at_volume(
    browser: Browser, e2e_settings: StackSettings, day: Volume, viewport: dict[str, int]
) -> None:
    base = e2e_settings.url("portal")
    page = await coordinator(browser, base, viewport)
    # a number typed as it was read over the phone opens its case
    await page.get_by_label("Cari nomor laporan atau kata").fill(day.others[7].lower())
    await page.get_by_role("button", name="Cari", exact=True).click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text(day.others[7])
    assert await too_wide(page) == []
    assert await serious(page) == []
    # the words of this day's reports: all 250, counted, by pages
    await page.goto(f"{base}/kerja")
    await page.get_by_label("Cari nomor laporan atau kata").fill(day.marker)
    await page.get_by_role("button", name="Cari", exact=True).click()
    await expect(page.locator("#jumlah")).to_contain_text("250 laporan · halaman 1 dari 10")
    assert await too_wide(page) == []
    assert await serious(page) == []
    # overdue only: none of today's is late, and the page says so in words
    await page.locator("summary", has_text="Saring dan urutkan").click()
    await page.get_by_label("Hanya yang terlambat").check()
    await page.get_by_role("button", name="Tampilkan").click()
    await expect(page).to_have_url(re.compile(r"terlambat=1"))
    await expect(page.locator("#jumlah")).to_contain_text("Tidak ada laporan di sini.")
    # possible repeats, grouped under their original, 50 a page
    await page.goto(f"{base}/kerja?cari={day.marker}&mirip=1&per=50&urut=terlama")
    rows = page.locator("table.inbox tbody tr")
    await expect(rows.first).to_contain_text("mungkin sama dengan")
    assert await too_wide(page) == []
    assert await serious(page) == []
    # ten chosen; meanwhile a colleague verifies one of them through the API
    start = 0 if viewport is PC else 10
    chosen = day.repeats[start : start + 10]
    for tid in chosen:
        await page.get_by_label(f"Pilih {tid}").check()
    async with httpx.AsyncClient(base_url=e2e_settings.url("routing")) as api:
        taken = await api.post(
            f"/api/v1/cases/{chosen[3]}/verify",
            json={},
            headers={"Authorization": f"Bearer {KEPRI}"},
        )
        assert taken.status_code == 200, taken.text
    await page.get_by_label("Tindakan", exact=True).select_option("verify")
    await page.get_by_role("button", name="Jalankan untuk yang dipilih").click()
    await expect(page.get_by_role("status")).to_contain_text(
        "9 laporan selesai diproses, 1 ditolak"
    )
    refused = page.locator("ul.refused li")
    await expect(refused).to_have_count(1)
    await expect(refused).to_contain_text(chosen[3])
    await expect(refused).to_contain_text("Lampu jalan Engku Putri mati")
    assert await too_wide(page) == []
    assert await serious(page) == []
    # the audit log names what was done, in words
    await page.goto(f"{base}/kerja/audit?kasus={chosen[0]}")
    await expect(page.locator("tbody")).to_contain_text("Verifikasi dan teruskan")
    assert await too_wide(page) == []
    assert await serious(page) == []
    await page.context.close()


async def test_the_identity_is_never_shown_without_a_reason(
    browser: Browser, e2e_settings: StackSettings, day: Volume
) -> None:
    base = e2e_settings.url("portal")
    async with httpx.AsyncClient(base_url=e2e_settings.url("intake")) as api:
        made = await api.post(
            "/api/v1/staff/complaints",
            json={
                "channel": "walk_in",
                "type": "pengaduan",
                "title": f"Pelabuhan rakyat rusak {day.marker}",
                "description": "Dermaga kayu pelabuhan rakyat patah di dua tempat.",
                "category": "infrastruktur",
                "region_code": "21.72",
                "anonymous": False,
                "reporter": {"name": "Wan Syarifah", "phone": "+6281277001122"},
            },
            headers={"Authorization": f"Bearer {KEPRI}"},
        )
    tid = made.json()["tracking_id"]
    page = await coordinator(browser, base, PC)

    async def opened() -> bool:
        await page.goto(f"{base}/kerja/kasus/{tid}")
        return await page.get_by_label("Alasan melihat identitas").count() == 1

    await eventually(opened, timeout=30)
    button = page.get_by_role("button", name=re.compile("Tampilkan identitas pelapor"))
    await button.click()  # no reason: the browser keeps the form
    assert await page.locator("#f-reason:invalid").count() == 1
    await page.get_by_label("Alasan melihat identitas").fill("cek")
    await button.click()
    assert await page.get_by_text("Wan Syarifah").count() == 0
    await page.get_by_label("Alasan melihat identitas").fill("menelepon pelapor soal letak dermaga")
    await button.click()
    await expect(page.locator("#identitas")).to_contain_text("Wan Syarifah")
    assert await serious(page) == []
    await page.context.close()


async def test_the_directory_is_edited_through_forms_and_a_revision_comes_back(
    browser: Browser, e2e_settings: StackSettings, day: Volume
) -> None:
    base = e2e_settings.url("portal")
    page = await coordinator(browser, base, PC)
    await page.goto(f"{base}/kerja/direktori")
    await expect(page.get_by_label("Batas waktu verifikasi (hari kerja)")).to_be_visible()
    assert await serious(page) == []
    await page.get_by_role("link", name=re.compile("Ubah .*Pekerjaan Umum.*Kota Batam")).click()
    await expect(page).to_have_url(re.compile(r"/kerja/direktori/instansi/21\.71\.pupr"))
    await expect(page.get_by_role("heading", name=re.compile("Ubah instansi"))).to_be_visible()
    assert await serious(page) == []
    original = await page.get_by_label("Nama instansi").input_value()
    # a category routing does not know: refused by routing, said at the field
    categories = page.get_by_label("Kategori yang ditangani")
    await categories.fill("infrastruktur, jalan_tol")
    await page.get_by_role("button", name="Simpan instansi").click()
    error = page.locator("#e-agency-categories")
    await expect(error).to_contain_text("jalan_tol")
    await expect(categories).to_have_attribute("aria-invalid", "true")
    assert await serious(page) == []
    # a new name saves as a new revision
    await categories.fill("infrastruktur")
    await page.get_by_label("Nama instansi").fill(f"{original} ({day.marker})")
    await page.get_by_role("button", name="Simpan instansi").click()
    await expect(page.get_by_role("status")).to_contain_text("tersimpan sebagai revisi baru")
    await expect(page.locator("main")).to_contain_text(f"({day.marker})")
    # ... and the one before it comes back
    await page.get_by_role("button", name=re.compile("Kembalikan revisi")).first.click()
    await expect(page.get_by_role("status")).to_contain_text("tersimpan sebagai revisi baru")
    await expect(page.locator("main")).not_to_contain_text(f"({day.marker})")
    assert await too_wide(page) == []
    await page.context.close()


@pytest.mark.parametrize("viewport", [PC, PHONE], ids=["pc", "phone"])
async def test_every_staff_page_is_clean_and_fits(
    browser: Browser, e2e_settings: StackSettings, day: Volume, viewport: dict[str, int]
) -> None:
    base = e2e_settings.url("portal")
    page = await coordinator(browser, base, viewport)
    for path in (
        "/kerja",
        f"/kerja/kasus/{day.original}",
        "/kerja/lapor",
        "/kerja/dasbor",
        "/kerja/direktori",
        "/kerja/direktori/aturan/baru",
        "/kerja/akun",
        "/kerja/akun/saya",
        "/kerja/audit",
    ):
        await page.goto(f"{base}{path}")
        assert await too_wide(page) == [], path
        assert await serious(page) == [], path
    await page.context.close()
