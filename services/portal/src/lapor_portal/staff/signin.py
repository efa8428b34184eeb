"""Signing in and out, and the keys services check the portal's tokens with.

Wrong passwords delay, never lock: each attempt is counted before its password is checked,
per username and per (address, username); the owner is judged apart on a device it signed in
on before and with a valid one-time code (see ``identity.Backoff``)."""

from __future__ import annotations

import math

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from lapor_kit.limits import client_ip

from ..identity import USERNAME, Account
from .deps import (
    SESSION_COOKIE,
    WS,
    AuditAction,
    Workspace,
    delayed,
    local_path,
)

router = APIRouter()
BAD_SIGNIN = (
    "Nama pengguna, kata sandi atau kode autentikator salah.",
    "Wrong username, password or authenticator code.",
)


def providers(request: Request) -> list[dict[str, str]]:
    found: list[dict[str, str]] = getattr(request.app.state, "oidc_buttons", [])
    return found


@router.get("/.well-known/jwks.json", include_in_schema=False)
async def jwks(ws: WS) -> JSONResponse:
    return JSONResponse(ws.keys.jwks(), headers={"Cache-Control": "public, max-age=60"})


@router.get("/masuk", response_class=HTMLResponse)
async def signin_form(request: Request, ws: WS, next: str = "/kerja") -> HTMLResponse:
    return ws.page(
        request,
        "staff/signin.html",
        wide=False,
        values={},
        error=None,
        next=local_path(next),
        providers=providers(request),
    )


@router.post("/masuk", response_class=HTMLResponse)
async def signin(request: Request, ws: WS) -> Response:
    form = await request.form()
    values = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    username = values.get("username", "").strip().lower()[:64]
    target = local_path(values.get("next", "/kerja"))

    def again(message: tuple[str, str], status: int) -> HTMLResponse:
        return ws.page(
            request,
            "staff/signin.html",
            status,
            wide=False,
            values={"username": username},
            error=ws.pair(request, message),
            next=target,
            providers=providers(request),
        )

    if not ws.cookies.csrf_ok(request, values.get("csrf")):
        return again(("Formulir kedaluwarsa; kirim lagi.", "The form expired; send it again."), 400)
    address = client_ip(request)
    if ws.limiter.check("signin", address) is not None:
        ws.signins.labels("rate_limited").inc()
        return again(
            ("Terlalu banyak percobaan; tunggu sebentar.", "Too many attempts; wait a moment."),
            429,
        )
    account = await ws.store.account(username) if USERNAME.match(username) else None
    code = values.get("code", "")
    step = ws.code_step(account, code)
    device = ws.cookies.devices(request).get(username)
    # Which counters this attempt is judged by. The username's own counter is what a
    # stranger can push; its owner is judged apart on a device it signed in on before,
    # and with a valid one-time code (which a stranger does not have).
    if device:
        keys = [f"d:{device}"]
    elif step is not None:
        keys = [f"p:{address}|{username}"]
    else:
        keys = [f"u:{username}", f"p:{address}|{username}"]
    tries, wait = await ws.gated(keys)
    if wait is not None:
        ws.signins.labels("delayed").inc()
        response = again(delayed(wait), 429)
        response.headers["Retry-After"] = str(max(1, math.ceil(wait.total_seconds())))
        return response
    ok = ws.check_password(account, values.get("password", ""))
    if ok and account is not None and account.disabled:
        ok = False
    if ok and account is not None:
        ok = await ws.check_code(account, code, step)
    if not ok or account is None:
        await ws.failed(keys, tries)
        ws.signins.labels("wrong").inc()
        # what was typed as a username is kept only when it names an account: a
        # password typed into the username field never reaches the audit log
        await ws.audit(
            account,
            AuditAction.SIGNIN_FAILED,
            who=account.username if account else "?",
            tenant=account.tenant if account else "*",
        )
        return again(BAD_SIGNIN, 401)
    await ws.store.clear_attempts(*keys)
    if ws.hasher.check_needs_rehash(account.password_hash or ""):
        await ws.store.update(username, password_hash=ws.hasher.hash(values["password"]))
    ws.signins.labels("success").inc()
    opened = await open_session(ws, request, account, target, "password")
    ws.cookies.remember_device(request, opened, account.username)
    return opened


async def open_session(
    ws: Workspace, request: Request, account: Account, target: str, method: str
) -> Response:
    """A new session for ``account``; one this browser had before ends (a session token
    never outlives a sign-in: whoever planted or copied it is out)."""
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        await ws.store.close_session(old)
    token = await ws.store.open_session(account.username, ws.clock(), ws.settings.session_hours)
    await ws.audit(account, AuditAction.SIGNED_IN, method=method)
    goal = "/kerja/akun/saya" if account.must_change_password else target
    response = RedirectResponse(goal, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=ws.settings.secure_cookies,
        path="/",
    )
    return response


@router.post("/keluar")
async def signout(request: Request, ws: WS) -> Response:
    """Ends the server's session, with or without a valid form token: signing someone out
    is harmless, and a sign-out that only dropped the cookie would leave a copied token
    working. Idempotent; POST only."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        me = await ws.me(request)
        await ws.store.close_session(token)
        if me:
            await ws.audit(me, AuditAction.SIGNED_OUT)
    response = RedirectResponse("/masuk", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
