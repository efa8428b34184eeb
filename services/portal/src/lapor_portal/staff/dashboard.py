"""The coordinators' dashboard: the province's regencies ranked and mapped, what is
complained about where, hotspots and the overdue cases."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from lapor_schemas.status import OPEN

from .. import places as maps
from .clients import InboxQuery
from .deps import WS, Coordinator, sla_badge, urgency

router = APIRouter()


@router.get("/kerja/dasbor", response_class=HTMLResponse)
async def dashboard(request: Request, ws: WS, me: Coordinator, provinsi: str = "") -> Response:
    province = me.tenant if me.tenant != "*" else (provinsi or "63")
    if not (len(province) == 2 and province.isdigit()):
        province = "63"
    token = ws.token(me)
    report = maps.stats_report(await ws.api.ranking(province), ws.lang(request))
    categories = await ws.api.category_map(province)
    hotspots = await ws.services.metrics.hotspots(token, province)
    overdue = (
        await ws.services.routing.inbox(
            token,
            InboxQuery(
                statuses=tuple(sorted(OPEN)),
                overdue=True,
                tenant=province,
                limit=50,
                sort="deadline",
            ),
        )
    ).cases
    now = ws.clock()
    for c in overdue:
        c["sla"] = sla_badge(c, now)
    overdue.sort(key=urgency)
    names = sorted({c["name"] for r in categories for c in r.get("categories", [])})
    provinces = [r for r in await ws.api.reference("regions") if r["kind"] == "province"]
    return ws.page(
        request,
        "staff/dashboard.html",
        map=True,
        province=province,
        province_name=next((p["name"] for p in provinces if p["code"] == province), province),
        provinces=provinces,
        report=report,
        rows=report["rows"],
        grid=categories,
        category_names=names,
        hotspots=hotspots,
        overdue=overdue,
    )
