"""The directory as forms: the province's policy with labels and units, its keyword rules and
its agencies as rows to add, change and remove; the whole JSON stays as "lanjutan". Every
save sends the whole directory to routing, which checks it (and keeps every revision); its
reasons are shown in Bahasa next to the field they are about. National admins and province
coordinators edit; a regency coordinator reads its regency's part."""

from __future__ import annotations

import json
import re
from copy import deepcopy
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from ..identity import Account
from .deps import COORDINATORS, WS, AuditAction, Workspace, current_staff
from .vocab import Names

router = APIRouter()
Reader = Annotated[Account, current_staff(*COORDINATORS)]
EDITORS = frozenset({"national_admin", "province_coordinator"})

# (key, label, unit, lowest, highest): the same bounds routing's TenantPolicy checks
POLICY_FIELDS: tuple[tuple[str, tuple[str, str], tuple[str, str], int, int], ...] = (
    (
        "verify_days",
        ("Batas waktu verifikasi", "Time to verify"),
        ("hari kerja", "working days"),
        1,
        30,
    ),
    (
        "follow_up_days",
        ("Batas waktu tindak lanjut instansi", "Time for the agency's follow-up"),
        ("hari kerja", "working days"),
        1,
        60,
    ),
    (
        "reply_days",
        ("Waktu tanggapan pelapor sebelum ditutup otomatis", "Reporter's time to answer"),
        ("hari kerja", "working days"),
        1,
        60,
    ),
    (
        "reminder_days_before",
        ("Pengingat sebelum tenggat", "Reminder before a deadline"),
        ("hari kerja", "working days"),
        0,
        10,
    ),
    (
        "escalation_step_days",
        ("Jeda antar tingkat eskalasi", "Time between escalation steps"),
        ("hari kerja", "working days"),
        1,
        30,
    ),
    (
        "max_transfers",
        ("Pengalihan paling banyak sebelum ke koordinator", "Transfers before the coordinator"),
        ("kali", "times"),
        0,
        10,
    ),
)
VERIFICATION = {
    "auto": ("Otomatis: laporan langsung diteruskan", "Automatic: reports are sent on at once"),
    "manual": ("Manual: admin memverifikasi dulu", "Manual: an admin verifies first"),
}
LEVELS = {
    "province": ("Provinsi", "Province"),
    "regency": ("Kabupaten", "Regency"),
    "city": ("Kota", "City"),
}
ROLES = {
    "opd": ("Perangkat daerah (OPD)", "Government office"),
    "coordinator": ("Admin koordinator", "Coordinator office"),
}
CODE = re.compile(r"^[0-9]{2}(\.[0-9a-z_-]+)+$")
RULE_ID = re.compile(r"^[0-9a-z][0-9a-z_-]{1,40}$")
LIST_SPLIT = re.compile(r"[,\n]")


def tenant_for(me: Account, provinsi: str) -> str | None:
    if me.role == "national_admin":
        return provinsi if len(provinsi) == 2 and provinsi.isdigit() else "63"
    return me.tenant if me.tenant != "*" else None


def items(text: str) -> list[str]:
    """A list typed as "a, b" or one per line, each trimmed, empty ones left out."""
    return [p.strip() for p in LIST_SPLIT.split(text) if p.strip()]


def json_problem(text: str, exc: json.JSONDecodeError) -> tuple[str, str]:
    """A JSON syntax error in words: where, and what is usually wrong there."""
    return (
        f"Teks JSON tidak dapat dibaca pada baris {exc.lineno}, kolom {exc.colno}: periksa "
        "tanda koma, tanda kutip dan kurung di sekitar tempat itu.",
        f"The JSON text cannot be read at line {exc.lineno}, column {exc.colno}: check the "
        "commas, quotes and brackets around there.",
    )


# -- changes to a directory (pure) ----------------------------------------------------------


