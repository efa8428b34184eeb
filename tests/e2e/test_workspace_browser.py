"""The staff workspace in a real browser (Debian's Chromium, Playwright), phone-sized, on the
running stack: people sign in as themselves and do their daily work; axe-core on every staff
page. Accounts are the development ones ``make run`` seeds (their password is public)."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page, expect

from lapor_devstack.settings import StackSettings
from lapor_devstack.stack import Stack
from lapor_kit.auth import DEV_SIGNING_KEY, SigningKey, issue
from lapor_portal.seed import DEV_PASSWORD
from tests.e2e.test_portal_browser import PHONE, fill_report, send
from tests.e2e.test_portal_browser import browser as browser  # the same Chromium fixture

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]


async def person(browser: Browser) -> Page:
    """A browser of one's own (cookies: one session per person)."""
    context = await browser.new_context(viewport=PHONE)
    return await context.new_page()


async def serious(page: Page) -> list[str]:
    result = await Axe().run(page)
    return [
        f"{v['id']}: {[n['target'] for n in v['nodes']][:3]}"
        for v in result.response["violations"]
        if v.get("impact") in ("serious", "critical")
    ]


async def sign_in(page: Page, base: str, username: str, password: str = DEV_PASSWORD) -> None:
    await page.goto(f"{base}/masuk")
    await page.get_by_label("Nama pengguna").fill(username)
    await page.get_by_label("Kata sandi").fill(password)
    await page.get_by_role("button", name="Masuk", exact=True).click()


async def open_from_inbox(page: Page, base: str, tid: str) -> None:
    """Waits for the case to reach this person's inbox, then opens it from there."""
    for _ in range(60):
        await page.goto(f"{base}/kerja")
        link = page.get_by_role("link", name=re.compile(tid))
        if await link.count():
            await link.click()
            await expect(page.get_by_role("heading", level=1)).to_contain_text(tid)
            return
        await page.wait_for_timeout(1000)
    raise AssertionError(f"{tid} never reached the inbox")


