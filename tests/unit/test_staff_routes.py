"""Every staff route in-process (httpx over ASGI) with in-memory fakes of the portal's store
and the services: who may open it and who gets "not found", that a form without this
browser's token does nothing, what the audit log keeps, and that the pages speak in words."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio

from lapor_devstack.procs import free_port
from lapor_portal.identity import Account
from lapor_portal.main import create_app
from lapor_portal.settings import PortalSettings
from lapor_portal.staff import ROUTERS
from lapor_portal.staff.deps import AuditAction
from lapor_portal.staff.inbox import group_repeats
from lapor_schemas import words
from tests.unit.staff_fakes import (
    FakeBackend,
    FakeIntake,
    FakeNotify,
    FakeRouting,
    FakeStore,
    case,
    fake_clients,
)

KALSEL = Account("kalsel.koord", "Rahmat Koordinator", "province_coordinator", "63")
PUPR = Account("bjm.pupr", "Admin PUPR", "agency_staff", "63", agency_id="63.71.pupr")
BJM = Account(
    "bjm.koord",
    "Koordinator Banjarmasin",
    "regency_coordinator",
    "63",
    region_code="63.71",
    agency_id="63.71.kominfo",
)
OMBUDSMAN = Account("ombudsman", "Ombudsman RI", "ombudsman", "*")
NATIONAL = Account("nasional", "Admin Nasional", "national_admin", "*")
CODES = re.compile(
    r"\b(case\.[a-z_]+|complaint\.submitted|agency_staff|province_coordinator|"
    r"identity_viewed|infrastruktur|63\.71\.pupr|verify_days)\b"
)


@dataclass
class Desk:
    client: httpx.AsyncClient
    store: FakeStore
    routing: FakeRouting
    intake: FakeIntake
    notify: FakeNotify

    def as_(self, account: Account) -> None:
        self.client.cookies.set("lapor_sesi", self.store.sign_in(account))

    async def csrf(self, path: str = "/kerja/akun/saya") -> str:
        html = (await self.client.get(path)).text
        found = re.search(r'name="csrf" value="([^"]+)"', html)
        assert found, html[:500]
        return found.group(1)

    def actions(self) -> list[str]:
        return [e.action for e in self.store.entries]


@pytest_asyncio.fixture
async def desk() -> AsyncIterator[Desk]:
    settings = PortalSettings(
        mongo_url=f"mongodb://127.0.0.1:{free_port()}/?directConnection=true",
        mongo_timeout_ms=200,
        seed_dev_accounts=False,
    )
    store = FakeStore()
    clients, routing, intake, notify = fake_clients(store)
    for account in (KALSEL, PUPR, BJM, OMBUDSMAN, NATIONAL):
        store.accounts[account.username] = account
    app = create_app(
        settings,
        backend=FakeBackend(settings),
        store=store,  # type: ignore[arg-type]
        staff_clients=clients,
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://portal") as client:
            yield Desk(client, store, routing, intake, notify)


# -- the guard --------------------------------------------------------------------------

STAFF_PAGES = [
    "/kerja",
    "/kerja/kasus/LPR-AAAAAAAAA1",
    "/kerja/lapor",
    "/kerja/dasbor",
    "/kerja/direktori",
    "/kerja/akun",
    "/kerja/akun/saya",
    "/kerja/audit",
    "/kerja/audit.csv",
    "/kerja/templat",
]


def test_every_staff_page_is_listed_here() -> None:
    """A newcomer's router is added to ROUTERS; its pages must be added to the guard test."""
    paths = {
        route.path  # type: ignore[attr-defined]
        for router in ROUTERS
        for route in router.routes
        if "GET" in getattr(route, "methods", set()) and route.path.startswith("/kerja")  # type: ignore[attr-defined]
    }
    listed = {re.sub(r"LPR-AAAAAAAAA1", "{tid}", p) for p in STAFF_PAGES}
    extra = {
        "/kerja/kasus/{tid}/berkas/{index}",
        "/kerja/kasus/{tid}/berkas/{index}/kecil",
        "/kerja/direktori/{part}/{key}",
    }
    assert paths == listed | extra


@pytest.mark.parametrize("path", STAFF_PAGES)
async def test_without_a_session_every_staff_page_sends_to_sign_in(desk: Desk, path: str) -> None:
    answer = await desk.client.get(path)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/masuk?next={path}"


@pytest.mark.parametrize(
    ("account", "path"),
    [
        (PUPR, "/kerja/dasbor"),
        (PUPR, "/kerja/audit"),
        (PUPR, "/kerja/audit.csv"),
        (PUPR, "/kerja/direktori"),
        (BJM, "/kerja/audit"),
        (OMBUDSMAN, "/kerja/direktori"),
        (OMBUDSMAN, "/kerja/direktori/instansi/baru"),
        (BJM, "/kerja/direktori/instansi/baru"),
        (KALSEL, "/kerja/templat"),  # an agency's own wording
    ],
)
async def test_a_page_not_for_the_role_looks_like_a_missing_case(
    desk: Desk, account: Account, path: str
) -> None:
    desk.as_(account)
    refused = await desk.client.get(path)
    missing = await desk.client.get("/kerja/kasus/LPR-ZZZZZZZZZ9")
    assert refused.status_code == missing.status_code == 404
    assert "Laporan tidak ditemukan" in refused.text