def with_policy(
    directory: dict[str, Any], form: dict[str, str]
) -> tuple[dict[str, Any], dict[str, tuple[str, str]]]:
    new = deepcopy(directory)
    policy = new.setdefault("policy", {})
    errors: dict[str, tuple[str, str]] = {}
    for key, _label, unit, low, high in POLICY_FIELDS:
        raw = form.get(key, "").strip()
        if not raw.isdigit() or not low <= int(raw) <= high:
            errors[f"policy.{key}"] = (
                f"Isi dengan angka {low} sampai {high} ({unit[0]}).",
                f"Enter a number from {low} to {high} ({unit[1]}).",
            )
            continue
        policy[key] = int(raw)
    if form.get("verification") in VERIFICATION:
        policy["verification"] = form["verification"]
    holidays = items(form.get("local_holidays", ""))
    if any(not re.match(r"^\d{4}-\d{2}-\d{2}$", h) for h in holidays):
        errors["policy.local_holidays"] = (
            "Tulis tanggal libur daerah sebagai TTTT-BB-HH, satu per baris.",
            "Write local holidays as YYYY-MM-DD, one per line.",
        )
    else:
        policy["local_holidays"] = holidays
    return new, errors


def with_rule(
    directory: dict[str, Any], form: dict[str, str], original: str | None
) -> tuple[dict[str, Any], dict[str, tuple[str, str]]]:
    new = deepcopy(directory)
    errors: dict[str, tuple[str, str]] = {}
    rule_id = form.get("id", "").strip().lower()
    rules: list[dict[str, Any]] = new.setdefault("rules", [])
    if not RULE_ID.match(rule_id):
        errors["rule.id"] = (
            "Kode aturan 2-40 huruf kecil, angka atau tanda hubung.",
            "A rule's code: 2-40 lower-case letters, digits or hyphens.",
        )
    elif rule_id != original and any(r.get("id") == rule_id for r in rules):
        errors["rule.id"] = ("Kode aturan ini sudah dipakai.", "This rule code is taken.")
    keywords = [k.lower() for k in items(form.get("keywords", ""))]
    if not keywords:
        errors["rule.keywords"] = (
            "Tulis paling sedikit satu kata kunci.",
            "Write at least one keyword.",
        )
    target = form.get("target", "").strip()
    if not target:
        errors["rule.target"] = ("Pilih instansi tujuan.", "Choose the agency it goes to.")
    rule: dict[str, Any] = {
        "id": rule_id,
        "keywords": keywords,
        "categories": items(form.get("categories", "")),
        "regions": items(form.get("regions", "")),
    }
    if target.startswith("opd:"):
        rule["opd"] = target.removeprefix("opd:")
    else:
        rule["agency"] = target
    at = next((i for i, r in enumerate(rules) if r.get("id") == original), None)
    if at is None:
        rules.append(rule)
    else:
        rules[at] = rule
    return new, errors


def without(directory: dict[str, Any], part: str, key: str) -> dict[str, Any]:
    new = deepcopy(directory)
    new[part] = [x for x in new.get(part, []) if x.get("id") != key]
    return new