async def test_an_agency_declines_the_next_follows_up_and_the_reporter_sees_it(
    browser: Browser, e2e_settings: StackSettings
) -> None:
    base = e2e_settings.url("portal")
    # a citizen files a report (Kota Banjarmasin, a road): it goes to the city's PUPR
    citizen = await person(browser)
    await fill_report(citizen, base, f"Jalan provinsi rusak {uuid.uuid4().hex[:6]}")
    await send(citizen)
    tracking = citizen.locator("#tracking-id")
    await expect(tracking).to_have_text(re.compile(r"LPR-[0-9A-Z]{10}"))
    tid = await tracking.inner_text()

    # the city's PUPR staff signs in, finds it, looks at the reporter and declines it
    city = await person(browser)
    await city.goto(f"{base}/kerja")
    await expect(city).to_have_url(re.compile("/masuk"))  # no session: sign in first
    assert await serious(city) == []
    await sign_in(city, base, "banjarmasin.pupr")
    await expect(city.get_by_role("heading", name="Kotak masuk")).to_be_visible()
    assert await serious(city) == []
    await open_from_inbox(city, base, tid)
    row = city.locator(".badge").first
    await expect(row).to_contain_text("hari kerja")  # the SLA badge
    assert await serious(city) == []
    await city.get_by_label("Alasan melihat identitas").fill("menghubungi pelapor")
    await city.get_by_role("button", name=re.compile("Tampilkan identitas pelapor")).click()
    await expect(city.locator("#identitas")).to_contain_text("Rina Wati")
    assert await serious(city) == []
    await city.locator("summary", has_text="Bukan wewenang kami").click()
    await city.get_by_label("Mengapa bukan wewenang").fill(
        "Ruas ini jalan provinsi, bukan jalan kota."
    )
    await city.get_by_label("Ke mana sebaiknya").select_option("63.pupr")
    await city.get_by_role("button", name="Lanjut: periksa tujuan").click()
    # a second step says where it will go before it goes
    await expect(city.locator("#tujuan")).to_contain_text(
        "Dinas Pekerjaan Umum dan Penataan Ruang Provinsi Kalimantan Selatan"
    )
    assert await serious(city) == []
    await city.get_by_role("button", name="Ya, kirim").click()
    await expect(city.get_by_role("status")).to_contain_text("Bukan wewenang kami")
    # it is no longer this agency's to act on: the buttons are gone, and a forged post is
    # refused by routing (the token says which agency this is)
    await expect(city.locator("summary", has_text="Kirim tindak lanjut")).to_have_count(0)
    token = await city.evaluate("document.querySelector('input[name=csrf]').value")
    refused = await city.request.post(
        f"{base}/kerja/kasus/{tid}/aksi/decline",
        form={"csrf": token, "text": "sekali lagi, bukan wewenang", "yakin": "1"},
    )
    assert refused.status == 403
    assert "Peran Anda tidak boleh" in await refused.text()

    # the province's PUPR gets it and follows up
    province = await person(browser)
    await sign_in(province, base, "kalsel.pupr")
    await open_from_inbox(province, base, tid)
    await province.locator("summary", has_text="Kirim tindak lanjut").click()
    await province.get_by_label("Tindak lanjut").fill("Ruas sudah kami tambal pagi ini.")
    await province.get_by_role("button", name="Kirim tindak lanjut").click()
    await expect(province.get_by_role("status")).to_contain_text("Kirim tindak lanjut")
    assert await serious(province) == []
    # closing is not the agency's to do: a coordinator's button only
    assert await province.get_by_text("Tutup laporan").count() == 0

    # the reporter sees the answer on the status page
    for _ in range(60):
        await citizen.goto(f"{base}/laporan/{tid}")
        if await citizen.get_by_text("Ruas sudah kami tambal pagi ini.").count():
            break
        await citizen.wait_for_timeout(1000)
    else:
        raise AssertionError(f"the reporter never saw the follow-up: {await citizen.content()}")

    # the province coordinator reads the audit log: who saw the reporter's identity
    coordinator = await person(browser)
    await sign_in(coordinator, base, "kalsel.koordinator")
    # an action the lifecycle does not allow in this status shows its bilingual reason
    await coordinator.goto(f"{base}/kerja/kasus/{tid}")
    token = await coordinator.evaluate("document.querySelector('input[name=csrf]').value")
    illegal = await coordinator.request.post(
        f"{base}/kerja/kasus/{tid}/aksi/reject", form={"csrf": token, "text": "spam saja"}
    )
    assert illegal.status == 409
    assert "tidak dapat dilakukan pada laporan yang berstatus" in await illegal.text()
    for path in ("/kerja", "/kerja/dasbor", "/kerja/direktori", "/kerja/akun", "/kerja/akun/saya"):
        await coordinator.goto(f"{base}{path}")
        assert await serious(coordinator) == [], path
    await coordinator.goto(f"{base}/kerja/audit?kasus={tid}")
    rows = coordinator.locator("tbody tr")
    await expect(rows.filter(has_text="Melihat identitas pelapor")).to_contain_text(
        "alasan: menghubungi pelapor"
    )
    await expect(rows.filter(has_text="Bukan wewenang kami")).to_contain_text("banjarmasin.pupr")
    await expect(rows.filter(has_text="Kirim tindak lanjut")).to_contain_text("kalsel.pupr")
    assert "identity_viewed" not in await coordinator.locator("main").inner_text()
    assert await serious(coordinator) == []
    async with coordinator.expect_download() as got:
        await coordinator.get_by_role("link", name="Unduh CSV").click()
    csv_text = (await (await got.value).path()).read_text()
    assert re.search(
        rf"banjarmasin\.pupr,Admin instansi,[^,]*Kalimantan Selatan,{tid},"
        "Melihat identitas pelapor,alasan: menghubungi pelapor",
        csv_text,
    )

    # another province's coordinator sees it neither in the workspace nor through the API
    other = await person(browser)
    await sign_in(other, base, "sulsel.koordinator")
    await other.goto(f"{base}/kerja?status=semua")
    assert await other.get_by_text(tid).count() == 0
    await other.goto(f"{base}/kerja/kasus/{tid}")
    await expect(other.get_by_role("heading", level=1)).to_have_text("Laporan tidak ditemukan.")
    await other.goto(f"{base}/kerja/audit?kasus={tid}")
    assert await other.locator("tbody tr").count() == 0
    sulsel = issue(DEV_SIGNING_KEY, subject="k-73", role="province_coordinator", tenant="73")
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {sulsel}"}) as api:
        case = await api.get(f"{e2e_settings.url('routing')}/api/v1/cases/{tid}")
        report = await api.get(f"{e2e_settings.url('intake')}/api/v1/staff/complaints/{tid}")
        who = await api.get(f"{e2e_settings.url('intake')}/api/v1/staff/complaints/{tid}/reporter")
        sent = await api.get(
            f"{e2e_settings.url('notify')}/api/v1/notifications", params={"tracking_id": tid}
        )
        inbox = await api.get(
            f"{e2e_settings.url('routing')}/api/v1/inbox", params={"status": "followed_up"}
        )
    assert (case.status_code, report.status_code, who.status_code) == (404, 404, 404)
    assert sent.json() == []
    assert tid not in inbox.text
    for page in (citizen, city, province, coordinator, other):
        await page.context.close()


