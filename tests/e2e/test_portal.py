"""The citizen portal on the running stack, as a browser without JavaScript uses it: plain
GETs and form POSTs with the cookies the portal sets (real intake, routing, notify and
metrics behind it)."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import AsyncIterator
from email import message_from_string, policy
from typing import Any

import httpx
import pytest
import pytest_asyncio

from lapor_devstack.settings import StackSettings
from lapor_devstack.stack import Stack
from lapor_kit.auth import DEV_SIGNING_KEY, issue
from tests.support import eventually, photo

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
    sent = await browser.post("/lapor", data=data)
    return await past_similar(browser, sent)


async def past_similar(browser: httpx.AsyncClient, sent: httpx.Response) -> httpx.Response:
    """Similar reports are offered before filing when there are some: "Masalah saya
    berbeda" sends the report as typed (the form, its files included, is carried by the
    step's hidden fields)."""
    if sent.status_code == 200 and 'name="kategori_pilih"' in sent.text:
        # the words suggest another category: the chosen one stays
        chosen = re.findall(r'name="kategori_pilih" value="([^"]*)"', sent.text)[-1]
        kept: dict[str, list[str]] = {"kategori_pilih": [chosen]}
        for name, value in re.findall(
            r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', sent.text
        ):
            kept.setdefault(name, []).append(html.unescape(value))
        sent = await browser.post("/lapor", data=kept)
    if sent.status_code != 200 or 'name="mirip_dilihat"' not in sent.text:
        return sent
    carried: dict[str, list[str]] = {"dukung": [""]}
    for name, value in re.findall(
        r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', sent.text
    ):
        carried.setdefault(name, []).append(html.unescape(value))
    return await browser.post("/lapor", data=carried)


CODES = re.compile(r"\b(case|complaint)\.[a-z_]+|reporter_[a-z]+|region_code|notify_via")


def no_codes(html: str) -> None:
    """People read words: no event type, status key or field name on a citizen's page."""
    visible = re.sub(r"<[^>]+>", " ", html)
    assert not CODES.search(visible), CODES.search(visible)


