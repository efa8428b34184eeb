"""The portal's places, in-process against a fake backend: what the form says about a spot
(the boundary decides, the sea is refused in words), the choropleth's figures, the public
list's filters and pages, and the step before filing (similar reports, then join or file)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest_asyncio

from lapor_devstack.procs import free_port
from lapor_portal import places
from lapor_portal.backend import Answer, Backend
from lapor_portal.main import create_app
from lapor_portal.settings import PortalSettings
from lapor_schemas.reference import categories, regions

ROOT = Path(__file__).resolve().parents[2]
SIMILAR = {
    "tracking_id": "LPR-AAAAAAAAAA",
    "title": "Lampu jalan mati di Gang Mawar",
    "status": "dispatched",
    "category": "infrastruktur",
    "region_code": "63.71",
    "submitted_at": "2026-12-01T02:00:00Z",
    "supporters": 2,
    "distance_m": 240,
}


class FakeBackend(Backend):
    def __init__(self, settings: PortalSettings) -> None:
        super().__init__(settings)
        self.similar_asked: list[tuple[Any, ...]] = []
        self.supported: list[tuple[str, dict[str, Any]]] = []
        self.submitted: list[dict[str, Any]] = []
        self.listed: list[dict[str, Any]] = []
        self.similar_found: list[dict[str, Any]] = [SIMILAR]
        self.suggest_asked: list[tuple[str, str]] = []
        self.suggestion: list[dict[str, Any]] = []
        self.stop_asked: list[str] = []

    async def reference(self, name: str) -> list[dict[str, Any]]:
        if name == "categories":
            return [c.model_dump() for c in categories().values()]
        return [r.model_dump() for r in regions().values()]

    async def similar(
        self,
        category: str,
        region_code: str = "",
        lat: float | None = None,
        lon: float | None = None,
    ) -> list[dict[str, Any]]:
        self.similar_asked.append((category, region_code, lat, lon))
        return list(self.similar_found)

    async def support(self, tracking_id: str, body: dict[str, Any], client_ip: str) -> Answer:
        self.supported.append((tracking_id, body))
        return Answer(202, {"tracking_id": tracking_id, "supporters": 3, "joined": True}, {})

    async def stop_following(self, code: str, client_ip: str) -> Answer:
        self.stop_asked.append(code)
        if code == "0123456789abcdef-AAAAAAAAAAAAAAAA":
            return Answer(200, {"tracking_id": "LPR-AAAAAAAAAA"}, {})
        if code == "0000000000000000-TooManyTriesHere":
            return Answer(429, {"detail": "x"}, {"retry-after": "30"})
        return Answer(404, {"detail": "x"}, {})

    async def suggest(self, title: str, description: str) -> list[dict[str, Any]]:
        self.suggest_asked.append((title, description))
        return list(self.suggestion)

    async def submit(self, body: dict[str, Any], key: str, client_ip: str) -> Answer:
        self.submitted.append(body)
        return Answer(202, {"tracking_id": "LPR-BBBBBBBBBB", "secret": "s" * 22}, {})

    async def public_reports(
        self, limit: int = 20, offset: int = 0, region_code: str = "", category: str = ""
    ) -> list[dict[str, Any]]:
        self.listed.append(
            {"limit": limit, "offset": offset, "region_code": region_code, "category": category}
        )
        made = [
            {
                **SIMILAR,
                "tracking_id": f"LPR-{i:010d}",
                "title": f"Laporan {i}",
                "location": {"lat": -3.31 - i / 1000, "lon": 114.59},
            }
            for i in range(offset, offset + min(limit, 45 - offset))
        ]
        return made

    async def ranking(self, province: str) -> dict[str, Any]:
        return {
            "from": "2026-01-01",
            "to": "2026-12-05",
            "rows": [
                {
                    "region_code": "63.71",
                    "region_name": "Kota Banjarmasin",
                    "complaints": 61,
                    "avg_follow_up_working_days": 2.25,
                    "low_volume": False,
                },
                {
                    "region_code": "63.03",
                    "region_name": "Kabupaten Banjar",
                    "complaints": 4,
                    "avg_follow_up_working_days": None,
                    "low_volume": True,
                },
            ],
        }


@pytest_asyncio.fixture
async def portal() -> AsyncIterator[tuple[httpx.AsyncClient, FakeBackend]]:
    settings = PortalSettings(
        mongo_url=f"mongodb://127.0.0.1:{free_port()}/?directConnection=true",
        mongo_timeout_ms=200,
        map_rate_limits="lokasi=5/60,mirip=30/60",
    )
    backend = FakeBackend(settings)
    app = create_app(settings, backend=backend)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://portal") as client:
            yield client, backend


async def test_a_spot_is_told_by_its_boundary_and_the_sea_is_refused_in_words(
    portal: tuple[httpx.AsyncClient, FakeBackend],
) -> None:
    client, _ = portal
    east = (await client.get("/lokasi", params={"lat": -3.34051, "lon": 114.63408})).json()
    assert east == {
        "ok": True,
        "code": "63.03",
        "name": "Kabupaten Banjar",
        "province": "Provinsi Kalimantan Selatan",
        "approximate": False,
        "message": "Titik ini ada di Kabupaten Banjar.",
    }
    sea = (await client.get("/lokasi", params={"lat": 3.0, "lon": 109.0})).json()
    assert sea["ok"] is False
    assert "laut atau di luar wilayah yang dilayani" in sea["message"]
    assert "Kalimantan Selatan, Kepulauan Riau dan Sulawesi Selatan" in sea["message"]
    pinang = (await client.get("/lokasi", params={"lat": 0.9186, "lon": 104.4554})).json()
    assert (pinang["code"], pinang["approximate"]) == ("21.72", True)
    assert "sekitar 7 km" in pinang["message"]
    bad = await client.get("/lokasi", params={"lat": "x", "lon": "1"})
    assert bad.status_code == 422
    assert "angka" in bad.json()["message"]
    assert (await client.get("/lokasi", params={"lat": -3.3, "lon": 114.6})).status_code == 200
    limited = await client.get("/lokasi", params={"lat": -3.3, "lon": 114.6})
    assert limited.status_code == 429  # 5 a minute here
    assert limited.headers["retry-after"]


async def test_without_javascript_the_form_offers_the_list_and_says_nothing_of_tapping(
    portal: tuple[httpx.AsyncClient, FakeBackend],
) -> None:
    client, _ = portal
    html = (await client.get("/lapor")).text
    fieldset = re.search(r'<fieldset id="f-location"[^>]*>', html)
    assert fieldset is not None
    assert " hidden" in fieldset.group(0)  # the map's part shows only with the script
    visible = re.sub(r'<fieldset id="f-location".*?</fieldset>', "", html, flags=re.S)
    assert "Ketuk" not in visible
    assert "peta" not in visible.lower().replace("peta batas", "")
    assert 'name="region_code"' in visible


async def test_the_step_before_filing_shows_similar_reports_then_joins_or_files(
    portal: tuple[httpx.AsyncClient, FakeBackend],
) -> None:
    client, backend = portal
    page = await client.get("/lapor")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    form = {
        "csrf": csrf,
        "type": "pengaduan",
        "title": "Lampu jalan mati di gang kami",
        "description": "Lampu jalan mati sudah dua minggu, gang gelap gulita setiap malam.",
        "category": "infrastruktur",
        "region_code": "63.71",
        "lat": "-3.3301",
        "lon": "114.6001",
        "name": "Budi",
        "email": "budi@warga.example",
        "notify_via": "email",
    }
    step = await client.post("/lapor", data=form)
    assert step.status_code == 200
    assert "Sudah ada yang melaporkan ini?" in step.text
    assert "Lampu jalan mati di Gang Mawar" in step.text
    assert "sekitar 240 m dari titik Anda" in step.text
    assert "2 warga lain mengalami masalah yang sama" in step.text
    assert backend.similar_asked[-1] == ("infrastruktur", "63.71", -3.3301, 114.6001)
    assert backend.submitted == []  # nothing filed yet
    carried = dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', step.text))
    assert carried["title"] == form["title"]
    assert carried["mirip_dilihat"] == "1"
    assert carried["email"] == form["email"]
    # "Ini masalah yang sama": joined with the contact given, nothing filed
    joined = await client.post("/lapor", data={**carried, "dukung": "LPR-AAAAAAAAAA"})
    assert joined.status_code == 200
    assert "Anda mendukung laporan ini" in joined.text
    assert "Kini 3 warga" in joined.text
    tid, body = backend.supported[-1]
    assert tid == "LPR-AAAAAAAAAA"
    assert body["email"] == "budi@warga.example"
    assert body["notify_via"] == ["email"]
    assert body["key"] == carried["form_id"]
    assert backend.submitted == []
    # "Masalah saya berbeda": filed as usual, the similar reports not asked again
    asked = len(backend.similar_asked)
    filed = await client.post("/lapor", data={**carried, "dukung": ""})
    assert filed.status_code == 303
    assert filed.headers["location"] == "/lapor/terima/LPR-BBBBBBBBBB"
    assert backend.submitted[-1]["location"] == {"lat": -3.3301, "lon": 114.6001}
    assert len(backend.similar_asked) == asked
    # nothing similar: filed at once
    backend.similar_found = []
    direct = await client.post("/lapor", data=form)
    assert direct.status_code == 303


async def test_the_public_list_filters_and_pages_and_its_map_gets_rounded_points(
    portal: tuple[httpx.AsyncClient, FakeBackend],
) -> None:
    client, backend = portal
    first = await client.get("/publik", params={"kategori": "infrastruktur", "wilayah": "63.71"})
    assert first.status_code == 200
    listed = first.text.split('class="report-list"', 1)[1]
    assert "Laporan 0<" in listed
    assert "Laporan 19<" in listed
    assert "Laporan 20<" not in listed
    assert "halaman=2" in first.text
    assert {"limit": 21, "offset": 0, "region_code": "63.71", "category": "infrastruktur"} in (
        backend.listed
    )
    second = await client.get("/publik", params={"halaman": "3"})
    assert "Laporan 40<" in second.text
    assert "halaman=4" not in second.text
    assert "halaman=2" in second.text
    odd = await client.get("/publik", params={"kategori": "<x>", "wilayah": "99", "halaman": "-1"})
    assert odd.status_code == 200
    assert backend.listed[-1]["category"] == ""
    points = re.search(r'data-points="([^"]*)"', first.text)
    assert points is not None
    assert "114.59" in points.group(1)
    assert "Infrastruktur" in first.text  # the category in words, not its code


async def test_the_statistics_table_and_map_figures_say_the_same_in_words(
    portal: tuple[httpx.AsyncClient, FakeBackend],
) -> None:
    client, _ = portal
    html = (await client.get("/statistik", params={"provinsi": "63"})).text
    assert "2,2" in html  # 2.25 working days, in Bahasa Indonesia
    assert "belum ada tindak lanjut" in html
    assert "dari 1 Januari 2026 sampai 5 Desember 2026" in html
    assert re.search(r'<section id="peta-blok"[^>]* hidden', html)  # the map needs the script
    rows = re.search(r'data-rows="([^"]*)"', html)
    assert rows is not None
    assert "63.71" in rows.group(1)


def test_served_provinces_and_distances_in_words() -> None:
    assert places.served("en") == "Kalimantan Selatan, Kepulauan Riau and Sulawesi Selatan"
    item = places.similar_item({**SIMILAR, "distance_m": 1234}, "id")
    assert item["far"] == "sekitar 1,2 km dari titik Anda"
    assert item["open"] is True
    assert places.similar_item({**SIMILAR, "status": "closed"}, "en")["open"] is False
    assert places.spot({"lat": "nan", "lon": "1"}) == (None, None)
    assert places.spot({"lat": "-3.3", "lon": "114.6"}) == (-3.3, 114.6)


def test_the_browsers_boundaries_are_what_make_geo_makes_from_the_shipped_data() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("simplify", ROOT / "tools/geo/simplify.py")
    assert spec is not None
    assert spec.loader is not None
    simplify = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(simplify)
    made = simplify.build()
    assert made == simplify.TARGET.read_text(encoding="utf-8"), "run make geo"
    assert len(made.encode()) < 80_000  # the browser's copy stays small


def water_report(page: str, category: str) -> dict[str, str]:
    """The form of a report about water in words people write, with the page's form token."""
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    return {
        "csrf": csrf,
        "type": "pengaduan",
        "title": "Air mati",
        "description": "air pdam ga ngalir udh 3 hari di kompleks kami",
        "category": category,
        "region_code": "63.71",
        "anonymous": "1",
    }