async def test_accounts_are_made_by_coordinators_and_wrong_passwords_delay_only_strangers(
    browser: Browser, e2e_settings: StackSettings
) -> None:
    base = e2e_settings.url("portal")
    username = f"dinkes.{uuid.uuid4().hex[:6]}"
    coordinator = await person(browser)
    await sign_in(coordinator, base, "kalsel.koordinator")
    await coordinator.goto(f"{base}/kerja/akun")
    roles = await coordinator.get_by_label("Peran").locator("option").all_inner_texts()
    assert "Admin nasional" not in roles
    assert "Koordinator provinsi" not in roles
    await coordinator.get_by_label("Nama pengguna").fill(username)
    await coordinator.get_by_label("Nama lengkap").fill("Admin Dinkes Banjarmasin")
    await coordinator.get_by_label("Peran").select_option("agency_staff")
    await coordinator.get_by_label("Instansi (untuk admin instansi)").select_option("63.71.dinkes")
    await coordinator.get_by_role("button", name="Buat akun").click()
    temporary = await coordinator.locator("#kata-sandi-sementara code").inner_text()
    assert await serious(coordinator) == []

    # first sign-in: the temporary password must be changed before anything else
    staff = await person(browser)
    await sign_in(staff, base, username, temporary)
    await expect(staff).to_have_url(re.compile("/kerja/akun/saya"))
    await staff.goto(f"{base}/kerja")
    await expect(staff).to_have_url(re.compile("/kerja/akun/saya"))
    assert await serious(staff) == []
    chosen = f"Sandi-{uuid.uuid4().hex[:10]}"
    await staff.get_by_label("Kata sandi sekarang").fill(temporary)
    await staff.get_by_label("Kata sandi baru (paling sedikit 12 karakter)").fill(chosen)
    await staff.get_by_label("Ulangi kata sandi baru").fill(chosen)
    await staff.get_by_role("button", name="Simpan kata sandi").click()
    await expect(staff.get_by_role("heading", name="Kotak masuk")).to_be_visible()
    await expect(staff.locator(".lead")).to_contain_text("Dinas Kesehatan Kota Banjarmasin")
    await staff.get_by_role("button", name="Keluar").click()
    await expect(staff).to_have_url(re.compile("/masuk"))

    # a stranger's five wrong passwords make the username wait (even the right password
    # is not checked then), but never lock its owner out: on the device the owner signed
    # in on before, the right password still works
    stranger = await person(browser)
    for _ in range(5):
        await sign_in(stranger, base, username, "bukan-sandinya-12")
        await expect(stranger.get_by_role("alert")).to_contain_text("salah")
    await sign_in(stranger, base, username, chosen)
    await expect(stranger.get_by_role("alert")).to_contain_text("Coba lagi dalam")
    await sign_in(staff, base, username, chosen)
    await expect(staff.get_by_role("heading", name="Kotak masuk")).to_be_visible()
    await staff.get_by_role("button", name="Keluar").click()
    # an unknown username waits the same way (nothing tells it apart from a real one)
    ghost = f"tidak.ada.{uuid.uuid4().hex[:4]}"
    for _ in range(5):
        await sign_in(stranger, base, ghost, "bukan-sandinya-12")
        await expect(stranger.get_by_role("alert")).to_contain_text("salah")
    await sign_in(stranger, base, ghost, "bukan-sandinya-12")
    await expect(stranger.get_by_role("alert")).to_contain_text("Coba lagi dalam")

    # the coordinator resets it: a new temporary password
    await coordinator.goto(f"{base}/kerja/akun")
    await coordinator.get_by_role("button", name=f"Atur ulang sandi {username}").click()
    fresh = await coordinator.locator("#kata-sandi-sementara code").inner_text()
    await sign_in(staff, base, username, fresh)
    await expect(staff).to_have_url(re.compile("/kerja/akun/saya"))
    # ... and disables it: the open session ends at once
    await coordinator.get_by_role("button", name=f"Nonaktifkan {username}").click()
    # (the click only sends the form: wait for its answer before the other browser looks)
    await expect(coordinator.get_by_role("button", name=f"Aktifkan {username}")).to_be_visible()
    await staff.goto(f"{base}/kerja")
    await expect(staff).to_have_url(re.compile("/masuk"))
    await coordinator.goto(f"{base}/kerja/audit")
    await expect(coordinator.locator("tbody")).to_contain_text("Menonaktifkan akun")
    await coordinator.context.close()
    await staff.context.close()
    await stranger.context.close()


