"""The inbox: find a case by its number or by words, sort and filter what the token may
see, page through it with a total, and act on many at once (coordinators: verify the
selected, mark the selected as repeats of one case). A bulk action goes case by case through
routing's rules: one refused is reported by its number and title, the others go on, and
each is audited like the same action on the case page."""

from __future__ import annotations

import asyncio
import re
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from lapor_schemas.status import ALL, OPEN, STAFF_MAY

from ..identity import Account
from .clients import InboxQuery
from .deps import COORDINATORS, WS, AuditAction, Staff, current_staff, sla_badge
from .vocab import Names

router = APIRouter()
TRACKING_ID = re.compile(r"^\s*(LPR-[0-9A-Z]{10})\s*$", re.IGNORECASE)
PAGE_SIZES = (25, 50, 100)
SORTS = {
    "mendesak": "urgency",
    "tenggat": "deadline",
    "terbaru": "newest",
    "terlama": "oldest",
}
BULK = ("verify", "mark_repeat")
MAX_BULK = 100


def group_repeats(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Possible repeats (flagged at submission, not yet decided) right under their original
    when it is on the same page, marked ``under`` so the list indents them; the others stay
    in their place with their mark."""
    on_page = {c["tracking_id"] for c in cases}
    children: dict[str, list[dict[str, Any]]] = {}
    rest: list[dict[str, Any]] = []
    for case in cases:
        original = case.get("repeat_of")
        if (
            case.get("status") == "submitted"
            and original in on_page
            and original != case.get("tracking_id")
        ):
            children.setdefault(str(original), []).append({**case, "under": True})
        else:
            rest.append(case)
    grouped: list[dict[str, Any]] = []
    for case in rest:
        grouped.append({**case, "repeats": len(children.get(case["tracking_id"], []))})
        grouped.extend(children.get(case["tracking_id"], []))
    return grouped


async def _nothing() -> list[dict[str, Any]]:
    return []


def _flag(value: str) -> bool:
    return value not in ("", "0")


@router.get("/kerja", response_class=HTMLResponse)
async def inbox(
    request: Request,
    ws: WS,
    me: Staff,
    cari: str = "",
    status: str = "terbuka",
    kategori: str = "",
    wilayah: str = "",
    terlambat: str = "",
    parkir: str = "",
    mirip: str = "",
    saya: str = "",
    urut: str = "mendesak",
    per: int = 25,
    halaman: int = 1,
) -> Response:
    token = ws.token(me)
    found = TRACKING_ID.match(cari)
    if found:  # a tracking number: straight to the case, if this person may see it
        tid = found.group(1).upper()
        if await ws.services.routing.case(token, tid) is not None:
            return RedirectResponse(f"/kerja/kasus/{tid}", status_code=303)
    per = per if per in PAGE_SIZES else PAGE_SIZES[0]
    halaman = max(1, min(halaman, 5000))
    urut = urut if urut in SORTS else "mendesak"
    statuses: tuple[str, ...] = ()
    if status == "terbuka":
        statuses = tuple(sorted(OPEN))
    elif status in ALL:
        statuses = (status,)
    query = InboxQuery(
        statuses=statuses,
        category=kategori[:40],
        region_code=wilayah[:12],
        overdue=_flag(terlambat),
        parked=_flag(parkir),
        possible_repeat=_flag(mirip),
        assignee=me.username if _flag(saya) else "",
        words="" if found else cari.strip()[:200],
        sort=SORTS[urut],
        limit=per,
        offset=(halaman - 1) * per,
    )
    listed, agencies = await asyncio.gather(
        ws.services.routing.inbox(token, query),
        ws.services.routing.agencies(token, me.tenant) if me.tenant != "*" else _nothing(),
    )
    names = await Names.load(ws, ws.lang(request), agencies)
    now = ws.clock()
    cases = [
        {**c, "sla": sla_badge(c, now), "possible_repeat": bool(c.get("repeat_of"))}
        for c in listed.cases
    ]
    filters = {
        "cari": cari,
        "status": status,
        "kategori": kategori,
        "wilayah": wilayah,
        "terlambat": terlambat,
        "parkir": parkir,
        "mirip": mirip,
        "saya": saya,
        "urut": urut,
        "per": str(per),
    }
    pages = max(1, -(-listed.total // per))
    return ws.page(
        request,
        "staff/inbox.html",
        cases=group_repeats(cases),
        total=listed.total,
        pages=pages,
        halaman=halaman,
        filters=filters,
        link=lambda **change: "/kerja?" + urlencode({**filters, **change}),
        names=names,
        categories=names.category_list(),
        regions=names.region_list(me),
        statuses=sorted(ALL, key=lambda s: names.status(s)),
        page_sizes=PAGE_SIZES,
        bulk=me.role in COORDINATORS,
        missing_id=found.group(1).upper() if found else None,
    )


@router.post("/kerja/massal", response_class=HTMLResponse)
async def bulk(
    request: Request,
    ws: WS,
    me: Annotated[Account, current_staff(*COORDINATORS)],
) -> Response:
    """Verify the selected cases, or mark them as repeats of one, each through routing's
    rules: the refused are named with the reason, the rest are done."""
    form = await request.form()
    values = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    if not ws.cookies.csrf_ok(request, values.get("csrf")):
        return RedirectResponse("/kerja", status_code=303)
    action = values.get("aksi", "")
    chosen = list(
        dict.fromkeys(
            str(v).strip().upper() for v in form.getlist("kasus") if TRACKING_ID.match(str(v))
        )
    )[:MAX_BULK]
    original = values.get("asal", "").strip().upper()
    back = values.get("kembali", "/kerja")
    back = back if back.startswith("/kerja") and "//" not in back else "/kerja"
    problem: tuple[str, str] | None = None
    if action not in BULK:
        problem = ("Pilih tindakan untuk laporan yang dipilih.", "Choose what to do.")
    elif not chosen:
        problem = ("Pilih paling sedikit satu laporan.", "Select at least one case.")
    elif action == "mark_repeat" and not TRACKING_ID.match(original):
        problem = (
            "Tulis nomor laporan asal (LPR-…) untuk menandai laporan berulang.",
            "Write the original's tracking number (LPR-…) to mark repeats.",
        )
    if problem is not None:
        return ws.page(
            request, "staff/bulk.html", 422, error=ws.pair(request, problem), results=[], back=back
        )
    token = ws.token(me)
    results: list[dict[str, Any]] = []
    for tid in chosen:
        body: dict[str, Any] = (
            {"note": None, "agency_id": None} if action == "verify" else {"repeat_of": original}
        )
        if action == "mark_repeat" and tid == original:
            results.append(
                {
                    "tracking_id": tid,
                    "title": "",
                    "ok": False,
                    "why": ws.pair(
                        request,
                        ("Ini laporan asalnya sendiri.", "This is the original itself."),
                    ),
                }
            )
            continue
        answer = await ws.services.routing.act(token, tid, action, body)
        if answer.ok:
            await ws.audit(
                me,
                AuditAction(action),
                tenant=str(answer.body.get("tenant") or me.tenant),
                case=tid,
                repeat_of=original if action == "mark_repeat" else None,
            )
            results.append({"tracking_id": tid, "title": answer.body.get("title", ""), "ok": True})
            continue
        seen = await ws.services.routing.case(token, tid) if answer.status != 404 else None
        results.append(
            {
                "tracking_id": tid,
                "title": (seen or {}).get("title", ""),
                "ok": False,
                "why": ws.detail(request, answer)
                if answer.status != 404
                else ws.pair(request, ("Laporan tidak ditemukan.", "Case not found.")),
            }
        )
    return ws.page(
        request,
        "staff/bulk.html",
        results=results,
        action=action,
        original=original,
        back=back,
        error=None,
        done=sum(1 for r in results if r["ok"]),
        refused=sum(1 for r in results if not r["ok"]),
        may=STAFF_MAY,
    )