async def test_the_words_suggest_another_category_once_and_the_citizen_decides(
    portal: tuple[httpx.AsyncClient, FakeBackend],
) -> None:
    client, backend = portal
    backend.similar_found = []
    backend.suggestion = [
        {"code": "air-bersih", "score": 0.93},
        {"code": "infrastruktur", "score": 0.05},
    ]
    page = await client.get("/lapor")
    assert 'id="saran"' in page.text  # the script's place (hidden without it)
    form = water_report(page.text, "infrastruktur")
    step = await client.post("/lapor", data=form)
    assert step.status_code == 200
    assert "Sepertinya ini tentang Air Bersih. Ganti?" in step.text
    assert "Tidak, tetap Infrastruktur dan Pekerjaan Umum" in step.text
    assert backend.submitted == []
    carried = dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', step.text))
    assert "category" not in carried  # the button says which
    changed = await client.post("/lapor", data={**carried, "kategori_pilih": "air-bersih"})
    assert changed.status_code == 303
    assert backend.submitted[-1]["category"] == "air-bersih"
    asked = len(backend.suggest_asked)
    kept = await client.post("/lapor", data={**carried, "kategori_pilih": "infrastruktur"})
    assert kept.status_code == 303
    assert backend.submitted[-1]["category"] == "infrastruktur"  # the citizen's choice wins
    assert len(backend.suggest_asked) == asked  # asked once, not again
    # the script said it already while the citizen wrote: not asked again on filing
    said = await client.post("/lapor", data={**form, "kategori_dilihat": "1"})
    assert said.status_code == 303
    assert backend.submitted[-1]["category"] == "infrastruktur"
    # a suggestion that agrees, or is not sure, asks nothing
    backend.suggestion = [{"code": "infrastruktur", "score": 0.4}]
    assert (await client.post("/lapor", data=form)).status_code == 303