async def test_a_province_sign_on_user_works_with_the_mapped_role(
    browser: Browser, e2e_settings: StackSettings
) -> None:
    base = e2e_settings.url("portal")
    page = await person(browser)
    await page.goto(f"{base}/masuk")
    await page.get_by_role("link", name="Masuk dengan SSO Sulsel").click()
    await page.get_by_role("button", name="andi.sulsel").click()  # the mock provider's page
    await expect(page.get_by_role("heading", name="Kotak masuk")).to_be_visible()
    lead = page.locator(".lead")
    await expect(lead).to_contain_text("Andi Makassar")
    await expect(lead).to_contain_text("Admin instansi")
    await expect(lead).to_contain_text("Dinas Pekerjaan Umum dan Penataan Ruang Kota Makassar")
    assert await serious(page) == []
    # a role the province's mapping does not know is refused, with no account made
    await page.context.clear_cookies()
    await page.goto(f"{base}/masuk/sso/sulsel")
    await page.get_by_role("button", name="budi.sulsel").click()
    await expect(page.get_by_text("Masuk lewat sistem provinsi ditolak")).to_be_visible()
    await page.goto(f"{base}/kerja")
    await expect(page).to_have_url(re.compile("/masuk"))
    await page.context.close()


async def test_a_token_signed_by_an_unknown_key_is_refused_by_every_service(
    running_stack: Stack, e2e_settings: StackSettings
) -> None:
    """Each service's staff door with a token of a key nobody published (and one claiming the
    development key's id): 401; the same request with a published key gets through."""
    stranger = SigningKey.generate()
    impostor = SigningKey(kid=DEV_SIGNING_KEY.kid, private=stranger.private)
    claims = {"subject": "x", "role": "national_admin", "tenant": "*"}
    doors = [
        ("GET", f"{e2e_settings.url('routing')}/api/v1/inbox", {}),
        ("GET", f"{e2e_settings.url('intake')}/api/v1/staff/complaints/LPR-0000000000", {}),
        ("GET", f"{e2e_settings.url('notify')}/api/v1/agencies/63.71.pupr/channels", {}),
        ("GET", f"{e2e_settings.url('metrics')}/api/v1/reports/hotspots", {"province": "63"}),
    ]
    async with httpx.AsyncClient(timeout=10.0) as api:
        for method, url, params in doors:
            for key in (stranger, impostor):
                bad = await api.request(
                    method,
                    url,
                    params=params,
                    headers={"Authorization": f"Bearer {issue(key, **claims)}"},
                )
                assert bad.status_code == 401, (url, bad.text)
            good = await api.request(
                method,
                url,
                params=params,
                headers={"Authorization": f"Bearer {issue(DEV_SIGNING_KEY, **claims)}"},
            )
            assert good.status_code in (200, 404), (url, good.text)
        # the portal publishes public keys only, and they are not the development key
        jwks = (await api.get(f"{e2e_settings.url('portal')}/.well-known/jwks.json")).json()
    assert jwks["keys"]
    assert all(set(k) == {"kty", "crv", "x", "kid", "use", "alg"} for k in jwks["keys"])
    assert DEV_SIGNING_KEY.kid not in {k["kid"] for k in jwks["keys"]}


async def test_the_workspace_works_with_javascript_off(
    browser: Browser, e2e_settings: StackSettings
) -> None:
    """Sign-in, the inbox's filters and the coordinator's pages, as plain HTML."""
    base = e2e_settings.url("portal")
    context = await browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = await context.new_page()
    await sign_in(page, base, "kalsel.koordinator")
    await expect(page.get_by_role("heading", name="Kotak masuk")).to_be_visible()
    await page.locator("summary", has_text="Saring dan urutkan").click()
    await page.get_by_label("Status").select_option("semua")
    await page.get_by_role("button", name="Tampilkan").click()
    await expect(page).to_have_url(re.compile(r"status=semua"))
    # (axe needs JavaScript: it runs on these pages in the tests above)
    for path, heading in (
        ("/kerja/dasbor", "Dasbor provinsi"),
        ("/kerja/lapor", "Catat laporan"),
        ("/kerja/audit", "Log audit"),
    ):
        await page.goto(f"{base}{path}")
        await expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
    await context.close()
