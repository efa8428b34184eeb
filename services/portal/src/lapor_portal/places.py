"""Places: where a spot on the form's map lies (``/lokasi``), and the public reports map.

Where a point lies is answered by the portal itself, from ``lapor_schemas.geo``: the same
boundaries and the same lookup intake uses when it files the report, so what the form says
("this spot is in Kabupaten Banjar") is what will happen. The browser draws simplified
outlines (``static/geo/regencies.json``, made by ``make geo``) but never decides a regency
from them: near a border a simplified line can be a few hundred metres off.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse

from lapor_kit.limits import RateLimiter, client_ip, parse_rates
from lapor_schemas import geo, reference, words
from lapor_schemas.status import FINISHED

from .backend import Backend, BackendDownError
from .i18n import map_words, t

PAGE_SIZE = 20
MAP_POINTS = 200  # the public map's points (the list pages through the same filter)


def _name(code: str) -> str:
    found = reference.region(code)
    return found.name if found is not None else code


def served(lang: str) -> str:
    """The provinces served, in words ("Kalimantan Selatan, Kepulauan Riau dan ...")."""
    names = [reference.regions()[p].name.removeprefix("Provinsi ") for p in geo.PROVINCES]
    joiner = " and " if lang == "en" else " dan "
    return ", ".join(names[:-1]) + joiner + names[-1]


def where(lat: float, lon: float, lang: str) -> dict[str, Any]:
    """What the form says about a spot: the regency/city it lies in (``approximate`` when it
    is only the nearest, a coast or the approximate Kepulauan Riau data), or a refusal in
    words when it is at sea or outside the provinces served."""
    if not (math.isfinite(lat) and math.isfinite(lon)) or abs(lat) > 90 or abs(lon) > 180:
        return {"ok": False, "message": t("unserved_spot", lang).format(served=served(lang))}
    found = geo.locate(lat, lon)
    if isinstance(found, geo.Unserved):
        return {"ok": False, "message": t("unserved_spot", lang).format(served=served(lang))}
    name = _name(found.code)
    province = _name(found.province)
    if found.approximate:
        km = max(1, round(found.km))
        message = _word("near", lang).format(name=name, km=km)
    else:
        message = _word("in", lang).format(name=name)
    return {
        "ok": True,
        "code": reference.current_code(found.code),
        "name": name,
        "province": province,
        "approximate": found.approximate,
        "message": message,
    }


def _word(key: str, lang: str) -> str:
    return map_words(lang)[key]


@dataclass
class Places:
    api: Backend
    render: Callable[..., HTMLResponse]
    lang_of: Callable[[Request], str]
    rate_limits: str = "lokasi=60/60"

    def __post_init__(self) -> None:
        self.limiter = RateLimiter(parse_rates(self.rate_limits))


def install(app: FastAPI, places: Places) -> None:
    @app.get("/lokasi", include_in_schema=False)
    async def locate(request: Request, lat: str = "", lon: str = "") -> JSONResponse:
        """Where a spot lies, for the form's map (JSON; rate-limited per address)."""
        lang = places.lang_of(request)
        wait = places.limiter.check("lokasi", client_ip(request))
        if wait is not None:
            seconds = max(1, math.ceil(wait))
            return JSONResponse(
                {"ok": False, "message": t("too_many", lang)},
                status_code=429,
                headers={"Retry-After": str(seconds)},
            )
        try:
            lat_f, lon_f = float(lat), float(lon)
        except ValueError:
            return JSONResponse({"ok": False, "message": t("bad_location", lang)}, status_code=422)
        return JSONResponse(where(lat_f, lon_f, lang))

    @app.post("/saran", include_in_schema=False)
    async def category_hint(request: Request) -> JSONResponse:
        """The category the words suggest, for the form's script while the citizen writes
        (JSON; rate-limited per address with the similar reports). Never changes anything:
        the form offers it, the citizen decides."""
        lang = places.lang_of(request)
        if places.limiter.check("mirip", client_ip(request)) is not None:
            return JSONResponse({"ok": False}, status_code=429)
        form = await request.form()
        title = str(form.get("judul") or "")[:200]
        text = str(form.get("isi") or "")[:5000]
        ranked = await places.api.suggest(title, text) if (title + text).strip() else []
        if not ranked or float(ranked[0]["score"]) < SUGGEST_CONFIDENCE:
            return JSONResponse({"ok": False})
        best = ranked[0]["code"]
        names = {
            c["code"]: (c["name_en"] if lang == "en" else c["name"])
            for c in await places.api.reference("categories")
        }
        return JSONResponse(
            {
                "ok": True,
                "code": best,
                "name": names.get(best, best),
                "message": (
                    f"This seems to be about {names.get(best, best)}."
                    if lang == "en"
                    else f"Sepertinya ini tentang {names.get(best, best)}."
                ),
                "change": ("Change to " if lang == "en" else "Ganti ke ") + names.get(best, best),
            }
        )

    @app.get("/mirip", response_class=HTMLResponse, include_in_schema=False)
    async def similar_here(
        request: Request, kategori: str = "", wilayah: str = "", lat: str = "", lon: str = ""
    ) -> HTMLResponse:
        """Similar reports while the form is being written (a piece of the page, for the
        form's script; the step before filing says the same without it)."""
        lang = places.lang_of(request)
        if places.limiter.check("mirip", client_ip(request)) is not None or not kategori:
            return places.render(request, "_similar_hint.html", similar=[])
        where_lat, where_lon = spot({"lat": lat, "lon": lon})
        try:
            found = await places.api.similar(kategori[:64], wilayah[:16], where_lat, where_lon)
        except BackendDownError:
            found = []
        return places.render(
            request, "_similar_hint.html", similar=[similar_item(r, lang) for r in found]
        )

    install_public(app, places)


