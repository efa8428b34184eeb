"""A case on one page: the report with its photos, the facts, the history and the notices in
words, the actions the person's role has in the case's status; the reporter's identity on
purpose (with a reason, audited); what the public page shows (coordinators); and "not within
our authority" as two steps: the reason and where it should go, then a page that says
where the case will go before it goes."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from lapor_schemas.reference import province_of
from lapor_schemas.status import AGENCY_ACTIONS, COORDINATOR_ACTIONS, STAFF_MAY

from ..identity import Account
from .clients import ACTION_PATHS
from .deps import (
    COORDINATORS,
    FORM_EXPIRED,
    WS,
    AuditAction,
    Staff,
    Workspace,
    sla_badge,
)
from .vocab import Names

router = APIRouter()
MIN_REASON_CHARACTERS = 15
REASON_NEEDED = (
    "Tulis alasan Anda melihat identitas pelapor (paling sedikit 15 huruf, beberapa kata), "
    'misalnya "menghubungi pelapor untuk lokasi persisnya". Alasan ini tercatat di log audit.',
    "Write why you need the reporter's identity (at least 15 letters, a few words), e.g. "
    '"to call the reporter about the exact place". The reason is recorded in the audit log.',
)
DECLINE_REASON_NEEDED = (
    "Tulis mengapa laporan ini bukan wewenang instansi Anda (paling sedikit 3 huruf).",
    "Write why this report is not within your agency's authority (at least 3 letters).",
)
TO_COORDINATOR = "koordinator"
PHOTO_TYPES = ("image/jpeg", "image/png", "image/webp")


def reason_problem(reason: str) -> bool:
    """Whether an identity view's reason is too thin to record (a few real words needed)."""
    text = " ".join(reason.split())
    return len(text) < MIN_REASON_CHARACTERS or len(text.split(" ")) < 2


def actions_for(me: Account, case: dict[str, Any]) -> list[str]:
    """The buttons a role gets on a case in its status (routing decides in the end, and its
    refusal is shown with the lifecycle's reason)."""
    status = case.get("status", "")
    if me.role == "ombudsman":
        return []
    allowed: set[str] = set()
    if me.role in COORDINATORS:
        allowed |= COORDINATOR_ACTIONS
    if me.role == "agency_staff" and (case.get("agency") or {}).get("id") == me.agency_id:
        allowed |= AGENCY_ACTIONS
    return [a for a in ACTION_PATHS if a in allowed and status in STAFF_MAY[a]]


def may_assign(me: Account, case: dict[str, Any]) -> bool:
    """Who hands the case to an officer (routing checks the same): the agency holding it, or
    a coordinator."""
    agency = (case.get("agency") or {}).get("id")
    if me.role == "agency_staff":
        return agency is not None and agency == me.agency_id
    return me.role in COORDINATORS and agency is not None


async def officers(ws: Workspace, case: dict[str, Any]) -> list[Account]:
    """The agency's own active accounts, by name: whom its case can be handed to."""
    agency = (case.get("agency") or {}).get("id")
    if not agency:
        return []
    listed = await ws.store.list_accounts(str(case["tenant"]))
    mine = [a for a in listed if a.agency_id == agency and a.role == "agency_staff"]
    return sorted((a for a in mine if not a.disabled), key=lambda a: a.name)


SURE = 0.8
"""How sure the words must be before a case is flagged as perhaps in the wrong category."""


async def category_hint(
    ws: Workspace,
    case: dict[str, Any],
    report: dict[str, Any] | None,
    actions: list[str],
) -> dict[str, Any] | None:
    """The category the report's words point to, when it is not the case's and the person
    may correct it (the verifier's one-click fix)."""
    if "recategorise" not in actions or report is None:
        return None
    ranked = await ws.api.suggest(
        str(report.get("title") or case.get("title") or ""), str(report.get("description") or "")
    )
    if not ranked or ranked[0]["code"] == case.get("category"):
        return None
    if float(ranked[0]["score"]) < SURE:
        return None
    return {"code": ranked[0]["code"], "score": float(ranked[0]["score"])}