async def test_the_conversation_after_filing_without_javascript(
    browser: httpx.AsyncClient, e2e_settings: StackSettings
) -> None:
    """Filed, dispatched, followed up; then the reporter's three answers do what they say:
    a message keeps the case open and reaches the agency's inbox and e-mail, "belum
    selesai" sends it back, "selesai" closes it, and the rating follows. The history names
    who said what, in words."""
    text = words()
    email = f"siti.{uuid.uuid4().hex[:6]}@warga.example"
    sent = await file_report(browser, **text, name="Siti Aminah", email=email)
    assert sent.status_code == 303
    receipt_url = sent.headers["location"]
    tid = receipt_url.rsplit("/", 1)[1]
    assert re.fullmatch(r"LPR-[0-9A-Z]{10}", tid)
    assert "secret" not in receipt_url
    receipt = await browser.get(receipt_url)
    assert tid in receipt.text
    assert "Apa selanjutnya" in receipt.text
    assert "3 hari kerja" in receipt.text  # the verification date, in working days
    no_codes(receipt.text)
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
    assert "Anda</strong>: Laporan diterima" in status  # who said what, in words
    no_codes(status)

    # another browser follows it with the tracking id and the secret (a POST, no query); a
    # notice's link fills in the tracking id (never the secret)
    async with httpx.AsyncClient(base_url=str(browser.base_url), timeout=15.0) as other:
        form = await other.get("/lacak", params={"nomor": tid})
        assert f'value="{tid}"' in form.text
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
        assert "Kirim pesan" in mine.text  # the owner may write to the case
        assert "Selesai, terima kasih" not in mine.text  # nothing to answer yet

    staff = issue(
        DEV_SIGNING_KEY,
        subject="staf-pupr",
        role="agency_staff",
        tenant="63",
        agency_id="63.71.pupr",
    )
    routing = e2e_settings.url("routing")

    async def follow_up(words_: str) -> str:
        async with httpx.AsyncClient(timeout=15.0) as api:
            done = await api.post(
                f"{routing}/api/v1/cases/{tid}/follow-up",
                headers={"Authorization": f"Bearer {staff}"},
                json={"text": words_},
            )
            assert done.status_code == 200, done.text

        async def answered() -> str | None:
            page = await browser.get(f"/laporan/{tid}")
            return (
                page.text if words_ in page.text and "Selesai, terima kasih" in page.text else None
            )

        page: str = await eventually(answered, timeout=60)
        return page

    page = await follow_up("Lubang sudah kami tambal hari ini.")
    # three answers, each saying what it does before it is pressed
    assert "Laporan ditutup. Setelah itu Anda dapat memberi penilaian." in page
    assert "harus menindaklanjutinya lagi dalam 5 hari kerja" in page
    assert "Laporan tetap terbuka" in page
    no_codes(page)
    # a message: a question to the agency; the case stays open, nothing closes by surprise
    empty = await browser.post(f"/laporan/{tid}/message", data={"csrf": hidden(page, "csrf")})
    assert empty.status_code == 422
    assert "Tulis pesan Anda." in empty.text
    assert "kedaluwarsa" not in empty.text  # an empty form is not an expired one
    asked = await browser.post(
        f"/laporan/{tid}/message",
        data={"csrf": hidden(page, "csrf"), "text": "Apakah sisi kiri jalan juga ditambal?"},
    )
    assert asked.status_code == 303
    after = (await browser.get(asked.headers["location"])).text
    assert "Pesan Anda terkirim ke instansi" in after
    assert "Ditindaklanjuti instansi" in after  # still open, still the reporter's turn
    assert "Selesai, terima kasih" in after

    async with httpx.AsyncClient(timeout=15.0) as api:

        async def agency_heard() -> list[dict[str, Any]] | None:
            inbox = await api.get(
                f"{e2e_settings.url('notify')}/api/v1/agencies/63.71.pupr/notifications",
                headers={"Authorization": f"Bearer {staff}"},
            )
            found = [
                n
                for n in inbox.json()
                if n["tracking_id"] == tid
                and n["cause_event_type"] == "case.reporter_messaged"
                and n["channel"] == "inbox"
            ]
            return found or None

        heard = await eventually(agency_heard, timeout=60)
        assert "sisi kiri jalan" in heard[0]["body"]

        async def mailed() -> list[dict[str, Any]] | None:
            mails = (
                await api.get(
                    f"http://127.0.0.1:{e2e_settings.mail_http_port}/messages",
                    params={"tracking_id": tid},
                )
            ).json()
            found = [m for m in mails if "Pesan dari pelapor" in m["subject"]]
            return found or None

        assert await eventually(mailed, timeout=60)
        reporter_mails = (
            await api.get(
                f"http://127.0.0.1:{e2e_settings.mail_http_port}/messages",
                params={"tracking_id": tid},
            )
        ).json()
        bodies = []
        for m in reporter_mails:
            if email in m["to"]:
                raw = (
                    await api.get(
                        f"http://127.0.0.1:{e2e_settings.mail_http_port}/messages/{m['id']}"
                    )
                ).text
                mail = message_from_string(raw, policy=policy.default)
                part = mail.get_body(preferencelist=("plain",))
                bodies.append(part.get_content() if part is not None else "")
        assert bodies
        assert all(f"/lacak?nomor={tid}" in b for b in bodies)  # every notice leads back
        assert all(secret.group(1) not in b for b in bodies)  # never with the secret

    # not solved: back to the agency, with the reason
    empty = await browser.post(f"/laporan/{tid}/dispute", data={"csrf": hidden(page, "csrf")})
    assert "Tulis apa yang belum selesai" in empty.text
    disputed = await browser.post(
        f"/laporan/{tid}/dispute",
        data={"csrf": hidden(page, "csrf"), "text": "Lubang di sisi kiri belum ditambal."},
    )
    assert disputed.status_code == 303

    async def back_with_agency() -> bool:
        text = (await browser.get(f"/laporan/{tid}")).text
        return "Dikembalikan ke instansi" in text and "Selesai, terima kasih" not in text

    assert await eventually(back_with_agency, timeout=60)
    page = await follow_up("Sisi kiri juga sudah kami tambal.")
    accepted = await browser.post(f"/laporan/{tid}/accept", data={"csrf": hidden(page, "csrf")})
    assert accepted.status_code == 303

    async def closed() -> str | None:
        page = await browser.get(f"/laporan/{tid}")
        return page.text if "Beri penilaian" in page.text else None

    page = await eventually(closed, timeout=60)
    assert "Pelapor menyatakan masalahnya sudah selesai" in page
    unscored = await browser.post(f"/laporan/{tid}/rate", data={"csrf": hidden(page, "csrf")})
    assert unscored.status_code == 422
    assert "Pilih nilai 1 sampai 5." in unscored.text
    rated = await browser.post(
        f"/laporan/{tid}/rate",
        data={"csrf": hidden(page, "csrf"), "score": "5", "comment": "Cepat, terima kasih."},
    )
    assert rated.status_code == 303

    async def is_rated() -> str | None:
        page = await browser.get(f"/laporan/{tid}")
        return page.text if "Selesai dan dinilai" in page.text else None

    page = await eventually(is_rated, timeout=60)
    assert "5 dari 5" in page  # the rating's score is shown
    # who said what, in words: the agency by name, the reporter as "Anda"
    assert "Dinas Pekerjaan Umum" in page
    assert "Anda</strong>: Mengirim pesan" in page
    assert "Anda</strong>: Menyatakan masalahnya belum selesai" in page
    no_codes(page)