def decimal(value: float | None, lang: str, digits: int = 1) -> str | None:
    """``3,2`` in Bahasa Indonesia, ``3.2`` in English."""
    if value is None:
        return None
    text = f"{value:.{digits}f}"
    return text if lang == "en" else text.replace(".", ",")


def _date(value: str | None, lang: str) -> str:
    if not value:
        return ""
    when = date.fromisoformat(value)
    if lang == "en":
        return f"{when.day} {when:%B} {when.year}"
    return f"{when.day} {words.BULAN[when.month - 1]} {when.year}"


def stats_report(body: dict[str, Any], lang: str) -> dict[str, Any]:
    """Metrics' ranking as the statistics page and the coordinators' dashboard show it: the
    table's rows (the speed in words), the map's figures by region code, the map's words and
    the period the under-50 mark counts."""
    rows = [dict(r) for r in body.get("rows") or ()]
    for r in rows:
        r["speed_text"] = decimal(r.get("avg_follow_up_working_days"), lang)
    return {
        "rows": rows,
        "map_rows": [
            {
                "code": r["region_code"],
                "complaints": r.get("complaints", 0),
                "speed": r.get("avg_follow_up_working_days"),
            }
            for r in rows
        ],
        "words": map_words(lang),
        "start": _date(body.get("from"), lang),
        "end": _date(body.get("to"), lang),
    }


def _round(value: Any) -> float | None:
    return round(float(value), 3) if isinstance(value, (int, float)) else None


def map_point(report: dict[str, Any], lang: str) -> dict[str, Any] | None:
    """A public report on the map: where (to about 100 m), its title and status in words."""
    where_ = report.get("location") or {}
    lat, lon = _round(where_.get("lat")), _round(where_.get("lon"))
    if lat is None or lon is None:
        return None
    return {
        "id": report["tracking_id"],
        "title": report.get("title", ""),
        "status": t(str(report.get("status", "")), lang),
        "lat": lat,
        "lon": lon,
    }


