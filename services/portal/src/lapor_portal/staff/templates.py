"""Reply templates: the wording an agency uses again and again ("Terima kasih atas
laporannya; tim kami sudah …"), kept per agency by its own staff. On a case's page the
follow-up starts from one, and the officer changes what the case needs."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from ..identity import Account, ReplyTemplate
from .deps import WS, AuditAction, Workspace, current_staff

router = APIRouter()
Officer = Annotated[Account, current_staff("agency_staff")]
MAX_TEMPLATES = 50


async def templates_page(
    ws: Workspace,
    request: Request,
    me: Account,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    done: bool = False,
) -> HTMLResponse:
    return ws.page(
        request,
        "staff/templates.html",
        status,
        templates=await ws.store.templates(me.agency_id or "-"),
        errors=errors or {},
        values=values or {},
        done=done,
    )


@router.get("/kerja/templat", response_class=HTMLResponse)
async def templates(request: Request, ws: WS, me: Officer, selesai: str = "") -> Response:
    return await templates_page(ws, request, me, done=bool(selesai))


@router.post("/kerja/templat", response_class=HTMLResponse)
async def save(request: Request, ws: WS, me: Officer) -> Response:
    form = await ws.form(request)
    if form is None or not me.agency_id:
        return RedirectResponse("/kerja/templat", status_code=303)
    title = " ".join(form.get("title", "").split())
    text = form.get("text", "").strip()
    errors: dict[str, str] = {}
    if not 3 <= len(title) <= 80:
        errors["title"] = ws.pair(
            request, ("Beri nama templat (3-80 huruf).", "Name the template (3-80 letters).")
        )
    if not 10 <= len(text) <= 5000:
        errors["text"] = ws.pair(
            request, ("Tulis isi balasan (10-5.000 huruf).", "Write the reply (10-5,000 letters).")
        )
    existing = await ws.store.templates(me.agency_id)
    template_id = form.get("id", "")
    if template_id and template_id not in {t.id for t in existing}:
        template_id = ""
    if not template_id and len(existing) >= MAX_TEMPLATES:
        errors["title"] = ws.pair(
            request,
            ("Paling banyak 50 templat; hapus yang tidak dipakai.", "At most 50 templates."),
        )
    if errors:
        return await templates_page(ws, request, me, status=422, errors=errors, values=form)
    template = ReplyTemplate(
        id=template_id or secrets.token_hex(8),
        agency_id=me.agency_id,
        title=title,
        text=text,
        by=me.username,
        at=ws.clock(),
    )
    await ws.store.save_template(template)
    await ws.audit(me, AuditAction.TEMPLATE_SAVED, template=title)
    return RedirectResponse("/kerja/templat?selesai=1", status_code=303)


@router.post("/kerja/templat/{template_id}/hapus", response_class=HTMLResponse)
async def remove(template_id: str, request: Request, ws: WS, me: Officer) -> Response:
    form = await ws.form(request)
    if form is not None and me.agency_id:
        gone = next(
            (t for t in await ws.store.templates(me.agency_id) if t.id == template_id), None
        )
        if gone and await ws.store.remove_template(me.agency_id, template_id):
            await ws.audit(me, AuditAction.TEMPLATE_REMOVED, template=gone.title)
    return RedirectResponse("/kerja/templat?selesai=1", status_code=303)