async def test_an_invalid_form_comes_back_with_reasons_and_everything_typed(
    browser: httpx.AsyncClient,
) -> None:
    answer = await file_report(
        browser, title="abc", description="Deskripsi yang cukup panjang.", name="Budi"
    )
    assert answer.status_code == 422
    assert "Tulis judul laporan, 5 sampai 200 huruf." in answer.text
    # one round: the missing contact is named at once too, in words, with no field name
    assert "Tulis email atau nomor telepon" in answer.text
    no_codes(answer.text)
    assert 'value="abc"' in answer.text
    assert "Deskripsi yang cukup panjang." in answer.text
    assert 'value="Budi"' in answer.text
    english = await browser.get("/bahasa/en", params={"next": "/lapor"})
    assert english.status_code == 303
    again = await file_report(browser, title="abc", description="A long enough text here.")
    assert "Write a title of 5 to 200 characters." in again.text
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


async def test_public_means_verified_and_the_reporters_words_stay_theirs(
    browser: httpx.AsyncClient, e2e_settings: StackSettings
) -> None:
    """A report is on /publik and in Open311 only once verified; its public page shows the
    report and the agency's answers, but the reporter's own later words only if chosen."""
    text = words()
    first = await file_report(browser, **text, anonymous="1")
    tid = first.headers["location"].rsplit("/", 1)[1]

    async def verified() -> bool:
        return "Diteruskan ke instansi" in (await browser.get(f"/laporan/{tid}")).text

    assert await eventually(verified, timeout=60)
    # the same words again: linked as a repeat, it waits for a person to verify it
    second = await file_report(browser, **text, anonymous="1")
    waiting = second.headers["location"].rsplit("/", 1)[1]
    page = (await browser.get(f"/laporan/{tid}")).text
    sent = await browser.post(
        f"/laporan/{tid}/message",
        data={"csrf": hidden(page, "csrf"), "text": "Rumah saya nomor 12, dekat masjid."},
    )
    assert sent.status_code == 303
    intake = e2e_settings.url("intake")
    async with httpx.AsyncClient(base_url=str(browser.base_url), timeout=15.0) as stranger:
        listed = (await stranger.get("/publik")).text
        assert tid in listed
        assert waiting not in listed
        shown = await stranger.get(f"/laporan/{tid}")
        assert text["title"] in shown.text
        assert "Rumah saya nomor 12" not in shown.text  # the reporter's words stay theirs
        assert "Pelapor</strong>: Mengirim pesan" in shown.text  # that they wrote, not what
        assert (await stranger.get(f"/laporan/{waiting}")).status_code == 404
        one = await stranger.get(
            f"{intake}/open311/v2/requests/{waiting}.json", params={"jurisdiction_id": "63"}
        )
        assert one.status_code == 404
        every = await stranger.get(
            f"{intake}/open311/v2/requests.json", params={"jurisdiction_id": "63"}
        )
        assert waiting not in every.text
        assert tid in every.text
    # the reporter still reads their own words
    assert "Rumah saya nomor 12" in (await browser.get(f"/laporan/{tid}")).text