def grouped_agencies(
    agencies: list[dict[str, Any]], case: dict[str, Any], names: Names
) -> list[tuple[str, list[dict[str, Any]]]]:
    """Where a case may be sent, in groups a person can scan: the offices (OPD) of the
    case's regency first, then the province's, each by name; the case's current agency and
    the coordinators' offices are left out."""
    region = str(case.get("region_code") or "")
    province = province_of(region) if region else str(case.get("tenant") or "")
    current = (case.get("agency") or {}).get("id")
    usable = [a for a in agencies if a.get("role") == "opd" and a.get("id") != current]
    local = sorted(
        (a for a in usable if a.get("region_code") == region), key=lambda a: str(a["name"])
    )
    provincial = sorted(
        (a for a in usable if a.get("region_code") == province), key=lambda a: str(a["name"])
    )
    groups = []
    if local:
        groups.append((names.region(region), local))
    if provincial:
        groups.append((names.province(province), provincial))
    return groups


def history_lines(case: dict[str, Any], names: Names) -> list[dict[str, Any]]:
    lines = []
    for h in case.get("history", []):
        lines.append(
            {
                "at": h.get("at"),
                "what": names.event(str(h.get("type") or "")),
                "status": names.status(str(h.get("status") or "")),
                "agency": names.agency(h.get("agency_id")) if h.get("agency_id") else None,
                "text": h.get("reason")
                or h.get("text")
                or (names.category(h["category"]) if h.get("category") else None),
                "score": h.get("score"),
            }
        )
    return lines


def delivery_lines(deliveries: list[dict[str, Any]], names: Names) -> list[dict[str, Any]]:
    return [
        {
            "at": d.get("sent_at") or d.get("created_at"),
            "about": names.event(str(d.get("cause_event_type") or "")),
            "how": names.channel(str(d.get("channel") or "")),
            "to": names.recipient(str(d.get("recipient_role") or ""))
            + (f" ({names.agency(d['agency_id'])})" if d.get("agency_id") else ""),
            "state": names.delivery(str(d.get("status") or "")),
            "failed": d.get("status") in ("failed", "dead_lettered"),
        }
        for d in deliveries
    ]


async def case_page(
    ws: Workspace,
    request: Request,
    me: Account,
    tid: str,
    *,
    status: int = 200,
    error: str | None = None,
    identity: dict[str, Any] | None = None,
    done: str | None = None,
    values: dict[str, str] | None = None,
    template: str | None = None,
) -> HTMLResponse:
    token = ws.token(me)
    case = await ws.services.routing.case(token, tid)
    if case is None:
        return ws.not_found(request)
    agency = (case.get("agency") or {}).get("id")
    templates = await ws.store.templates(agency) if agency else []
    actions = actions_for(me, case)
    assigning = may_assign(me, case)
    chosen = next((t for t in templates if t.id == template), None)
    # the rest of the page comes from three services at once, not one after another
    report, deliveries, agencies = await asyncio.gather(
        ws.services.intake.report(token, tid),
        ws.services.notify.deliveries(token, tid),
        ws.services.routing.agencies(token, str(case["tenant"])),
    )
    names = await Names.load(ws, ws.lang(request), agencies)
    case["sla"] = sla_badge(case, ws.clock())
    photos = [
        i
        for i, a in enumerate((report or {}).get("attachments", []))
        if a.get("content_type") in PHOTO_TYPES
    ]
    return ws.page(
        request,
        "staff/case.html",
        status,
        case=case,
        report=report,
        photos=photos,
        history=history_lines(case, names),
        deliveries=delivery_lines(deliveries, names),
        agency_groups=grouped_agencies(agencies, case, names),
        names=names,
        actions=actions,
        suggested=await category_hint(ws, case, report, actions),
        error=error,
        identity=identity,
        done=done,
        values=values or {},
        may_assign=assigning,
        officers=await officers(ws, case) if assigning else [],
        templates=templates,
        follow_up_text=chosen.text if chosen else "",
    )


@router.get("/kerja/kasus/{tid}", response_class=HTMLResponse)
async def case(
    tid: str,
    request: Request,
    ws: WS,
    me: Staff,
    selesai: str | None = None,
    templat: str | None = None,
) -> Response:
    return await case_page(ws, request, me, tid, done=selesai, template=templat)


@router.post("/kerja/kasus/{tid}/catatan", response_class=HTMLResponse)
async def add_note(tid: str, request: Request, ws: WS, me: Staff) -> Response:
    """An internal note: staff of the case read it; the reporter and the public never do."""
    form = await ws.form(request)
    if form is None:
        return RedirectResponse(f"/kerja/kasus/{tid}", status_code=303)
    text = form.get("note", "").strip()
    if len(text) < 2:
        return await case_page(
            ws,
            request,
            me,
            tid,
            status=422,
            error=ws.pair(request, ("Tulis catatannya dulu.", "Write the note first.")),
        )
    answer = await ws.services.routing.add_note(ws.token(me), tid, text[:2000])
    if not answer.ok:
        return ws.not_found(request)
    await ws.audit(
        me, AuditAction.NOTE_ADDED, tenant=str(answer.body.get("tenant") or me.tenant), case=tid
    )
    return RedirectResponse(f"/kerja/kasus/{tid}?selesai=catatan#catatan", status_code=303)