async def test_a_temporary_password_is_changed_before_anything_else(desk: Desk) -> None:
    desk.as_(
        Account(
            "baru", "Baru", "agency_staff", "63", agency_id="63.71.pupr", must_change_password=True
        )
    )
    assert (await desk.client.get("/kerja")).headers["location"] == "/kerja/akun/saya"
    mine = await desk.client.get("/kerja/akun/saya")
    assert mine.status_code == 200
    # where the account works, in words (the agency's name, never its id)
    assert "Admin instansi · Dinas PUPR Kota Banjarmasin" in mine.text
    assert "63.71.pupr" not in mine.text


# -- the inbox --------------------------------------------------------------------------


async def test_a_tracking_number_opens_the_case_and_one_not_yours_is_not_found(
    desk: Desk,
) -> None:
    desk.routing.add(
        case("LPR-AAAAAAAAA1"), case("LPR-BBBBBBBBB2", tenant="73", region_code="73.71")
    )
    desk.as_(KALSEL)
    found = await desk.client.get("/kerja", params={"cari": " lpr-aaaaaaaaa1 "})
    assert found.status_code == 303
    assert found.headers["location"] == "/kerja/kasus/LPR-AAAAAAAAA1"
    other = await desk.client.get("/kerja", params={"cari": "LPR-BBBBBBBBB2"})
    assert other.status_code == 200
    assert "LPR-BBBBBBBBB2 tidak ditemukan di antara laporan yang boleh Anda lihat" in other.text
    assert "Jalan rusak BB2" not in other.text


async def test_words_filters_sort_and_the_total_reach_routing_and_the_rows_speak_words(
    desk: Desk,
) -> None:
    desk.routing.add(*(case(f"LPR-CASE{i:06d}", title=f"Lampu jalan mati {i}") for i in range(30)))
    desk.routing.add(case("LPR-OTHER00001", title="Sampah menumpuk", category="persampahan"))
    desk.as_(KALSEL)
    page = await desk.client.get(
        "/kerja",
        params={
            "cari": "lampu",
            "kategori": "infrastruktur",
            "terlambat": "1",
            "urut": "terbaru",
            "per": "25",
            "halaman": "2",
        },
    )
    assert page.status_code == 200
    asked = desk.routing.queries[-1]
    assert (asked.words, asked.category, asked.overdue, asked.sort) == (
        "lampu",
        "infrastruktur",
        True,
        "newest",
    )
    assert (asked.limit, asked.offset) == (25, 25)
    assert "30 laporan · halaman 2 dari 2" in page.text
    assert "Infrastruktur" in page.text
    assert "Kota Banjarmasin" in page.text
    assert "04-12-2026" in page.text  # the day it was received
    assert "kategori mungkin" not in page.text  # nothing flagged here
    rows = re.findall(r'<tr(?: class="under")?>', page.text)
    assert len(rows) == 5 + 1  # the five left and the header
    assert not CODES.search(re.sub(r'(value|name|href)="[^"]*"', "", page.text))
    nothing = await desk.client.get("/kerja", params={"per": "7"})
    assert desk.routing.queries[-1].limit == 25  # only the offered page sizes
    assert "31 laporan" in nothing.text


def test_possible_repeats_are_grouped_under_their_original() -> None:
    rows: list[dict[str, Any]] = [
        {"tracking_id": "A", "status": "submitted", "repeat_of": None},
        {"tracking_id": "B", "status": "submitted", "repeat_of": None},
        {"tracking_id": "C", "status": "submitted", "repeat_of": "A"},
        {"tracking_id": "D", "status": "submitted", "repeat_of": "Z"},  # original elsewhere
        {"tracking_id": "E", "status": "submitted", "repeat_of": "A"},
    ]
    grouped = group_repeats(rows)
    assert [(r["tracking_id"], bool(r.get("under"))) for r in grouped] == [
        ("A", False),
        ("C", True),
        ("E", True),
        ("B", False),
        ("D", False),
    ]
    assert grouped[0]["repeats"] == 2


async def test_bulk_verify_goes_case_by_case_and_names_the_refused(desk: Desk) -> None:
    desk.routing.add(*(case(f"LPR-BULK{i:06d}") for i in range(4)))
    desk.routing.add(case("LPR-DONE000001", status="closed", title="Sudah selesai"))
    desk.as_(KALSEL)
    token = await desk.csrf("/kerja")
    chosen = [f"LPR-BULK{i:06d}" for i in range(4)] + ["LPR-DONE000001"]
    answer = await desk.client.post(
        "/kerja/massal", data={"csrf": token, "aksi": "verify", "kasus": chosen}
    )
    assert answer.status_code == 200
    assert "4 laporan selesai diproses, 1 ditolak" in answer.text
    refused = answer.text.split('id="ditolak"')[1].split("</ul>")[0]
    assert "LPR-DONE000001" in refused
    assert "Sudah selesai" in refused
    assert "Status laporan tidak memungkinkan tindakan ini" in refused
    assert [a for _, a, _ in desk.routing.acted] == ["verify"] * 4
    assert desk.actions().count("verify") == 4