def install_public(app: FastAPI, places: Places) -> None:
    @app.get("/publik", response_class=HTMLResponse)
    async def public(
        request: Request, kategori: str = "", wilayah: str = "", halaman: str = "1"
    ) -> HTMLResponse:
        """Public reports: a list (20 a page) that works without the script, and the same
        filter's reports as points on a map beside it."""
        lang = places.lang_of(request)
        api = places.api
        categories = await api.reference("categories")
        regions = [r for r in await api.reference("regions") if r["kind"] != "province"]
        provinces = {r["code"]: r["name"] for r in await api.reference("regions")}
        category = kategori if kategori in {c["code"] for c in categories} else ""
        region = wilayah if wilayah in {r["code"] for r in regions} else ""
        page_no = int(halaman) if halaman.isdigit() and 0 < int(halaman) <= 500 else 1
        found = await api.public_reports(
            PAGE_SIZE + 1, (page_no - 1) * PAGE_SIZE, region_code=region, category=category
        )
        points = [
            p
            for r in await api.public_reports(MAP_POINTS, 0, region_code=region, category=category)
            if (p := map_point(r, lang)) is not None
        ]
        names = {
            c["code"]: (c.get("name_en") if lang == "en" else None) or c["name"] for c in categories
        }
        return places.render(
            request,
            "public.html",
            reports=found[:PAGE_SIZE],
            more=len(found) > PAGE_SIZE,
            halaman=page_no,
            filters={"kategori": category, "wilayah": region},
            categories=categories,
            category_names=names,
            regions=sorted(regions, key=lambda r: (r["province_code"], r["name"])),
            region_names={r["code"]: r["name"] for r in regions},
            provinces=provinces,
            points=points,
            map_words=map_words(lang),
            map=True,
            wide=True,
        )


# -- similar reports before filing ------------------------------------------------------------

SUGGEST_CONFIDENCE = 0.6
"""How sure the suggester must be before the form mentions another category."""

CARRIED = (
    "type",
    "title",
    "description",
    "category",
    "region_code",
    "lat",
    "lon",
    "name",
    "email",
    "phone",
    "form_id",
    "kategori_dilihat",  # the category's question was asked (once)
)
CARRIED_FLAGS = ("anonymous", "confidential", "public_replies")


def spot(values: dict[str, Any]) -> tuple[float | None, float | None]:
    """The form's spot as numbers, or (None, None)."""
    try:
        lat, lon = float(values.get("lat") or ""), float(values.get("lon") or "")
    except ValueError:
        return None, None
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return None, None
    return lat, lon


def carried(values: dict[str, Any]) -> list[tuple[str, str]]:
    """The form as hidden fields, for the step between writing and filing: everything typed
    and every file already uploaded goes on with either button."""
    out = [(k, str(values[k])) for k in CARRIED if values.get(k)]
    out += [(k, "1") for k in CARRIED_FLAGS if values.get(k)]
    out += [("notify_via", str(c)) for c in values.get("notify_via") or ()]
    out += [("attachment", json.dumps(a)) for a in values.get("attachments") or ()]
    return out


def similar_item(report: dict[str, Any], lang: str) -> dict[str, Any]:
    """A similar report in words: its title, status, when, how far from the spot, how many
    joined it, and whether it can still be joined (a finished one cannot)."""
    metres = report.get("distance_m")
    if isinstance(metres, int | float):
        far = (
            t("distance_m", lang).format(n=max(10, round(metres / 10) * 10))
            if metres < 1000
            else t("distance_km", lang).format(n=decimal(metres / 1000, lang))
        )
    else:
        far = ""
    status = str(report.get("status", ""))
    return {
        "tracking_id": report["tracking_id"],
        "title": report.get("title", ""),
        "status": t(status, lang),
        "open": status not in FINISHED,
        "submitted_at": report.get("submitted_at"),
        "region_code": report.get("region_code", ""),
        "region": _name(str(report.get("region_code", ""))),
        "far": far,
        "supporters": int(report.get("supporters") or 0),
    }
