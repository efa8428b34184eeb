"""The portal in a real browser (Debian's Chromium driven by Playwright), phone-sized, with
JavaScript on (htmx boosts links and forms) and off; axe-core on every page."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page, async_playwright, expect

from lapor_devstack.settings import StackSettings
from lapor_devstack.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 360, "height": 740}
HAVE_CHROMIUM = Path(CHROMIUM).exists()


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def browser(running_stack: Stack) -> AsyncIterator[Browser]:
    assert HAVE_CHROMIUM, "make test installs Debian's chromium (make chromium)"
    async with async_playwright() as p:
        launched = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield launched
        finally:
            await launched.close()


async def new_page(browser: Browser, *, javascript: bool = True) -> Page:
    context = await browser.new_context(viewport=PHONE, java_script_enabled=javascript)
    return await context.new_page()


async def fill_report(page: Page, base: str, title: str) -> None:
    await page.goto(f"{base}/lapor")
    await page.get_by_label("Judul laporan").fill(title)
    # words of its own: a similar text would be held as a repeat of an open report
    words = " ".join(uuid.uuid4().hex[:7] for _ in range(6))
    await page.get_by_label("Isi laporan").fill(f"Laporan {words} mohon ditindaklanjuti.")
    await page.get_by_label("Kategori").select_option("infrastruktur")
    await page.get_by_label("Kabupaten/kota").select_option("63.71")
    await page.get_by_label("Nama").fill("Rina Wati")
    await page.get_by_role("textbox", name="Email").fill(
        f"rina.{uuid.uuid4().hex[:6]}@warga.example"
    )


async def send(page: Page) -> None:
    """Kirim laporan; when the words suggest another category, the chosen one is kept; when
    similar reports are offered first, "Masalah saya berbeda" files this one as typed."""
    await page.get_by_role("button", name="Kirim laporan").click()
    different = page.get_by_role("button", name="Masalah saya berbeda, kirim laporan saya")
    keep = page.get_by_role("button", name=re.compile("^Tidak, tetap "))
    tracking = page.locator("#tracking-id")
    step = different.or_(tracking).or_(page.locator(".error-summary")).or_(keep)
    await expect(step).to_be_visible()
    if await keep.count():  # the words suggest another category: the chosen one stays
        await keep.click()
        await expect(different.or_(tracking).or_(page.locator(".error-summary"))).to_be_visible()
    if await different.count():
        await different.click()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
async def test_a_report_filed_in_a_phone_browser_reaches_an_agency(
    browser: Browser, e2e_settings: StackSettings, javascript: bool
) -> None:
    base = e2e_settings.url("portal")
    page = await new_page(browser, javascript=javascript)
    title = f"Jalan rusak {uuid.uuid4().hex[:8]}"
    await fill_report(page, base, title)
    await send(page)
    tracking = page.locator("#tracking-id")
    await expect(tracking).to_have_text(re.compile(r"LPR-[0-9A-Z]{10}"))
    tid = await tracking.inner_text()
    assert "secret" not in page.url
    await expect(page.locator("#secret")).not_to_be_empty()
    copy = page.get_by_role("button", name="Salin")
    if javascript:  # enhancements appear only where they work
        await expect(copy).to_be_visible()
    else:
        await expect(copy).to_be_hidden()
    for _ in range(60):
        await page.goto(f"{base}/laporan/{tid}")
        if await page.get_by_text("Diteruskan ke instansi").count():
            break
        await page.wait_for_timeout(1000)
    await expect(page.get_by_text("Diteruskan ke instansi").first).to_be_visible()
    await expect(page.get_by_role("heading", name=title)).to_be_visible()
    await page.context.close()


async def test_field_errors_show_beside_their_fields_and_keep_what_was_typed(
    browser: Browser, e2e_settings: StackSettings
) -> None:
    base = e2e_settings.url("portal")
    page = await new_page(browser)
    await page.goto(f"{base}/lapor")
    await page.get_by_label("Judul laporan").fill("abc")
    await page.get_by_label("Isi laporan").fill("Cukup panjang untuk isi laporan.")
    await page.get_by_role("button", name="Kirim laporan").click()
    await expect(page.locator("#e-title")).to_contain_text("Tulis judul laporan")
    await expect(page.get_by_label("Isi laporan")).to_have_value("Cukup panjang untuk isi laporan.")
    await page.context.close()


@pytest.mark.parametrize("javascript", [True, False])
async def test_an_empty_form_gets_every_reason_at_once_in_words(
    browser: Browser, e2e_settings: StackSettings, javascript: bool
) -> None:
    """One round of errors: the unchosen category, the place, the missing name and contact
    are all named at once, in words, with no field name or code."""
    base = e2e_settings.url("portal")
    context = await browser.new_context(viewport=PHONE, java_script_enabled=javascript)
    page = await context.new_page()
    await page.goto(f"{base}/lapor")
    await page.get_by_role("button", name="Kirim laporan").click()
    summary = page.locator(".error-summary")
    await expect(summary).to_be_visible()
    text = await summary.inner_text()
    for expected in (
        "Tulis judul laporan",
        "Ceritakan masalahnya",
        "Pilih kategori laporan.",
        "Pilih kabupaten/kota",
        "Tulis nama Anda, atau centang Anonim.",
        "Tulis email atau nomor telepon",
    ):
        assert expected in text, (expected, text)
    assert "terlalu pendek" not in text  # the list of categories has no length
    assert not re.search(r"region_code|reporter\.|lat/lon|category", text), text
    # every reason links to its field
    await summary.get_by_role("link", name="Pilih kategori laporan.").click()
    await expect(page).to_have_url(re.compile("#f-category$"))
    await expect(page.locator("#f-category")).to_be_in_viewport()
    await context.close()


async def test_no_serious_accessibility_violation_on_any_page(
    browser: Browser, e2e_settings: StackSettings
) -> None:
    base = e2e_settings.url("portal")
    page = await new_page(browser)
    axe = Axe()
    found = {}
    for path in (
        "/",
        "/lapor",
        "/lacak",
        "/statistik",
        "/publik",
        "/privasi",
        "/aksesibilitas",
        "/bantuan",
        "/kontak",
        "/tidak-ada",
        "/bahasa/en?next=/bantuan",
        "/privasi",
        "/tidak-ada",
        "/bahasa/id?next=/",
    ):
        await page.goto(f"{base}{path}")
        result = await axe.run(page)
        bad = [
            v["id"]
            for v in result.response["violations"]
            if v.get("impact") in ("serious", "critical")
        ]
        found[path] = bad
    # a form re-rendered with errors too
    await page.goto(f"{base}/lapor")
    await page.get_by_role("button", name="Kirim laporan").click()
    await expect(page.locator(".error-summary")).to_be_visible()
    result = await axe.run(page)
    found["/lapor (errors)"] = [
        v["id"] for v in result.response["violations"] if v.get("impact") in ("serious", "critical")
    ]
    assert all(not v for v in found.values()), found
    # the keyboard: the first Tab reaches the skip link, which leads to the content
    await page.goto(f"{base}/")
    await page.keyboard.press("Tab")
    focused = await page.evaluate("document.activeElement.textContent")
    assert focused.strip() == "Langsung ke isi"
    await page.context.close()


@pytest.mark.parametrize("javascript", [True, False])
async def test_the_reporters_three_answers_and_a_keyboard_rating_in_the_browser(
    browser: Browser, e2e_settings: StackSettings, javascript: bool
) -> None:
    """The whole conversation in Chromium at 360 px, with JavaScript on and off; axe on the
    receipt and on the status page in each state."""
    import httpx

    from lapor_kit.auth import DEV_SIGNING_KEY, issue

    base = e2e_settings.url("portal")
    page = await new_page(browser, javascript=javascript)
    axe = Axe()

    async def serious() -> list[str]:
        if not javascript:
            return []  # axe runs in the page's JavaScript; the same pages are checked with it on
        result = await axe.run(page)
        return [
            v["id"]
            for v in result.response["violations"]
            if v.get("impact") in ("serious", "critical")
        ]

    await fill_report(page, base, f"Got mampet {uuid.uuid4().hex[:8]}")
    await send(page)
    tracking = page.locator("#tracking-id")
    await expect(tracking).to_have_text(re.compile(r"LPR-[0-9A-Z]{10}"))
    tid = await tracking.inner_text()
    assert await serious() == []
    staff = issue(
        DEV_SIGNING_KEY,
        subject="staf-pupr",
        role="agency_staff",
        tenant="63",
        agency_id="63.71.pupr",
    )

    async def wait_for(text: str) -> None:
        for _ in range(60):
            await page.goto(f"{base}/laporan/{tid}")
            if await page.get_by_text(text).count():
                return
            await page.wait_for_timeout(1000)
        raise AssertionError(f"{text!r} never appeared")

    async def agency_answers(text: str) -> None:
        async with httpx.AsyncClient(timeout=15.0) as api:
            r = await api.post(
                f"{e2e_settings.url('routing')}/api/v1/cases/{tid}/follow-up",
                headers={"Authorization": f"Bearer {staff}"},
                json={"text": text},
            )
            assert r.status_code == 200, r.text

    await wait_for("Diteruskan ke instansi")
    assert await serious() == []
    await agency_answers("Saluran sudah kami bersihkan.")
    await wait_for("Saluran sudah kami bersihkan.")
    assert await serious() == []
    # a question: the case stays open, the three answers stay on offer
    await page.get_by_label("Pesan Anda").fill("Apakah gorong-gorong di ujung gang juga?")
    await page.get_by_role("button", name="Kirim pesan").click()
    await expect(page.get_by_text("Pesan Anda terkirim ke instansi.")).to_be_visible()
    await expect(page.get_by_role("button", name="Selesai, terima kasih")).to_be_visible()
    # not solved: an empty reason is answered in words at its field
    await page.get_by_role("button", name="Kembalikan ke instansi").click()
    await expect(page.locator("#e-dispute-text")).to_contain_text("Tulis apa yang belum selesai")
    assert await serious() == []
    await page.get_by_label("Apa yang belum selesai?").fill("Masih tersumbat di ujung gang.")
    await page.get_by_role("button", name="Kembalikan ke instansi").click()
    await expect(page.get_by_text("dikembalikan ke instansi untuk ditindaklanjuti")).to_be_visible()
    await wait_for("Dikembalikan ke instansi")
    await agency_answers("Ujung gang juga sudah bersih.")
    await wait_for("Ujung gang juga sudah bersih.")
    await page.get_by_role("button", name="Selesai, terima kasih").click()
    await wait_for("Seberapa baik penanganannya?")  # the case closed: the rating is offered
    assert await serious() == []
    # the rating with the keyboard alone: into the scores, arrows to 5, on to the button
    await page.get_by_label("1", exact=True).focus()
    for _ in range(4):
        await page.keyboard.press("ArrowRight")
    assert await page.get_by_label("5", exact=True).is_checked()
    box = await page.locator("label[for=score-5]").bounding_box()
    assert box is not None
    assert box["height"] >= 44  # a tap target, not a 13 px circle
    assert box["width"] >= 44
    await page.keyboard.press("Tab")
    await page.keyboard.type("Cepat dan jelas.")
    await page.keyboard.press("Tab")
    async with page.expect_navigation():
        await page.keyboard.press("Enter")
    await wait_for("Selesai dan dinilai")
    await expect(page.get_by_text("5 dari 5")).to_be_visible()
    text = await page.locator("main").inner_text()
    assert not re.search(r"\b(case|complaint)\.[a-z_]+|reporter_[a-z]+", text), text
    assert await serious() == []
    await page.context.close()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
async def test_the_words_suggest_a_category_and_the_citizen_decides(
    browser: Browser, e2e_settings: StackSettings, javascript: bool
) -> None:
    """With the script the form says it while the citizen writes, and they may ignore it;
    without, the step before filing asks once ("Sepertinya ini tentang Air Bersih. Ganti?")."""
    base = e2e_settings.url("portal")
    page = await new_page(browser, javascript=javascript)
    await page.goto(f"{base}/lapor")
    await page.get_by_label("Kategori").select_option("infrastruktur")
    await page.get_by_label("Judul laporan").fill(f"Air mati {uuid.uuid4().hex[:6]}")
    await page.get_by_label("Isi laporan").fill(
        f"air pdam ga ngalir udh 3 hari di blok {uuid.uuid4().hex[:6]}, warga beli air galon"
    )
    await page.get_by_label("Kabupaten/kota").select_option("63.71")
    await page.get_by_label("Anonim").check()
    hint = page.locator("#saran")
    if javascript:
        await expect(hint).to_contain_text("Sepertinya ini tentang Air Bersih.", timeout=20000)
        await expect(page.get_by_label("Kategori")).to_have_value("infrastruktur")  # not changed
        violations = (await Axe().run(page)).response["violations"]
        assert [v["id"] for v in violations if v.get("impact") in ("serious", "critical")] == []
        await send(page)  # ignored: the citizen's choice is filed, nothing asked again
    else:
        await expect(hint).to_be_hidden()
        await page.get_by_role("button", name="Kirim laporan").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text(
            "Sepertinya ini tentang Air Bersih. Ganti?"
        )
        await page.get_by_role("button", name="Ya, ganti ke Air Bersih").click()
        different = page.get_by_role("button", name="Masalah saya berbeda, kirim laporan saya")
        tracking = page.locator("#tracking-id")
        await expect(different.or_(tracking)).to_be_visible()
        if await different.count():
            await different.click()
    tracking = page.locator("#tracking-id")
    await expect(tracking).to_have_text(re.compile(r"LPR-[0-9A-Z]{10}"))
    tid = await tracking.inner_text()
    secret = await page.locator("#secret").inner_text()
    async with httpx.AsyncClient() as api:
        view = await api.get(
            f"{e2e_settings.url('intake')}/api/v1/complaints/{tid}",
            headers={"X-Lapor-Secret": secret},
        )
    assert view.json()["category"] == ("infrastruktur" if javascript else "air-bersih")
    await page.context.close()