async def test_bulk_repeats_need_the_original_and_a_forged_form_does_nothing(desk: Desk) -> None:
    desk.routing.add(case("LPR-ORIG000001"), case("LPR-COPY000001", repeat_of="LPR-ORIG000001"))
    desk.as_(KALSEL)
    forged = await desk.client.post(
        "/kerja/massal", data={"csrf": "x", "aksi": "verify", "kasus": ["LPR-COPY000001"]}
    )
    assert forged.status_code == 303
    assert desk.routing.acted == []
    token = await desk.csrf("/kerja")
    missing = await desk.client.post(
        "/kerja/massal", data={"csrf": token, "aksi": "mark_repeat", "kasus": ["LPR-COPY000001"]}
    )
    assert missing.status_code == 422
    assert "nomor laporan asal" in missing.text
    done = await desk.client.post(
        "/kerja/massal",
        data={
            "csrf": token,
            "aksi": "mark_repeat",
            "asal": "lpr-orig000001",
            "kasus": ["LPR-COPY000001", "LPR-ORIG000001"],
        },
    )
    assert "1 laporan selesai diproses, 1 ditolak" in done.text
    assert "Ini laporan asalnya sendiri" in done.text
    assert desk.routing.acted == [
        ("LPR-COPY000001", "mark_repeat", {"repeat_of": "LPR-ORIG000001"})
    ]
    entry = desk.store.entries[-1]
    assert (entry.action, entry.detail) == ("mark_repeat", {"repeat_of": "LPR-ORIG000001"})


async def test_agency_staff_have_no_bulk_actions(desk: Desk) -> None:
    desk.routing.add(
        case(
            "LPR-PUPR000001", status="dispatched", agency={"id": "63.71.pupr", "name": "Dinas PUPR"}
        )
    )
    desk.as_(PUPR)
    page = await desk.client.get("/kerja")
    assert "LPR-PUPR000001" in page.text
    assert 'name="kasus"' not in page.text
    token = await desk.csrf("/kerja")
    refused = await desk.client.post(
        "/kerja/massal", data={"csrf": token, "aksi": "verify", "kasus": ["LPR-PUPR000001"]}
    )
    assert refused.status_code == 404
    assert desk.routing.acted == []


# -- a case -----------------------------------------------------------------------------


def dispatched(tid: str = "LPR-CASE000001", **over: Any) -> dict[str, Any]:
    return case(
        tid,
        status="dispatched",
        agency={
            "id": "63.71.pupr",
            "name": "Dinas PUPR Kota Banjarmasin",
            "region_code": "63.71",
            "level": "city",
            "role": "opd",
        },
        supporters=3,
        history=[
            {
                "event_id": "e1",
                "type": "complaint.submitted",
                "status": "submitted",
                "at": "2026-12-04T02:00:00+00:00",
            },
            {
                "event_id": "e2",
                "type": "case.dispatched",
                "status": "dispatched",
                "at": "2026-12-04T02:01:00+00:00",
                "agency_id": "63.71.pupr",
            },
        ],
        **over,
    )


def report(tid: str = "LPR-CASE000001", **over: Any) -> dict[str, Any]:
    made = {
        "tracking_id": tid,
        "type": "pengaduan",
        "channel": "walk_in",
        "title": "Jalan rusak",
        "description": "Jalan di depan pasar berlubang.",
        "region_code": "63.71",
        "anonymous": False,
        "confidential": False,
        "identity_available": True,
        "may_moderate": False,
        "verified": True,
        "attachments": [
            {"name": "lubang.jpg", "content_type": "image/jpeg", "size": 2048},
            {"name": "surat.pdf", "content_type": "application/pdf", "size": 4096},
        ],
    }
    made.update(over)
    return made


async def test_the_case_page_shows_photos_history_and_notices_in_words(desk: Desk) -> None:
    desk.routing.add(dispatched())
    desk.intake.reports["LPR-CASE000001"] = report()
    desk.notify.by_case["LPR-CASE000001"] = [
        {
            "channel": "email",
            "recipient_role": "agency",
            "agency_id": "63.71.pupr",
            "status": "dead_lettered",
            "cause_event_type": "case.dispatched",
            "created_at": "2026-12-04T02:01:00+00:00",
            "sent_at": None,
        },
    ]
    desk.as_(PUPR)
    page = (await desk.client.get("/kerja/kasus/LPR-CASE000001")).text
    assert '<img src="/kerja/kasus/LPR-CASE000001/berkas/0/kecil"' in page
    assert "berkas/1/kecil" not in page  # a PDF has no small copy
    assert "Laporan diteruskan ke instansi" in page
    assert "Datang langsung" in page
    assert "Email kepada instansi (Dinas PUPR Kota Banjarmasin)" in page
    assert "gagal, disisihkan untuk diperiksa" in page
    assert "Warga yang mendukung</dt><dd>3" in page
    visible = re.sub(r'(value|name|href|src|id|for|action)="[^"]*"', "", page)
    assert not CODES.search(visible), CODES.search(visible)
    small = await desk.client.get("/kerja/kasus/LPR-CASE000001/berkas/0/kecil")
    assert (small.status_code, small.content) == (200, b"small")
    assert "attachment_viewed" not in desk.actions()  # a thumbnail on the page is no look
    whole = await desk.client.get("/kerja/kasus/LPR-CASE000001/berkas/0")
    assert whole.content == b"whole"
    assert desk.actions()[-1] == "attachment_viewed"
    desk.as_(Account("pdam", "PDAM", "agency_staff", "63", agency_id="63.71.pdam"))
    assert (await desk.client.get("/kerja/kasus/LPR-CASE000001/berkas/0/kecil")).status_code == 404


