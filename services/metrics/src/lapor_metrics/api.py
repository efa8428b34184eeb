"""The evaluation reports over any date range, as JSON or CSV (``?format=csv``).

* ``/api/v1/reports/ranking`` — regencies/cities ranked by complaints and follow-up speed
* ``/api/v1/reports/low-volume`` — regions under the yearly volume threshold
* ``/api/v1/reports/categories`` — what people complain about most, per region (with centroids)
* ``/api/v1/reports/speed`` — province-level against regency/city-level agencies

Reports carry counts and speeds only: no tracking ids, no text, no identity.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, HTTPException, Query
from fastapi.responses import JSONResponse, Response

from lapor_kit.auth import COORDINATOR_ROLES
from lapor_kit.spreadsheet import csv_text
from lapor_kit.web import Staff, error_response
from lapor_schemas.calendar import province_calendar
from lapor_schemas.reference import regions

from .domain import reports
from .service import MetricsService

Province = Annotated[str, Query(pattern=r"^\d{2}$", description="Province code, e.g. 63")]
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)  # a year 1 or 9999 overflowed
From = Annotated[
    date | None,
    Query(alias="from", ge=EARLIEST, le=LATEST, description="First day (default: 1 January)"),
]
To = Annotated[
    date | None,
    Query(ge=EARLIEST, le=LATEST, description="Last day, inclusive (default: today)"),
]
HOTSPOT_ROLES = COORDINATOR_ROLES | {"ombudsman"}
Format = Annotated[Literal["json", "csv"], Query()]


def _table(rows: Sequence[dict[str, Any]], fmt: str, meta: dict[str, Any]) -> Response:
    if fmt == "json":
        return JSONResponse({**meta, "rows": json.loads(json.dumps(rows, default=str))})
    flat = [{k: _cell(v) for k, v in r.items()} for r in rows]
    fields = list(dict.fromkeys(k for r in flat for k in r))
    text = csv_text(fields, ([r.get(f, "") for f in fields] for r in flat))
    name = f"lapor-{meta['report']}-{meta['province']}-{meta['from']}-{meta['to']}.csv"
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _cell(value: Any) -> Any:
    if isinstance(value, list):
        return "; ".join(f"{v['category']}={v['complaints']}" for v in value)
    return "" if value is None else value


def install(app: FastAPI, service: MetricsService, clock: Callable[[], datetime]) -> None:
    router = APIRouter(prefix="/api/v1/reports", tags=["reports"])

    async def cases(province: str, start: date | None, end: date | None) -> tuple[Any, ...]:
        if province not in regions():
            raise HTTPException(404, detail=f"provinsi {province} tidak dikenal / unknown province")
        calendar = province_calendar(province)  # days are the province's local days
        tz = calendar.tz
        # today there, not in UTC: from 16:00 UTC it is already tomorrow in Makassar, and
        # a UTC "today" ended the period at local midnight, leaving out the day's reports
        today = calendar.local_day(clock())
        first = start or date(today.year, 1, 1)
        last = end or today
        if last < first:
            raise HTTPException(422, detail="'to' sebelum 'from' / 'to' is before 'from'")
        lo = datetime.combine(first, time(0), tz)
        hi = datetime.combine(last + timedelta(days=1), time(0), tz)
        found = await service.report_cases(province, lo, hi)
        meta = {"province": province, "from": first.isoformat(), "to": last.isoformat()}
        return found, meta

    @router.get("/ranking", summary="Regencies/cities ranked by complaints and follow-up speed")
    async def ranking(
        province: Province, from_: From = None, to: To = None, format: Format = "json"
    ) -> Response:
        found, meta = await cases(province, from_, to)
        rows = reports.ranking(found, province, clock())
        return _table(rows, format, {**meta, "report": "ranking"})

    @router.get("/low-volume", summary="Regions under the volume threshold")
    async def low_volume(
        province: Province,
        from_: From = None,
        to: To = None,
        threshold: int = Query(reports.LOW_VOLUME_PER_YEAR, ge=1),
        format: Format = "json",
    ) -> Response:
        found, meta = await cases(province, from_, to)
        rows = reports.low_volume(found, province, threshold)
        return _table(rows, format, {**meta, "report": "low-volume"})

    @router.get("/categories", summary="What people complain about most, per region")
    async def category_map(
        province: Province, from_: From = None, to: To = None, format: Format = "json"
    ) -> Response:
        found, meta = await cases(province, from_, to)
        rows = reports.category_map(found, province)
        return _table(rows, format, {**meta, "report": "categories"})

    @router.get("/speed", summary="Province-level vs regency/city-level follow-up speed")
    async def speed(
        province: Province, from_: From = None, to: To = None, format: Format = "json"
    ) -> Response:
        found, meta = await cases(province, from_, to)
        rows = reports.speed_by_level(found, clock())
        return _table(rows, format, {**meta, "report": "speed"})

    @router.get(
        "/hotspots",
        summary="Categories whose complaints in one region in the last 7 days reach 3× their "
        "weekly average of the 8 weeks before, and at least 3 (coordinators' token)",
    )
    async def hotspots(province: Province, who: Staff, format: Format = "json") -> Response:
        # an early signal from reports not yet verified: for the province's coordinators
        if who.role not in HOTSPOT_ROLES or not who.may_act_in(province):
            return error_response(
                403,
                "forbidden",
                "Hanya koordinator provinsi ini.",
                "Only this province's coordinators.",
            )
        if province not in regions():
            raise HTTPException(404, detail=f"provinsi {province} tidak dikenal / unknown province")
        now = clock()
        start = now - timedelta(days=7 * (reports.HOTSPOT_WEEKS + 1))
        found = await service.report_cases(province, start, now + timedelta(seconds=1))
        rows = reports.hotspots(found, province, now)
        meta = {
            "province": province,
            "from": province_calendar(province).local_day(start).isoformat(),
            "to": province_calendar(province).local_day(now).isoformat(),
            "report": "hotspots",
        }
        return _table(rows, format, meta)

    app.include_router(router)
