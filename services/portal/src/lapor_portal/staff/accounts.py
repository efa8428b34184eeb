"""Accounts: coordinators create, disable, enable and reset the accounts below them (see
``identity.may_manage``); everyone changes their own password and two-step verification,
each asking for the password again."""

from __future__ import annotations

from typing import Annotated, Any

import pyotp
from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from lapor_schemas import words

from ..identity import Account, AccountRefusedError, check_new_account, may_manage, password_problem
from ..store import AccountExistsError
from .deps import (
    COORDINATORS,
    SESSION_COOKIE,
    WS,
    AuditAction,
    Staff,
    Workspace,
    current_staff,
    delayed,
    temporary_password,
)
from .vocab import Names

router = APIRouter()
MANAGERS = COORDINATORS
WRONG_PASSWORD = ("Kata sandi sekarang salah.", "The current password is wrong.")
Manager = Annotated[Account, current_staff(*MANAGERS)]
Anyone = Annotated[Account, current_staff(password_change=True)]
CHANGES = {
    "nonaktif": AuditAction.ACCOUNT_DISABLED,
    "aktif": AuditAction.ACCOUNT_ENABLED,
    "reset": AuditAction.PASSWORD_RESET,
}


async def places(
    ws: Workspace, me: Account, tenant: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    regions = [
        r
        for r in await ws.api.reference("regions")
        if r["kind"] != "province" and (tenant == "*" or r["province_code"] == tenant)
    ]
    agencies = await ws.services.routing.agencies(ws.token(me), tenant) if tenant != "*" else []
    return regions, agencies


def creatable_roles(me: Account) -> list[str]:
    if me.role == "national_admin":
        return list(words.ROLE)
    if me.role == "province_coordinator":
        return ["regency_coordinator", "agency_staff"]
    if me.role == "regency_coordinator":
        return ["agency_staff"]
    return []


async def accounts_page(
    ws: Workspace,
    request: Request,
    me: Account,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    issued: dict[str, str] | None = None,
) -> HTMLResponse:
    listed = await ws.store.list_accounts(None if me.tenant == "*" else me.tenant)
    mine = [a for a in listed if may_manage(me, a.role, a.tenant, a.region_code, a.agency_id)]
    tenant = (values or {}).get("tenant") or (me.tenant if me.tenant != "*" else "63")
    regions, agencies = await places(ws, me, tenant)
    provinces = [r for r in await ws.api.reference("regions") if r["kind"] == "province"]
    region_names = {r["code"]: r["name"] for r in await ws.api.reference("regions")}
    agency_names = {a["id"]: a["name"] for a in agencies}
    return ws.page(
        request,
        "staff/accounts.html",
        status,
        accounts=mine,
        roles=creatable_roles(me),
        regions=regions,
        agencies=agencies,
        provinces=provinces,
        scope_name=lambda a: (
            agency_names.get(a.agency_id or "")
            or region_names.get(a.region_code or a.tenant, "")
            or (
                a.agency_id
                or a.region_code
                or words.pick(("Nasional", "National"), ws.lang(request))
            )
        ),
        errors=errors or {},
        values=values or {},
        issued=issued,
        tenant=tenant,
    )


@router.get("/kerja/akun", response_class=HTMLResponse)
async def accounts(request: Request, ws: WS, me: Staff, provinsi: str = "") -> Response:
    if me.role not in MANAGERS:
        return RedirectResponse("/kerja/akun/saya", status_code=303)
    values = {"tenant": provinsi} if me.tenant == "*" and provinsi else None
    return await accounts_page(ws, request, me, values=values)


@router.post("/kerja/akun", response_class=HTMLResponse)
async def create_account(request: Request, ws: WS, me: Staff) -> Response:
    form = await ws.form(request)
    if form is None or me.role not in MANAGERS:
        return RedirectResponse("/kerja/akun", status_code=303)
    role = form.get("role", "")
    tenant = (
        "*"
        if role in ("national_admin", "ombudsman")
        else (form.get("tenant", "") if me.tenant == "*" else me.tenant)
    )
    region_code = form.get("region_code") or None
    agency_id = form.get("agency_id") or None
    if role != "regency_coordinator":
        region_code = None
    if role != "agency_staff":
        agency_id = None
    username = form.get("username", "").strip().lower()
    regions, agencies = await places(ws, me, tenant) if tenant != "*" else ([], [])
    try:
        check_new_account(
            me,
            username=username,
            name=form.get("name", "").strip(),
            role=role,
            tenant=tenant,
            region_code=region_code,
            agency_id=agency_id,
            known_regions={r["code"] for r in regions},
            known_agencies={a["id"] for a in agencies},
        )
    except AccountRefusedError as exc:
        errors = {k: ws.pair(request, v) for k, v in exc.problems.items()}
        return await accounts_page(ws, request, me, status=422, errors=errors, values=form)
    if role == "regency_coordinator":  # escalations reach the regency's coordinator office
        agency_id = next(
            (
                a["id"]
                for a in agencies
                if a.get("role") == "coordinator" and a.get("region_code") == region_code
            ),
            None,
        )
    temporary = temporary_password()
    account = Account(
        username=username,
        name=form.get("name", "").strip(),
        role=role,
        tenant=tenant,
        region_code=region_code,
        agency_id=agency_id,
        password_hash=ws.hasher.hash(temporary),
        must_change_password=True,
        created_by=me.username,
        created_at=ws.clock(),
    )
    try:
        await ws.store.create(account)
    except AccountExistsError:
        taken = ws.pair(request, ("Nama pengguna sudah dipakai.", "The username is taken."))
        return await accounts_page(
            ws, request, me, status=409, values=form, errors={"username": taken}
        )
    await ws.audit(
        me,
        AuditAction.ACCOUNT_CREATED,
        tenant=tenant if tenant != "*" else me.tenant,
        account=username,
        role=role,
    )
    return await accounts_page(
        ws, request, me, status=201, issued={"username": username, "password": temporary}
    )


@router.post("/kerja/pengguna/{username}/{change}", response_class=HTMLResponse)
async def change_account(
    username: str, change: str, request: Request, ws: WS, me: Staff
) -> Response:
    form = await ws.form(request)
    target = await ws.store.account(username) if form is not None else None
    if (
        target is None
        or change not in CHANGES
        or target.username == me.username
        or not may_manage(me, target.role, target.tenant, target.region_code, target.agency_id)
    ):
        return RedirectResponse("/kerja/akun", status_code=303)
    issued = None
    if change == "nonaktif":
        await ws.store.update(username, disabled=True)
        await ws.store.close_sessions_of(username)
    elif change == "aktif":
        await ws.store.update(username, disabled=False)
    else:
        temporary = temporary_password()
        await ws.store.update(
            username, password_hash=ws.hasher.hash(temporary), must_change_password=True
        )
        await ws.store.clear_attempts(f"u:{username}", f"c:{username}")
        await ws.store.close_sessions_of(username)
        issued = {"username": username, "password": temporary}
    await ws.audit(
        me,
        CHANGES[change],
        tenant=target.tenant if target.tenant != "*" else me.tenant,
        account=username,
    )
    return await accounts_page(ws, request, me, issued=issued)


# -- my account: password and second factor ---------------------------------------------


async def my_page(
    ws: Workspace,
    request: Request,
    me: Account,
    status: int = 200,
    error: str | None = None,
    done: str | None = None,
) -> HTMLResponse:
    fresh = await ws.store.account(me.username) or me
    agencies = (
        await ws.services.routing.agencies(ws.token(me), me.tenant)
        if me.agency_id and me.tenant != "*"
        else []
    )
    enrol = ws.box.open(fresh.totp_pending) if fresh.totp_pending else None
    uri = (
        pyotp.TOTP(enrol).provisioning_uri(name=me.username, issuer_name="LAPOR!")
        if enrol
        else None
    )
    return ws.page(
        request,
        "staff/me.html",
        status,
        error=error,
        done=done,
        enrol=enrol,
        enrol_uri=uri,
        two_step=bool(fresh.totp_secret),
        names=await Names.load(ws, ws.lang(request), agencies),
    )


async def password_again(ws: Workspace, request: Request, me: Account, password: str) -> str | None:
    """The signed-in person's password asked again before a change to the account's
    security: ``None`` when right, else what to tell them. Wrong ones count like wrong
    sign-ins (per account, delayed after a few), and a burst is cut short per account."""
    if ws.limiter.check("password", me.username) is not None:
        return ws.pair(
            request,
            ("Terlalu banyak percobaan; tunggu sebentar.", "Too many attempts; wait a moment."),
        )
    keys = [f"c:{me.username}"]
    tries, wait = await ws.gated(keys)
    if wait is not None:
        return ws.pair(request, delayed(wait))
    if not ws.check_password(me, password):
        await ws.failed(keys, tries)
        await ws.audit(me, AuditAction.PASSWORD_CHECK_FAILED)
        return ws.pair(request, WRONG_PASSWORD)
    await ws.store.clear_attempts(*keys)
    return None


@router.get("/kerja/akun/saya", response_class=HTMLResponse)
async def my_account(request: Request, ws: WS, me: Anyone) -> Response:
    return await my_page(ws, request, me)


@router.post("/kerja/akun/saya/sandi", response_class=HTMLResponse)
async def change_password(request: Request, ws: WS, me: Anyone) -> Response:
    form = await ws.form(request)
    if form is None:
        return RedirectResponse("/kerja/akun/saya", status_code=303)
    if me.provider:
        return await my_page(
            ws,
            request,
            me,
            400,
            error=ws.pair(
                request,
                (
                    "Akun ini masuk lewat sistem provinsi; kata sandinya diatur di sana.",
                    "This account signs in through the province's system; change it there.",
                ),
            ),
        )
    wrong = await password_again(ws, request, me, form.get("current", ""))
    if wrong is not None:
        return await my_page(ws, request, me, 401, error=wrong)
    new = form.get("new", "")
    problem = password_problem(new, me.username)
    if problem is None and new != form.get("again", ""):
        problem = ("Kedua kata sandi baru tidak sama.", "The two new passwords differ.")
    if problem is None and new == form.get("current", ""):
        problem = ("Pilih kata sandi yang baru.", "Choose a new password.")
    if problem:
        return await my_page(ws, request, me, 422, error=ws.pair(request, problem))
    await ws.store.update(
        me.username, password_hash=ws.hasher.hash(new), must_change_password=False
    )
    # whoever else holds a session of this account (a stolen cookie, a forgotten PC) is
    # out; this browser stays signed in
    await ws.store.close_sessions_of(me.username, keep=request.cookies.get(SESSION_COOKIE))
    await ws.audit(me, AuditAction.PASSWORD_CHANGED)
    return RedirectResponse("/kerja", status_code=303)


@router.post("/kerja/akun/saya/2fa", response_class=HTMLResponse)
async def second_factor(request: Request, ws: WS, me: Staff) -> Response:
    """Two-step verification: turning it on or off asks for the password again; the secret
    is made by the server and kept (sealed) until a code from it is confirmed, so a form can
    never choose it."""
    form = await ws.form(request)
    if form is None:
        return RedirectResponse("/kerja/akun/saya", status_code=303)
    step = form.get("step", "")
    if step in ("mulai", "matikan") and not me.provider:
        wrong = await password_again(ws, request, me, form.get("password", ""))
        if wrong is not None:
            return await my_page(ws, request, me, 401, error=wrong)
    if step == "mulai":
        await ws.store.update(me.username, totp_pending=ws.box.seal(pyotp.random_base32()))
        return await my_page(ws, request, me)
    if step == "matikan":
        if not await ws.check_code(me, form.get("code", "")):
            return await my_page(
                ws,
                request,
                me,
                422,
                error=ws.pair(request, ("Kode autentikator salah.", "Wrong authenticator code.")),
            )
        await ws.store.update(me.username, totp_secret=None, totp_pending=None)
        await ws.audit(me, AuditAction.TOTP_DISABLED)
        return await my_page(ws, request, me, done="off")
    fresh = await ws.store.account(me.username)
    secret = ws.box.open(fresh.totp_pending) if fresh and fresh.totp_pending else None
    good = secret is not None and pyotp.TOTP(secret).verify(
        form.get("code", "").replace(" ", ""), valid_window=1
    )
    if not good or secret is None:
        return await my_page(
            ws,
            request,
            me,
            422,
            error=ws.pair(
                request, ("Kode autentikator salah; coba lagi.", "Wrong code; try again.")
            ),
        )
    await ws.store.update(me.username, totp_secret=ws.box.seal(secret), totp_pending=None)
    await ws.audit(me, AuditAction.TOTP_ENABLED)
    return await my_page(ws, request, me, done="on")