async def test_a_round_of_errors_says_the_suggested_category_too(
    portal: tuple[httpx.AsyncClient, FakeBackend],
) -> None:
    """No category chosen (or another form error): the errors' round says what the words
    suggest, so the citizen without the script can pick it there; not asked again after."""
    client, backend = portal
    backend.similar_found = []
    backend.suggestion = [{"code": "air-bersih", "score": 0.93}]
    form = water_report((await client.get("/lapor")).text, "")
    errors = await client.post("/lapor", data=form)
    assert errors.status_code == 422
    assert "Sepertinya ini tentang <strong>Air Bersih</strong>" in errors.text
    assert 'name="kategori_dilihat" id="f-kategori-dilihat" value="1"' in errors.text
    # the citizen picks it in the list and files: no second question
    filed = await client.post(
        "/lapor", data={**form, "category": "air-bersih", "kategori_dilihat": "1"}
    )
    assert filed.status_code == 303
    assert backend.submitted[-1]["category"] == "air-bersih"
    # no description yet: nothing to suggest from, nothing said
    backend.suggest_asked.clear()
    empty = await client.post("/lapor", data={**form, "description": ""})
    assert empty.status_code == 422
    assert "Sepertinya" not in empty.text
    assert backend.suggest_asked == []


async def test_the_form_script_hears_the_suggestion_in_words(
    portal: tuple[httpx.AsyncClient, FakeBackend],
) -> None:
    client, backend = portal
    backend.suggestion = [{"code": "air-bersih", "score": 0.93}]
    hint = await client.post("/saran", data={"judul": "Air mati", "isi": "pdam ga ngalir"})
    assert hint.json() == {
        "ok": True,
        "code": "air-bersih",
        "name": "Air Bersih",
        "message": "Sepertinya ini tentang Air Bersih.",
        "change": "Ganti ke Air Bersih",
    }
    backend.suggestion = [{"code": "air-bersih", "score": 0.3}]
    assert (await client.post("/saran", data={"isi": "pdam"})).json() == {"ok": False}