def with_agency(
    directory: dict[str, Any], form: dict[str, str], original: str | None
) -> tuple[dict[str, Any], dict[str, tuple[str, str]]]:
    new = deepcopy(directory)
    errors: dict[str, tuple[str, str]] = {}
    agencies: list[dict[str, Any]] = new.setdefault("agencies", [])
    agency_id = form.get("id", "").strip().lower()
    if not CODE.match(agency_id) or not agency_id.startswith(f"{new.get('tenant')}."):
        errors["agency.id"] = (
            f"Kode instansi diawali kode provinsi, misalnya {new.get('tenant')}.71.dishub.",
            f"An agency code starts with the province's, e.g. {new.get('tenant')}.71.dishub.",
        )
    elif agency_id != original and any(a.get("id") == agency_id for a in agencies):
        errors["agency.id"] = ("Kode instansi ini sudah dipakai.", "This agency code is taken.")
    name = " ".join(form.get("name", "").split())
    if not 3 <= len(name) <= 200:
        errors["agency.name"] = ("Tulis nama instansi (3-200 huruf).", "Write the name (3-200).")
    level = form.get("level", "")
    if level not in LEVELS:
        errors["agency.level"] = ("Pilih tingkat instansi.", "Choose the level.")
    role = form.get("role", "")
    if role not in ROLES:
        errors["agency.role"] = ("Pilih jenis instansi.", "Choose the kind of office.")
    email = form.get("email", "").strip()
    if email and not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", email):
        errors["agency.email"] = (
            "Alamat email tidak valid, misalnya pengaduan@dinas.go.id.",
            "Not a valid e-mail address.",
        )
    agency: dict[str, Any] = {
        "id": agency_id,
        "name": name,
        "region_code": form.get("region_code", ""),
        "level": level,
        "role": role,
        "categories": items(form.get("categories", "")),
        "coordinator_id": form.get("coordinator_id") or None,
        "email": email or None,
    }
    at = next((i for i, a in enumerate(agencies) if a.get("id") == original), None)
    if at is None:
        agencies.append(agency)
    else:
        agencies[at] = agency
    return new, errors


def routing_errors(
    body: Any, directory: dict[str, Any], lang: str
) -> tuple[dict[str, str], list[str]]:
    """Routing's reasons, keyed to the form's fields where they name one ("agencies.3.email"
    becomes the e-mail of the agency being edited) and the rest as a list."""
    by_field: dict[str, str] = {}
    rest: list[str] = []
    errors = body.get("errors", []) if isinstance(body, dict) else []
    for err in errors:
        if not isinstance(err, dict):
            continue
        text = str(
            (err.get("message_en") if lang == "en" else err.get("message"))
            or (
                f"Nilai tidak diterima ({err.get('message_en')})."
                if lang != "en"
                else err.get("message_en")
            )
        )
        parts = str(err.get("field", "")).split(".")
        key = None
        if parts[0] == "policy" and len(parts) > 1:
            key = f"policy.{parts[1]}"
        elif parts[0] in ("agencies", "rules") and len(parts) > 2 and parts[1].isdigit():
            kind = "agency" if parts[0] == "agencies" else "rule"
            key = f"{kind}:{_id_at(directory, parts[0], int(parts[1]))}.{parts[2]}"
        if key and key not in by_field:
            by_field[key] = text
        else:
            rest.append(text)
    if not errors and isinstance(body, dict):
        rest.append(str(body.get("detail_en" if lang == "en" else "detail") or ""))
    return by_field, rest


def _id_at(directory: dict[str, Any], part: str, index: int) -> str:
    found = directory.get(part, [])
    return str(found[index].get("id")) if 0 <= index < len(found) else ""


# -- pages ----------------------------------------------------------------------------------


async def directory_page(
    ws: Workspace,
    request: Request,
    me: Account,
    tenant: str,
    *,
    status: int = 200,
    text: str | None = None,
    errors: dict[str, str] | None = None,
    problems: list[str] | None = None,
    done: str | None = None,
    edit: dict[str, Any] | None = None,
    values: dict[str, str] | None = None,
) -> HTMLResponse:
    token = ws.token(me)
    directory = await ws.services.routing.directory(token, tenant)
    versions = await ws.services.routing.directory_versions(token, tenant)
    agencies = list((directory or {}).get("agencies", []))
    names = await Names.load(ws, ws.lang(request), agencies)
    may_edit = me.role in EDITORS
    if me.role == "regency_coordinator" and directory is not None:
        # the regency's part: its offices, and the rules that can reach them
        mine = {a["id"] for a in agencies if a.get("region_code") == me.region_code}
        directory = {
            **directory,
            "agencies": [a for a in agencies if a["id"] in mine],
            "rules": [
                r
                for r in directory.get("rules", [])
                if not r.get("regions") or me.region_code in r.get("regions", [])
            ],
        }
    regions = [
        (code, r["name"])
        for code, r in names.regions.items()
        if code == tenant or r.get("province_code") == tenant
    ]
    return ws.page(
        request,
        "staff/directory.html",
        status,
        tenant=tenant,
        directory=directory,
        names=names,
        text=text
        if text is not None
        else json.dumps(directory, indent=2, ensure_ascii=False)
        if may_edit
        else "",
        versions=versions if may_edit else [],
        errors=errors or {},
        problems=problems or [],
        done=done,
        may_edit=may_edit,
        policy_fields=POLICY_FIELDS,
        verification=VERIFICATION,
        levels=LEVELS,
        roles=ROLES,
        regions=sorted(regions),
        edit=edit,
        values=values or {},
        opd_keys=sorted(
            {str(a["id"]).rsplit(".", 1)[-1] for a in agencies if a.get("role") == "opd"}
        ),
    )


