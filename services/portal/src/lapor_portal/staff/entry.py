"""Reports received offline (walk-in, complaint box, letter, phone, social media), entered by
staff for the citizen; intake checks the same rules as for the web form."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from lapor_kit.auth import STAFF_ROLES
from lapor_schemas import words

from ..identity import Account
from .deps import WS, AuditAction, Workspace, current_staff

router = APIRouter()
ENTRY_ROLES = STAFF_ROLES  # who enters walk-in reports (intake checks the same set)
OFFLINE_CHANNELS = {
    key: words.REPORT_CHANNEL[key]
    for key in ("walk_in", "complaint_box", "letter", "phone", "social_media")
}
Clerk = Annotated[Account, current_staff(*ENTRY_ROLES)]


async def entry_page(
    ws: Workspace,
    request: Request,
    me: Account,
    status: int = 200,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    categories = await ws.api.reference("categories")
    regions = [
        r
        for r in await ws.api.reference("regions")
        if r["kind"] != "province" and me.tenant in ("*", r["province_code"])
    ]
    return ws.page(
        request,
        "staff/entry.html",
        status,
        values=values or {"channel": "walk_in", "type": "pengaduan"},
        errors=errors or {},
        categories=categories,
        regions=sorted(regions, key=lambda r: (r["province_code"], r["name"])),
        channels=OFFLINE_CHANNELS,
    )


@router.get("/kerja/lapor", response_class=HTMLResponse)
async def entry(request: Request, ws: WS, me: Clerk) -> Response:
    return await entry_page(ws, request, me)


@router.post("/kerja/lapor", response_class=HTMLResponse)
async def enter(request: Request, ws: WS, me: Clerk) -> Response:
    form = await ws.form(request)
    if form is None:
        return RedirectResponse("/kerja/lapor", status_code=303)
    values: dict[str, Any] = dict(form)
    values["anonymous"] = "anonymous" in form
    values["confidential"] = "confidential" in form
    reporter = {k: form[k] for k in ("name", "email", "phone") if form.get(k)}
    body: dict[str, Any] = {
        "channel": form.get("channel", ""),
        "type": form.get("type") or "pengaduan",
        "title": form.get("title", ""),
        "description": form.get("description", ""),
        "category": form.get("category", ""),
        "region_code": form.get("region_code") or None,
        "anonymous": values["anonymous"],
        "confidential": values["confidential"],
        "reporter": {**reporter, "language": "id"} if reporter else None,
        "reference": form.get("reference") or None,
    }
    answer = await ws.services.intake.enter(ws.token(me), body)
    if answer.status != 202:
        en = ws.lang(request) == "en"
        errors: dict[str, str] = {}
        for err in (answer.body or {}).get("errors", []):
            field = str(err.get("field") or "").removeprefix("reporter.").split(".")[0]
            errors.setdefault(field, str(err.get("message_en" if en else "message")))
        if not errors:
            errors[""] = ws.detail(request, answer)
        return await entry_page(ws, request, me, 422, values=values, errors=errors)
    tid = answer.body["tracking_id"]
    await ws.audit(
        me,
        AuditAction.REPORT_ENTERED,
        tenant=str(form.get("region_code") or me.tenant)[:2],
        case=tid,
        channel=body["channel"],
    )
    return ws.page(
        request,
        "staff/entered.html",
        201,
        tracking_id=tid,
        secret=answer.body["secret"],
        duplicate=answer.body.get("duplicate", False),
    )