async def test_someone_who_joined_stops_the_news_with_the_code_of_their_email(
    portal: tuple[httpx.AsyncClient, FakeBackend],
) -> None:
    client, backend = portal
    page = await client.get("/berhenti")
    assert page.status_code == 200
    assert "Kode dari e-mail" in page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    # a POST is needed (a mail scanner opening the link stops nothing), with the form token
    forged = await client.post("/berhenti", data={"kode": "0123456789abcdef-AAAAAAAAAAAAAAAA"})
    assert forged.status_code == 400
    assert backend.stop_asked == []
    empty = await client.post("/berhenti", data={"csrf": csrf, "kode": "  "})
    assert empty.status_code == 422
    assert "Masukkan kode dari e-mail Anda." in empty.text
    wrong = await client.post("/berhenti", data={"csrf": csrf, "kode": "bukan-kode"})
    assert wrong.status_code == 404
    assert "Kode tidak dikenal" in wrong.text
    assert 'value="bukan-kode"' in wrong.text  # kept, to correct
    busy = await client.post(
        "/berhenti", data={"csrf": csrf, "kode": "0000000000000000-TooManyTriesHere"}
    )
    assert busy.status_code == 429
    assert "Terlalu banyak percobaan" in busy.text
    done = await client.post(
        "/berhenti", data={"csrf": csrf, "kode": " 0123456789abcdef-AAAAAAAAAAAAAAAA "}
    )
    assert done.status_code == 200
    assert "kami tidak lagi mengirim kabarnya kepada Anda" in done.text
    assert 'href="/laporan/LPR-AAAAAAAAAA"' in done.text
    assert backend.stop_asked[-1] == "0123456789abcdef-AAAAAAAAAAAAAAAA"