async def test_declining_asks_a_reason_then_says_where_the_case_goes(desk: Desk) -> None:
    desk.routing.add(dispatched())
    desk.intake.reports["LPR-CASE000001"] = report()
    desk.as_(PUPR)
    page = (await desk.client.get("/kerja/kasus/LPR-CASE000001")).text
    select = page.split('id="f-decline-agency"')[1].split("</select>")[0]
    groups = re.findall(r'<optgroup label="([^"]+)">', select)
    assert groups == ["Kota Banjarmasin", "Provinsi Kalimantan Selatan"]  # the regency first
    assert re.search(r'<option value="koordinator">Biarkan admin koordinator memutuskan', select)
    assert "63.71.pupr" not in select
    assert "63.71.kominfo" not in select
    token = await desk.csrf("/kerja/kasus/LPR-CASE000001")
    empty = await desk.client.post(
        "/kerja/kasus/LPR-CASE000001/aksi/decline",
        data={"csrf": token, "text": " ", "agency_id": "koordinator"},
    )
    assert empty.status_code == 422
    assert "bukan wewenang instansi Anda" in empty.text
    ask = await desk.client.post(
        "/kerja/kasus/LPR-CASE000001/aksi/decline",
        data={"csrf": token, "text": "Ini urusan DLH", "agency_id": "63.71.dlh"},
    )
    assert ask.status_code == 200
    assert desk.routing.acted == []
    assert "Laporan ini akan dikirim ke Dinas Lingkungan Hidup Kota Banjarmasin" in ask.text
    to_coordinator = await desk.client.post(
        "/kerja/kasus/LPR-CASE000001/aksi/decline",
        data={"csrf": token, "text": "Bukan kami", "agency_id": ""},
    )
    assert "akan dikirim ke admin koordinator Kota Banjarmasin" in to_coordinator.text
    sent = await desk.client.post(
        "/kerja/kasus/LPR-CASE000001/aksi/decline",
        data={"csrf": token, "text": "Bukan kami", "agency_id": "koordinator", "yakin": "1"},
    )
    assert sent.status_code == 303
    assert desk.routing.acted == [
        (
            "LPR-CASE000001",
            "decline",
            {"reason": "Bukan kami", "suggested_agency_id": None, "to_coordinator": True},
        )
    ]
    assert (desk.store.entries[-1].action, desk.store.entries[-1].detail) == (
        "decline",
        {"decided_by": "koordinator"},
    )


async def test_the_identity_needs_a_reason_and_the_audit_shows_it_in_words(desk: Desk) -> None:
    desk.routing.add(dispatched())
    desk.intake.reports["LPR-CASE000001"] = report()
    desk.as_(KALSEL)
    token = await desk.csrf("/kerja/kasus/LPR-CASE000001")
    for thin in ("", "telepon", "x" * 20):
        refused = await desk.client.post(
            "/kerja/kasus/LPR-CASE000001/identitas", data={"csrf": token, "reason": thin}
        )
        assert refused.status_code == 422
        assert "Siti Aminah" not in refused.text
    assert desk.intake.identities_asked == []
    why = "menghubungi pelapor untuk lokasi persisnya"
    shown = await desk.client.post(
        "/kerja/kasus/LPR-CASE000001/identitas", data={"csrf": token, "reason": why}
    )
    assert "Siti Aminah" in shown.text
    audit = (await desk.client.get("/kerja/audit")).text
    assert "Melihat identitas pelapor" in audit
    assert f"alasan: {why}" in audit
    assert "Koordinator provinsi" in audit
    csv = (await desk.client.get("/kerja/audit.csv")).text
    assert f"Melihat identitas pelapor,alasan: {why}" in csv
    assert desk.actions()[-1] == "audit_exported"


async def test_what_the_public_sees_is_changed_by_form_and_audited(desk: Desk) -> None:
    desk.routing.add(dispatched())
    desk.intake.reports["LPR-CASE000001"] = report(may_moderate=True)
    desk.as_(KALSEL)
    token = await desk.csrf("/kerja/kasus/LPR-CASE000001")
    done = await desk.client.post(
        "/kerja/kasus/LPR-CASE000001/publik",
        data={"csrf": token, "hidden": "1", "redactions": "Pak Budi\n"},
    )
    assert done.status_code == 303
    assert desk.intake.public == [("LPR-CASE000001", True, ["Pak Budi"])]
    assert desk.actions()[-1] == "public_view_changed"


async def test_a_refused_action_shows_routings_reason_and_is_not_audited(desk: Desk) -> None:
    desk.routing.add(case("LPR-CLOSED0001", status="closed"))
    desk.as_(KALSEL)
    token = await desk.csrf("/kerja/kasus/LPR-CLOSED0001")
    answer = await desk.client.post("/kerja/kasus/LPR-CLOSED0001/aksi/verify", data={"csrf": token})
    assert answer.status_code == 409
    assert "Status laporan tidak memungkinkan tindakan ini" in answer.text
    assert "verify" not in desk.actions()


