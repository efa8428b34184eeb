"""The audit log (national admins and province coordinators): every look at a reporter's
identity and every staff action, in words, newest first, and as a CSV."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from lapor_kit.spreadsheet import csv_text

from ..identity import Account, AuditEntry
from .deps import AUDITORS, WS, AuditAction, Workspace, current_staff
from .vocab import Names

router = APIRouter()
Auditor = Annotated[Account, current_staff(*AUDITORS)]


async def audit_rows(
    ws: Workspace, me: Account, provinsi: str, kasus: str, limit: int
) -> list[AuditEntry]:
    tenant = me.tenant if me.tenant != "*" else (provinsi or None)
    return list(await ws.store.audit_entries(tenant, case=kasus or None, limit=limit))


async def _names(ws: Workspace, me: Account, lang: str) -> Names:
    agencies = (
        await ws.services.routing.agencies(ws.token(me), me.tenant) if me.tenant != "*" else []
    )
    return await Names.load(ws, lang, agencies)


@router.get("/kerja/audit", response_class=HTMLResponse)
async def audit(
    request: Request, ws: WS, me: Auditor, provinsi: str = "", kasus: str = ""
) -> Response:
    rows = await audit_rows(ws, me, provinsi, kasus, 300)
    names = await _names(ws, me, ws.lang(request))
    return ws.page(
        request, "staff/audit.html", rows=rows, provinsi=provinsi, kasus=kasus, names=names
    )


@router.get("/kerja/audit.csv")
async def audit_csv(
    request: Request, ws: WS, me: Auditor, provinsi: str = "", kasus: str = ""
) -> Response:
    names = await _names(ws, me, ws.lang(request))
    rows = [
        [
            row.at.isoformat(),
            row.who,
            names.role(row.role) if row.role != "-" else "",
            names.province(row.tenant),
            row.case or "",
            names.audit(row.action),
            names.audit_detail(row.detail),
        ]
        for row in await audit_rows(ws, me, provinsi, kasus, 100_000)
    ]
    header = ["waktu", "siapa", "peran", "provinsi", "laporan", "tindakan", "keterangan"]
    text = csv_text(header, rows)
    await ws.audit(me, AuditAction.AUDIT_EXPORTED, tenant=me.tenant if me.tenant != "*" else "*")
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="lapor-audit.csv"',
            "Cache-Control": "no-store",
        },
    )