@router.post("/kerja/kasus/{tid}/petugas", response_class=HTMLResponse)
async def assign(tid: str, request: Request, ws: WS, me: Staff) -> Response:
    """Hand the case to a named officer of the agency holding it (or to nobody)."""
    form = await ws.form(request)
    if form is None:
        return RedirectResponse(f"/kerja/kasus/{tid}", status_code=303)
    token = ws.token(me)
    case = await ws.services.routing.case(token, tid)
    if case is None or not may_assign(me, case):
        return ws.not_found(request)
    username = form.get("petugas", "")
    officer = next((a for a in await officers(ws, case) if a.username == username), None)
    if username and officer is None:
        return await case_page(
            ws,
            request,
            me,
            tid,
            status=422,
            error=ws.pair(
                request,
                ("Pilih petugas dari instansi ini.", "Choose an officer of this agency."),
            ),
        )
    answer = await ws.services.routing.assign(
        token, tid, officer.username if officer else None, officer.name if officer else None
    )
    if not answer.ok:
        return await case_page(
            ws, request, me, tid, status=answer.status, error=ws.detail(request, answer)
        )
    await ws.audit(
        me,
        AuditAction.CASE_ASSIGNED,
        tenant=str(case["tenant"]),
        case=tid,
        officer=officer.username if officer else "-",
    )
    return RedirectResponse(f"/kerja/kasus/{tid}?selesai=petugas", status_code=303)


@router.post("/kerja/kasus/{tid}/identitas", response_class=HTMLResponse)
async def reveal(tid: str, request: Request, ws: WS, me: Staff) -> Response:
    form = await ws.form(request)
    if form is None:
        return RedirectResponse(f"/kerja/kasus/{tid}", status_code=303)
    reason = " ".join(form.get("reason", "").split())[:300]
    if reason_problem(reason):
        return await case_page(
            ws, request, me, tid, status=422, error=ws.pair(request, REASON_NEEDED)
        )
    token = ws.token(me)
    report, found = await asyncio.gather(
        ws.services.intake.report(token, tid), ws.services.intake.reporter(token, tid)
    )
    if found is None or report is None:
        return ws.not_found(request)
    await ws.audit(
        me,
        AuditAction.IDENTITY_VIEWED,
        tenant=province_of(report["region_code"]),  # the case's province, not a form's
        case=tid,
        reason=reason,
    )
    return await case_page(ws, request, me, tid, identity=found)


@router.post("/kerja/kasus/{tid}/publik", response_class=HTMLResponse)
async def public_choice(tid: str, request: Request, ws: WS, me: Staff) -> Response:
    """What the public sees of a report (coordinators): hide it, or redact passages of its
    public text. The original stays for staff and the reporter; audited."""
    form = await ws.form(request)
    if form is None:
        return RedirectResponse(f"/kerja/kasus/{tid}", status_code=303)
    hidden = "hidden" in form
    passages = [line.strip() for line in form.get("redactions", "").splitlines()][:20]
    passages = [p[:300] for p in passages if p]
    answer = await ws.services.intake.set_public(ws.token(me), tid, hidden, passages)
    if answer is None:
        return ws.not_found(request)
    await ws.audit(
        me,
        AuditAction.PUBLIC_VIEW_CHANGED,
        tenant=str(answer.get("tenant") or me.tenant),
        case=tid,
        hidden=hidden,
        redactions=len(passages),
    )
    return RedirectResponse(f"/kerja/kasus/{tid}?selesai=publik", status_code=303)


async def _file(
    ws: Workspace, request: Request, me: Account, tid: str, index: int, *, small: bool
) -> Response:
    found = await ws.services.intake.attachment(ws.token(me), tid, index, small=small)
    if found.status != 200:
        return ws.not_found(request)
    if not small:  # a photo's small copy on the case page is not a look at the file
        await ws.audit(me, AuditAction.ATTACHMENT_VIEWED, case=tid, index=index)
    return Response(
        found.content,
        media_type=found.content_type,
        headers={
            "Content-Disposition": "inline" if small else "attachment",
            "Cache-Control": "private, no-store",
        },
    )