# -- entry, dashboard, accounts ---------------------------------------------------------


async def test_an_offline_report_is_entered_and_audited(desk: Desk) -> None:
    desk.as_(PUPR)
    token = await desk.csrf("/kerja/lapor")
    short = await desk.client.post(
        "/kerja/lapor", data={"csrf": token, "title": "x", "channel": "walk_in"}
    )
    assert short.status_code == 422
    assert "Judul terlalu pendek" in short.text
    made = await desk.client.post(
        "/kerja/lapor",
        data={
            "csrf": token,
            "channel": "letter",
            "title": "Jembatan retak",
            "description": "Jembatan di desa retak.",
            "category": "infrastruktur",
            "region_code": "63.71",
        },
    )
    assert made.status_code == 201
    assert "LPR-ENTERED001" in made.text
    entry = desk.store.entries[-1]
    assert (entry.action, entry.case, entry.detail) == (
        "report_entered",
        "LPR-ENTERED001",
        {"channel": "letter"},
    )


async def test_the_dashboard_is_for_coordinators_and_names_the_province(desk: Desk) -> None:
    desk.as_(KALSEL)
    page = await desk.client.get("/kerja/dasbor")
    assert page.status_code == 200
    assert "Kalimantan Selatan" in page.text
    assert desk.routing.queries[-1].overdue
    assert desk.routing.queries[-1].tenant == "63"


async def test_accounts_are_made_by_coordinators_in_words_and_audited(desk: Desk) -> None:
    desk.as_(PUPR)
    assert (await desk.client.get("/kerja/akun")).headers["location"] == "/kerja/akun/saya"
    desk.as_(KALSEL)
    page = (await desk.client.get("/kerja/akun")).text
    assert "Dinas PUPR Kota Banjarmasin" in page  # where an account works, by name
    token = await desk.csrf("/kerja/akun")
    made = await desk.client.post(
        "/kerja/akun",
        data={
            "csrf": token,
            "username": "bjm.dlh",
            "name": "Admin DLH",
            "role": "agency_staff",
            "agency_id": "63.71.dlh",
        },
    )
    assert made.status_code == 201
    assert desk.store.accounts["bjm.dlh"].agency_id == "63.71.dlh"
    assert (desk.store.entries[-1].action, desk.store.entries[-1].detail) == (
        "account_created",
        {"account": "bjm.dlh", "role": "agency_staff"},
    )
    off = await desk.client.post("/kerja/pengguna/bjm.dlh/nonaktif", data={"csrf": token})
    assert off.status_code == 200
    assert desk.store.accounts["bjm.dlh"].disabled
    forged = await desk.client.post("/kerja/pengguna/bjm.dlh/aktif", data={"csrf": "x"})
    assert forged.status_code == 303
    assert desk.store.accounts["bjm.dlh"].disabled


# -- the directory ----------------------------------------------------------------------


async def test_the_policy_form_says_what_is_wrong_at_the_field(desk: Desk) -> None:
    desk.as_(KALSEL)
    page = (await desk.client.get("/kerja/direktori")).text
    assert "Batas waktu verifikasi (hari kerja)" in page
    assert "verify_days</dt>" not in page
    token = await desk.csrf("/kerja/direktori")
    policy = {
        "csrf": token,
        "tenant": "63",
        "verification": "manual",
        "verify_days": "0",
        "follow_up_days": "5",
        "reply_days": "10",
        "reminder_days_before": "1",
        "escalation_step_days": "2",
        "max_transfers": "3",
        "local_holidays": "",
    }
    wrong = await desk.client.post("/kerja/direktori/kebijakan", data=policy)
    assert wrong.status_code == 422
    assert desk.routing.saved == []
    field = wrong.text.split('id="e-policy-verify_days"')[1][:200]
    assert "Isi dengan angka 1 sampai 30 (hari kerja)" in field
    assert 'aria-describedby="e-policy-verify_days"' in wrong.text
    ok = await desk.client.post("/kerja/direktori/kebijakan", data={**policy, "verify_days": "4"})
    assert ok.status_code == 303
    assert desk.routing.saved[-1]["policy"]["verify_days"] == 4
    assert desk.routing.saved[-1]["policy"]["verification"] == "manual"
    assert desk.actions()[-1] == "directory_replaced"