@router.get("/kerja/direktori", response_class=HTMLResponse)
async def directory(
    request: Request, ws: WS, me: Reader, provinsi: str = "", selesai: str = ""
) -> Response:
    tenant = tenant_for(me, provinsi)
    if tenant is None:
        return ws.not_found(request)
    return await directory_page(ws, request, me, tenant, done=selesai or None)


@router.get("/kerja/direktori/{part}/{key}", response_class=HTMLResponse)
async def edit_form(
    part: str, key: str, request: Request, ws: WS, me: Reader, provinsi: str = ""
) -> Response:
    """One agency's or rule's form (``baru`` for a new one)."""
    tenant = tenant_for(me, provinsi)
    if tenant is None or me.role not in EDITORS or part not in ("instansi", "aturan"):
        return ws.not_found(request)
    directory = await ws.services.routing.directory(ws.token(me), tenant)
    rows = (directory or {}).get("agencies" if part == "instansi" else "rules", [])
    row = next((r for r in rows if r.get("id") == key), None)
    if key != "baru" and row is None:
        return ws.not_found(request)
    return await directory_page(
        ws, request, me, tenant, edit={"part": part, "key": key}, values=_values(part, row)
    )


def _values(part: str, row: dict[str, Any] | None) -> dict[str, str]:
    if row is None:
        return {}
    if part == "aturan":
        return {
            "id": str(row.get("id", "")),
            "keywords": ", ".join(row.get("keywords", [])),
            "categories": ", ".join(row.get("categories", [])),
            "regions": ", ".join(row.get("regions", [])),
            "target": f"opd:{row['opd']}" if row.get("opd") else str(row.get("agency") or ""),
        }
    return {
        **{k: str(row.get(k) or "") for k in ("id", "name", "region_code", "level", "role")},
        "categories": ", ".join(row.get("categories", [])),
        "coordinator_id": str(row.get("coordinator_id") or ""),
        "email": str(row.get("email") or ""),
    }


async def _save(
    ws: Workspace,
    request: Request,
    me: Account,
    tenant: str,
    new: dict[str, Any],
    *,
    edit: dict[str, Any] | None = None,
    values: dict[str, str] | None = None,
    text: str | None = None,
) -> Response:
    answer = await ws.services.routing.save_directory(ws.token(me), tenant, new)
    if not answer.ok:
        by_field, rest = routing_errors(answer.body, new, ws.lang(request))
        if edit is not None:  # this row's reasons go next to its fields
            prefix = "agency" if edit["part"] == "instansi" else "rule"
            key = f"{prefix}:{values.get('id', '') if values else ''}."
            by_field = {
                (f"{prefix}.{k.removeprefix(key)}" if k.startswith(key) else k): v
                for k, v in by_field.items()
            }
        return await directory_page(
            ws,
            request,
            me,
            tenant,
            status=answer.status if answer.status < 500 else 422,
            errors=by_field,
            problems=rest,
            edit=edit,
            values=values,
            text=text,
        )
    await ws.audit(me, AuditAction.DIRECTORY_REPLACED, tenant=tenant)
    return RedirectResponse(f"/kerja/direktori?provinsi={tenant}&selesai=1", status_code=303)