@router.get("/kerja/kasus/{tid}/berkas/{index}")
async def attachment(tid: str, index: int, request: Request, ws: WS, me: Staff) -> Response:
    return await _file(ws, request, me, tid, index, small=False)


@router.get("/kerja/kasus/{tid}/berkas/{index}/kecil")
async def thumbnail(tid: str, index: int, request: Request, ws: WS, me: Staff) -> Response:
    return await _file(ws, request, me, tid, index, small=True)


def action_body(action: str, v: dict[str, str]) -> dict[str, Any]:
    """The routing API body for an action form's fields (routing validates them)."""
    if action == "verify":
        return {"note": v.get("note") or None, "agency_id": v.get("agency_id") or None}
    if action == "request_info":
        return {"question": v.get("text", "")}
    if action in ("reject", "close"):
        return {"reason": v.get("text", "")}
    if action == "mark_repeat":
        return {"repeat_of": v.get("repeat_of", "").strip().upper()}
    if action == "dispatch":
        return {"agency_id": v.get("agency_id") or None}
    if action == "recategorise":
        return {"category": v.get("category", "")}
    if action == "decline":
        target = v.get("agency_id", "")
        return {
            "reason": v.get("text", ""),
            "suggested_agency_id": None if target in ("", TO_COORDINATOR) else target,
            "to_coordinator": target in ("", TO_COORDINATOR),
        }
    return {"text": v.get("text", "")}


async def decline_confirmation(
    ws: Workspace, request: Request, me: Account, tid: str, values: dict[str, str]
) -> HTMLResponse:
    """The second step of "not within our authority": where the case will go, in words,
    before it goes."""
    token = ws.token(me)
    case = await ws.services.routing.case(token, tid)
    if case is None:
        return ws.not_found(request)
    if len(" ".join(values.get("text", "").split())) < 3:
        return await case_page(
            ws,
            request,
            me,
            tid,
            status=422,
            error=ws.pair(request, DECLINE_REASON_NEEDED),
            values=values,
        )
    agencies = await ws.services.routing.agencies(token, str(case["tenant"]))
    names = await Names.load(ws, ws.lang(request), agencies)
    target = values.get("agency_id", "") or TO_COORDINATOR
    known = {a["id"] for group in grouped_agencies(agencies, case, names) for a in group[1]}
    if target != TO_COORDINATOR and target not in known:
        target = TO_COORDINATOR
    return ws.page(
        request,
        "staff/decline.html",
        case=case,
        names=names,
        target=target,
        target_name=names.agency(target) if target != TO_COORDINATOR else None,
        reason=values.get("text", ""),
    )


@router.post("/kerja/kasus/{tid}/aksi/{action}", response_class=HTMLResponse)
async def act(tid: str, action: str, request: Request, ws: WS, me: Staff) -> Response:
    if action not in ACTION_PATHS:
        return ws.not_found(request)
    form = await request.form()
    values = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    if not ws.cookies.csrf_ok(request, values.get("csrf")):
        return await case_page(
            ws, request, me, tid, status=400, error=ws.pair(request, FORM_EXPIRED)
        )
    if action == "decline" and values.get("yakin") != "1":
        return await decline_confirmation(ws, request, me, tid, values)
    body = action_body(action, values)
    token = ws.token(me)
    if action == "follow_up":
        body["attachments"] = []
        for upload in form.getlist("lampiran")[:5]:
            if isinstance(upload, str) or not getattr(upload, "filename", ""):
                continue
            data = await upload.read(10 * 1024 * 1024 + 1)
            stored = await ws.services.intake.upload(
                token, upload.filename or "", upload.content_type or "", data
            )
            if stored.status != 201:
                return await case_page(
                    ws, request, me, tid, status=422, error=ws.detail(request, stored)
                )
            body["attachments"].append({"handle": stored.body["handle"]})
    answer = await ws.services.routing.act(token, tid, action, body)
    if answer.status == 404:
        return ws.not_found(request)
    if not answer.ok:
        return await case_page(
            ws, request, me, tid, status=answer.status, error=ws.detail(request, answer)
        )
    await ws.audit(
        me,
        AuditAction(action),
        tenant=answer.body.get("tenant"),
        case=tid,
        agency_id=body.get("agency_id") or body.get("suggested_agency_id"),
        decided_by="koordinator" if body.get("to_coordinator") else None,
    )
    return RedirectResponse(f"/kerja/kasus/{tid}?selesai={action}", status_code=303)