async def test_an_agency_is_edited_as_a_form_and_routings_reason_lands_at_its_field(
    desk: Desk,
) -> None:
    desk.as_(KALSEL)
    form_page = await desk.client.get("/kerja/direktori/instansi/63.71.dlh")
    assert 'value="Dinas Lingkungan Hidup Kota Banjarmasin"' in form_page.text
    token = await desk.csrf("/kerja/direktori/instansi/63.71.dlh")
    fields = {
        "csrf": token,
        "tenant": "63",
        "id": "63.71.dlh",
        "name": "DLH Banjarmasin",
        "region_code": "63.71",
        "level": "city",
        "role": "opd",
        "categories": "lingkungan, sampah",
    }
    desk.routing.refuse_save = {
        "detail": "Direktori ditolak.",
        "errors": [
            {
                "field": "agencies.1.categories",
                "message": "Kategori sampah tidak dikenal.",
                "message_en": "Unknown category sampah.",
            }
        ],
    }
    refused = await desk.client.post("/kerja/direktori/instansi/63.71.dlh", data=fields)
    assert refused.status_code == 422
    at_field = refused.text.split('id="e-agency-categories"')[1][:200]
    assert "Kategori sampah tidak dikenal." in at_field
    assert 'value="lingkungan, sampah"' in refused.text  # what was typed stays
    field = refused.text.split('id="f-a-categories"')[1].split(">")[0]
    assert 'aria-invalid="true"' in field
    desk.routing.refuse_save = None
    saved = await desk.client.post(
        "/kerja/direktori/instansi/63.71.dlh", data={**fields, "categories": "lingkungan"}
    )
    assert saved.status_code == 303
    dlh = next(a for a in desk.routing.saved[-1]["agencies"] if a["id"] == "63.71.dlh")
    assert dlh["name"] == "DLH Banjarmasin"
    removed = await desk.client.post(
        "/kerja/direktori/aturan/63-jalan", data={"csrf": token, "tenant": "63", "hapus": "1"}
    )
    assert removed.status_code == 303
    assert desk.routing.saved[-1]["rules"] == []


async def test_the_json_view_answers_a_syntax_error_in_bahasa_and_a_revision_comes_back(
    desk: Desk,
) -> None:
    desk.as_(KALSEL)
    token = await desk.csrf("/kerja/direktori")
    broken = await desk.client.post(
        "/kerja/direktori", data={"csrf": token, "tenant": "63", "directory": '{"a": 1,\n}'}
    )
    assert broken.status_code == 422
    assert "tidak dapat dibaca pada baris 2, kolom 1" in broken.text
    assert "Expecting" not in broken.text
    await desk.client.post(
        "/kerja/direktori/kebijakan",
        data={
            "csrf": token,
            "tenant": "63",
            "verification": "auto",
            "verify_days": "3",
            "follow_up_days": "5",
            "reply_days": "10",
            "reminder_days_before": "1",
            "escalation_step_days": "2",
            "max_transfers": "3",
            "local_holidays": "2026-12-24",
        },
    )
    back = await desk.client.post(
        "/kerja/direktori/kembalikan", data={"csrf": token, "tenant": "63", "revision": "1"}
    )
    assert back.status_code == 303
    assert (desk.store.entries[-1].action, desk.store.entries[-1].detail) == (
        "directory_rolled_back",
        {"revision": 1},
    )


async def test_a_regency_coordinator_reads_its_part_of_the_directory(desk: Desk) -> None:
    desk.as_(BJM)
    page = await desk.client.get("/kerja/direktori")
    assert page.status_code == 200
    assert "Dinas PUPR Kota Banjarmasin" in page.text
    assert "Dinas PUPR Kabupaten Banjar" not in page.text  # another regency's office
    assert 'action="/kerja/direktori/kebijakan"' not in page.text
    token = await desk.csrf("/kerja/direktori")
    refused = await desk.client.post(
        "/kerja/direktori/kebijakan", data={"csrf": token, "tenant": "63", "verify_days": "9"}
    )
    assert refused.status_code == 303
    assert desk.routing.saved == []


# -- one vocabulary ---------------------------------------------------------------------


def test_every_audit_action_has_words_and_no_words_lack_an_action() -> None:
    assert {a.value for a in AuditAction} == set(words.AUDIT)
    assert set(words.ROLE) == {
        "national_admin",
        "province_coordinator",
        "regency_coordinator",
        "agency_staff",
        "ombudsman",
    }


# -- notes, officers, templates ---------------------------------------------------------


async def test_an_internal_note_is_kept_for_the_cases_staff_and_audited(desk: Desk) -> None:
    desk.routing.add(dispatched())
    desk.intake.reports["LPR-CASE000001"] = report()
    desk.as_(PUPR)
    token = await desk.csrf("/kerja/kasus/LPR-CASE000001")
    empty = await desk.client.post(
        "/kerja/kasus/LPR-CASE000001/catatan", data={"csrf": token, "note": " "}
    )
    assert empty.status_code == 422
    done = await desk.client.post(
        "/kerja/kasus/LPR-CASE000001/catatan",
        data={"csrf": token, "note": "Tim survei berangkat Senin."},
    )
    assert done.status_code == 303
    page = (await desk.client.get("/kerja/kasus/LPR-CASE000001")).text
    notes = page.split('id="catatan"')[1].split("<form")[0]
    assert "Tim survei berangkat Senin." in notes
    assert "Admin PUPR" in notes
    assert "Admin instansi" in notes
    entry = desk.store.entries[-1]
    assert (entry.action, entry.case) == ("note_added", "LPR-CASE000001")
    assert "Tim survei" not in str(entry.detail)  # the note itself stays with the case
    desk.as_(Account("pdam", "PDAM", "agency_staff", "63", agency_id="63.71.pdam"))
    token = await desk.csrf("/kerja/akun/saya")
    other = await desk.client.post(
        "/kerja/kasus/LPR-CASE000001/catatan", data={"csrf": token, "note": "coba"}
    )
    assert other.status_code == 404