async def test_the_pages_people_expect_in_both_languages(browser: httpx.AsyncClient) -> None:
    """Privacy, accessibility, help and contact pages, linked from every footer; an unknown
    address is an HTML page in the reader's language, never JSON."""
    home = await browser.get("/")
    for path, words_id, words_en in (
        ("/privasi", "UU PDP", "Personal Data Protection"),
        ("/aksesibilitas", "Pernyataan aksesibilitas", "Accessibility statement"),
        ("/bantuan", "SELESAI", "SELESAI"),
        ("/kontak", "1708", "1708"),
    ):
        assert f'href="{path}"' in home.text  # in the footer
        page = await browser.get(path)
        assert page.status_code == 200, path
        assert words_id in page.text
        no_codes(page.text)
        await browser.get("/bahasa/en", params={"next": "/"})
        english = await browser.get(path)
        assert words_en in english.text
        assert 'lang="en"' in english.text
        await browser.get("/bahasa/id", params={"next": "/"})
    missing = await browser.get("/tidak-ada-halaman-ini")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")
    assert "Halaman tidak ditemukan" in missing.text
    assert '"detail"' not in missing.text
    await browser.get("/bahasa/en", params={"next": "/"})
    assert "Page not found" in (await browser.get("/nothing-here")).text
    form = await browser.get("/lapor")
    assert "Roads, bridges, drains" in form.text  # category descriptions in English too
    await browser.get("/bahasa/id", params={"next": "/"})


async def test_pages_are_light_safe_and_self_hosted(browser: httpx.AsyncClient) -> None:
    for path in ("/", "/lapor", "/lacak", "/statistik", "/publik", "/privasi", "/bantuan"):
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
    png = photo()
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
    sent = await past_similar(
        browser,
        await browser.post(
            "/lapor",
            data={**fields, **words(), "attachment": html.unescape(kept.group(1))},
        ),
    )  # the photo goes through the similar reports' step too
    assert sent.status_code == 303, sent.text
    tid = sent.headers["location"].rsplit("/", 1)[1]
    # the reporter sees the photo on the status page, as a small copy
    mine = (await browser.get(f"/laporan/{tid}")).text
    assert f'src="/laporan/{tid}/berkas/0/kecil"' in mine
    assert 'alt="lubang.png"' in mine
    small = await browser.get(f"/laporan/{tid}/berkas/0/kecil")
    assert small.status_code == 200
    assert small.headers["content-type"] == "image/jpeg"
    assert len(small.content) < len(png) * 4
    async with httpx.AsyncClient(base_url=str(browser.base_url), timeout=15.0) as stranger:

        async def public_photo() -> bool:
            # a public report's photos are public once it is verified, and only then
            got = await stranger.get(f"/laporan/{tid}/berkas/0/kecil")
            return got.status_code == 200

        assert await eventually(public_photo, timeout=60)
        shown = (await stranger.get(f"/laporan/{tid}")).text
        assert 'alt="lubang.png"' in shown
    disguised = await browser.post(
        "/lapor",
        data={**fields, **words(), "csrf": hidden(refused.text, "csrf")},
        files={"lampiran": ("foto.png", b"MZ\x90\x00" + b"\x00" * 64, "image/png")},
    )
    assert disguised.status_code == 422
    assert "foto.png" in disguised.text