async def _editing(
    ws: Workspace, request: Request, me: Account
) -> tuple[dict[str, str], str, dict[str, Any]] | Response:
    form = await ws.form(request)
    tenant = tenant_for(me, (form or {}).get("tenant", ""))
    if form is None or tenant is None or me.role not in EDITORS:
        return RedirectResponse("/kerja/direktori", status_code=303)
    current = await ws.services.routing.directory(ws.token(me), tenant)
    if current is None:
        return ws.not_found(request)
    return form, tenant, current


def _words(ws: Workspace, request: Request, errors: dict[str, tuple[str, str]]) -> dict[str, str]:
    return {k: ws.pair(request, v) for k, v in errors.items()}


@router.post("/kerja/direktori/kebijakan", response_class=HTMLResponse)
async def save_policy(request: Request, ws: WS, me: Reader) -> Response:
    found = await _editing(ws, request, me)
    if isinstance(found, Response):
        return found
    form, tenant, current = found
    new, errors = with_policy(current, form)
    if errors:
        return await directory_page(
            ws, request, me, tenant, status=422, errors=_words(ws, request, errors)
        )
    return await _save(ws, request, me, tenant, new)


@router.post("/kerja/direktori/{part}/{key}", response_class=HTMLResponse)
async def save_row(part: str, key: str, request: Request, ws: WS, me: Reader) -> Response:
    """Save (or, with ``hapus``, remove) one agency or rule."""
    found = await _editing(ws, request, me)
    if isinstance(found, Response):
        return found
    form, tenant, current = found
    if part not in ("instansi", "aturan"):
        return ws.not_found(request)
    original = None if key == "baru" else key
    if "hapus" in form and original is not None:
        new = without(current, "agencies" if part == "instansi" else "rules", original)
        return await _save(ws, request, me, tenant, new)
    change = with_agency if part == "instansi" else with_rule
    new, errors = change(current, form, original)
    edit = {"part": part, "key": key}
    if errors:
        return await directory_page(
            ws,
            request,
            me,
            tenant,
            status=422,
            errors=_words(ws, request, errors),
            edit=edit,
            values=form,
        )
    return await _save(ws, request, me, tenant, new, edit=edit, values=form)


@router.post("/kerja/direktori", response_class=HTMLResponse)
async def save_json(request: Request, ws: WS, me: Reader) -> Response:
    """The "lanjutan" (advanced) way: the whole directory as JSON."""
    found = await _editing(ws, request, me)
    if isinstance(found, Response):
        return found
    form, tenant, _ = found
    text = form.get("directory", "")
    try:
        body = json.loads(text)
    except json.JSONDecodeError as exc:
        return await directory_page(
            ws,
            request,
            me,
            tenant,
            status=422,
            text=text,
            errors={"json": ws.pair(request, json_problem(text, exc))},
        )
    return await _save(ws, request, me, tenant, body, text=text)


@router.post("/kerja/direktori/kembalikan", response_class=HTMLResponse)
async def roll_back(request: Request, ws: WS, me: Reader) -> Response:
    found = await _editing(ws, request, me)
    if isinstance(found, Response):
        return found
    form, tenant, _ = found
    raw = form.get("revision", "0")
    revision = int(raw) if raw.isdigit() else 0
    answer = await ws.services.routing.roll_back_directory(ws.token(me), tenant, revision)
    if not answer.ok:
        return await directory_page(
            ws, request, me, tenant, status=answer.status, problems=[ws.detail(request, answer)]
        )
    await ws.audit(me, AuditAction.DIRECTORY_ROLLED_BACK, tenant=tenant, revision=revision)
    return RedirectResponse(f"/kerja/direktori?provinsi={tenant}&selesai=1", status_code=303)