async def test_a_case_is_handed_to_an_officer_of_its_agency_only(desk: Desk) -> None:
    budi = Account("budi.pupr", "Budi Santoso", "agency_staff", "63", agency_id="63.71.pupr")
    dlh = Account("sari.dlh", "Sari", "agency_staff", "63", agency_id="63.71.dlh")
    desk.store.accounts.update({budi.username: budi, dlh.username: dlh})
    desk.routing.add(dispatched())
    desk.intake.reports["LPR-CASE000001"] = report()
    desk.as_(PUPR)
    page = (await desk.client.get("/kerja/kasus/LPR-CASE000001")).text
    choices = page.split('id="f-petugas"')[1].split("</select>")[0]
    assert "Budi Santoso" in choices
    assert "Sari" not in choices  # another agency's officer
    token = await desk.csrf("/kerja/kasus/LPR-CASE000001")
    wrong = await desk.client.post(
        "/kerja/kasus/LPR-CASE000001/petugas", data={"csrf": token, "petugas": "sari.dlh"}
    )
    assert wrong.status_code == 422
    assert desk.routing.acted == []
    given = await desk.client.post(
        "/kerja/kasus/LPR-CASE000001/petugas", data={"csrf": token, "petugas": "budi.pupr"}
    )
    assert given.status_code == 303
    assert desk.routing.cases["LPR-CASE000001"]["assignee"]["name"] == "Budi Santoso"
    assert (desk.store.entries[-1].action, desk.store.entries[-1].detail) == (
        "case_assigned",
        {"officer": "budi.pupr"},
    )
    desk.as_(budi)
    mine = await desk.client.get("/kerja", params={"saya": "1"})
    assert desk.routing.queries[-1].assignee == "budi.pupr"
    assert "LPR-CASE000001" in mine.text
    assert "Budi Santoso" in mine.text
    desk.as_(OMBUDSMAN)
    token = await desk.csrf("/kerja/akun/saya")
    refused = await desk.client.post(
        "/kerja/kasus/LPR-CASE000001/petugas", data={"csrf": token, "petugas": ""}
    )
    assert refused.status_code == 404


async def test_an_agency_keeps_reply_templates_and_a_follow_up_starts_from_one(
    desk: Desk,
) -> None:
    desk.routing.add(dispatched())
    desk.intake.reports["LPR-CASE000001"] = report()
    desk.as_(PUPR)
    token = await desk.csrf("/kerja/templat")
    short = await desk.client.post(
        "/kerja/templat", data={"csrf": token, "title": "x", "text": "pendek"}
    )
    assert short.status_code == 422
    assert 'id="e-t-title"' in short.text
    assert 'id="e-t-text"' in short.text
    saved = await desk.client.post(
        "/kerja/templat",
        data={
            "csrf": token,
            "title": "Jalan sudah ditambal",
            "text": "Terima kasih. Ruas yang Anda laporkan sudah kami tambal.",
        },
    )
    assert saved.status_code == 303
    assert desk.actions()[-1] == "template_saved"
    template = next(iter(desk.store.reply_templates.values()))
    assert template.agency_id == "63.71.pupr"
    page = (await desk.client.get("/kerja/kasus/LPR-CASE000001")).text
    assert f"?templat={template.id}" in page
    assert "Ruas yang Anda laporkan sudah kami tambal" not in page  # only when chosen
    chosen = (
        await desk.client.get("/kerja/kasus/LPR-CASE000001", params={"templat": template.id})
    ).text
    area = chosen.split('id="f-follow_up-text"')[1].split("</textarea>")[0]
    assert "Ruas yang Anda laporkan sudah kami tambal" in area
    desk.as_(Account("pdam", "PDAM", "agency_staff", "63", agency_id="63.71.pdam"))
    assert "Jalan sudah ditambal" not in (await desk.client.get("/kerja/templat")).text
    token = await desk.csrf("/kerja/templat")
    await desk.client.post(f"/kerja/templat/{template.id}/hapus", data={"csrf": token})
    assert template.id in desk.store.reply_templates  # not its agency's to remove
    desk.as_(PUPR)
    token = await desk.csrf("/kerja/templat")
    await desk.client.post(f"/kerja/templat/{template.id}/hapus", data={"csrf": token})
    assert desk.store.reply_templates == {}
    assert desk.actions()[-1] == "template_removed"


FORMS = {
    "/masuk": {"username": "kalsel.koord", "password": "x"},
    "/kerja/massal": {"aksi": "verify", "kasus": "LPR-CASE000001"},
    "/kerja/kasus/{tid}/identitas": {"reason": "menghubungi pelapor soal lokasi"},
    "/kerja/kasus/{tid}/publik": {"hidden": "1"},
    "/kerja/kasus/{tid}/aksi/{action}": {"text": "Sudah kami tangani."},
    "/kerja/kasus/{tid}/catatan": {"note": "catatan"},
    "/kerja/kasus/{tid}/petugas": {"petugas": "bjm.pupr"},
    "/kerja/lapor": {"title": "Jembatan retak", "channel": "letter"},
    "/kerja/direktori": {"tenant": "63", "directory": "{}"},
    "/kerja/direktori/kebijakan": {"tenant": "63", "verify_days": "4"},
    "/kerja/direktori/{part}/{key}": {"tenant": "63", "hapus": "1"},
    "/kerja/direktori/kembalikan": {"tenant": "63", "revision": "1"},
    "/kerja/akun": {"username": "baru.sekali", "name": "Baru", "role": "agency_staff"},
    "/kerja/pengguna/{username}/{change}": {},
    "/kerja/akun/saya/sandi": {"current": "x", "new": "y" * 14, "again": "y" * 14},
    "/kerja/akun/saya/2fa": {"step": "mulai", "password": "x"},
    "/kerja/templat": {"title": "Templat baru", "text": "Isi templat yang cukup panjang."},
    "/kerja/templat/{template_id}/hapus": {},
}
FILLED = {
    "{tid}": "LPR-CASE000001",
    "{action}": "follow_up",
    "{part}": "aturan",
    "{key}": "63-jalan",
    "{username}": "bjm.pupr",
    "{change}": "nonaktif",
    "{template_id}": "t1",
}


def test_every_form_of_the_workspace_is_listed_here() -> None:
    posted = {
        route.path  # type: ignore[attr-defined]
        for router in ROUTERS
        for route in router.routes
        if "POST" in getattr(route, "methods", set())
    }
    assert posted - {"/keluar"} == set(FORMS)  # signing out is never refused


@pytest.mark.parametrize("path", sorted(FORMS))
async def test_a_form_without_this_browsers_token_changes_nothing(desk: Desk, path: str) -> None:
    desk.routing.add(dispatched())
    desk.intake.reports["LPR-CASE000001"] = report(may_moderate=True)
    account = PUPR if "templat" in path or "catatan" in path or "petugas" in path else KALSEL
    desk.as_(account)
    await desk.client.get("/kerja/akun/saya")  # this browser has a token: not the one sent
    before = (list(desk.store.entries), dict(desk.store.accounts), dict(desk.store.sessions))
    target = path
    for name, value in FILLED.items():
        target = target.replace(name, value)
    answer = await desk.client.post(target, data={**FORMS[path], "csrf": "forged"})
    assert answer.status_code in (303, 400), (path, answer.status_code)
    assert desk.routing.acted == []
    assert desk.routing.saved == []
    assert desk.intake.entered == []
    assert desk.intake.public == []
    assert desk.intake.identities_asked == []
    assert desk.store.reply_templates == {}
    assert "notes" not in desk.routing.cases["LPR-CASE000001"]
    entries, accounts, sessions = before
    assert desk.store.entries == entries
    assert desk.store.accounts == accounts
    assert desk.store.sessions == sessions


async def test_a_case_whose_words_point_elsewhere_is_flagged_with_a_one_click_fix(
    desk: Desk,
) -> None:
    from tests.unit.staff_fakes import FakeBackend

    desk.routing.add(case("LPR-WATER00001", title="Air mati", category="infrastruktur"))
    desk.intake.reports["LPR-WATER00001"] = report(
        "LPR-WATER00001", title="Air mati", description="air pdam ga ngalir udh 3 hari"
    )
    FakeBackend.suggestion = [{"code": "air-bersih", "score": 0.95}]
    try:
        desk.as_(KALSEL)
        page = (await desk.client.get("/kerja/kasus/LPR-WATER00001")).text
        flag = page.split('id="kategori-saran"')[1].split("</div>")[0]
        assert "lebih cocok dengan kategori" in flag
        assert "Air Bersih" in flag
        assert 'name="category" value="air-bersih"' in flag
        token = await desk.csrf("/kerja/kasus/LPR-WATER00001")
        fixed = await desk.client.post(
            "/kerja/kasus/LPR-WATER00001/aksi/recategorise",
            data={"csrf": token, "category": "air-bersih"},
        )
        assert fixed.status_code == 303
        assert desk.routing.acted[-1] == (
            "LPR-WATER00001",
            "recategorise",
            {"category": "air-bersih"},
        )
        assert desk.store.entries[-1].action == "recategorise"
        desk.as_(PUPR)  # an agency does not correct categories: no flag for it
        desk.routing.cases["LPR-WATER00001"]["agency"] = {"id": "63.71.pupr", "name": "PUPR"}
        desk.routing.cases["LPR-WATER00001"]["status"] = "dispatched"
        assert (
            'id="kategori-saran"' not in (await desk.client.get("/kerja/kasus/LPR-WATER00001")).text
        )
    finally:
        FakeBackend.suggestion = []


async def test_the_inbox_flags_a_case_whose_words_point_to_another_category(desk: Desk) -> None:
    desk.routing.add(
        case("LPR-WATER00002", title="Air mati", suggested_category="air-bersih"),
        case("LPR-ROAD000002", title="Jalan rusak", suggested_category=None),
    )
    desk.as_(KALSEL)
    page = (await desk.client.get("/kerja")).text
    rows = {
        tid: row
        for row in re.findall(r"<tr>.*?</tr>", page, re.S)
        for tid in ("LPR-WATER00002", "LPR-ROAD000002")
        if f'<span class="tid">{tid}</span>' in row
    }
    assert "kategori mungkin Air Bersih" in rows["LPR-WATER00002"]
    assert "kategori mungkin" not in rows["LPR-ROAD000002"]
