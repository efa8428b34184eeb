"""The staff workspace (``/kerja``): sign-in, the inbox, the case page and its actions, the
province dashboard, the directory, accounts and the audit log.

The portal is the identity owner: it checks passwords (Argon2id) and one-time codes (TOTP),
keeps sessions, and signs a short-lived token for the signed-in person on every call to a
service, which authorizes from that token alone. Every look at a reporter's identity and
every action is appended to the audit log.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from prometheus_client import CollectorRegistry, Counter

from lapor_kit.auth import COORDINATOR_ROLES, STAFF_ROLES
from lapor_kit.limits import Rate, RateLimiter, client_ip
from lapor_kit.spreadsheet import csv_text
from lapor_schemas.calendar import province_calendar
from lapor_schemas.reference import province_of
from lapor_schemas.status import (
    AGENCY_ACTIONS,
    COORDINATOR_ACTIONS,
    FINISHED,
    OPEN,
    STAFF_MAY,
)

from . import places as maps
from .backend import Answer, Backend, StaffBackend
from .i18n import STATUS
from .identity import (
    ROLE_LABELS,
    USERNAME,
    Account,
    AccountRefusedError,
    AuditEntry,
    Backoff,
    Tries,
    check_new_account,
    may_manage,
    password_problem,
)
from .keys import Keys, SecretBox
from .security import Cookies
from .settings import PortalSettings
from .store import AccountExistsError, PortalStore

log = logging.getLogger("lapor.portal")
SESSION_COOKIE = "lapor_sesi"
PAGE_SIZE = 20
COORDINATORS = COORDINATOR_ROLES
MANAGERS = COORDINATORS
AUDITORS = frozenset({"national_admin", "province_coordinator"})
ENTRY_ROLES = STAFF_ROLES  # who enters walk-in reports (intake checks the same set)
OFFLINE_CHANNELS = {
    "walk_in": ("Datang langsung", "Walk-in"),
    "complaint_box": ("Kotak pengaduan", "Complaint box"),
    "letter": ("Surat", "Letter"),
    "phone": ("Telepon", "Phone call"),
    "social_media": ("Media sosial", "Social media"),
}
ACTION_PATHS = {
    "verify": "verify",
    "request_info": "request-info",
    "reject": "reject",
    "mark_repeat": "mark-repeat",
    "dispatch": "dispatch",
    "decline": "decline",
    "follow_up": "follow-up",
    "close": "close",
}
ACTION_LABELS = {
    "verify": ("Verifikasi dan teruskan", "Verify and dispatch"),
    "request_info": ("Minta informasi tambahan", "Request information"),
    "reject": ("Tolak", "Reject"),
    "mark_repeat": ("Tandai laporan berulang", "Mark as repeat"),
    "dispatch": ("Teruskan ke instansi", "Dispatch to an agency"),
    "decline": ("Bukan wewenang kami", "Not within our authority"),
    "follow_up": ("Kirim tindak lanjut", "Send the follow-up"),
    "close": ("Tutup laporan", "Close the case"),
    "publik": ("Tampilan di halaman publik", "What the public page shows"),
}
NOT_FOUND = ("Laporan tidak ditemukan.", "Case not found.")
BAD_SIGNIN = (
    "Nama pengguna, kata sandi atau kode autentikator salah.",
    "Wrong username, password or authenticator code.",
)
WRONG_PASSWORD = ("Kata sandi sekarang salah.", "The current password is wrong.")
MIN_REASON_CHARACTERS = 15
REASON_NEEDED = (
    "Tulis alasan Anda melihat identitas pelapor (paling sedikit 15 huruf, beberapa kata), "
    'misalnya "menghubungi pelapor untuk lokasi persisnya". Alasan ini tercatat di log audit.',
    "Write why you need the reporter's identity (at least 15 letters, a few words), e.g. "
    '"to call the reporter about the exact place". The reason is recorded in the audit log.',
)
SIGNIN_OUTCOMES = ("success", "wrong", "delayed", "rate_limited")


def wait_words(wait: timedelta) -> tuple[str, str]:
    """ "5 menit" / "5 minutes" (whole minutes, or seconds under a minute)."""
    seconds = max(1, math.ceil(wait.total_seconds()))
    if seconds < 60:
        return f"{seconds} detik", f"{seconds} seconds"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} menit", f"{minutes} minute{'s' if minutes > 1 else ''}"


def delayed(wait: timedelta) -> tuple[str, str]:
    """The answer to an attempt that has to wait: never "locked", and the way out."""
    id_wait, en_wait = wait_words(wait)
    return (
        f"Terlalu banyak percobaan yang salah. Coba lagi dalam {id_wait}. Pemilik akun tetap "
        "dapat masuk dari perangkat yang biasa dipakainya, atau dengan kode autentikatornya.",
        f"Too many wrong attempts. Try again in {en_wait}. The account's owner can still sign "
        "in from the device they usually use, or with their authenticator code.",
    )


def reason_problem(reason: str) -> bool:
    """Whether an identity view's reason is too thin to record (a few real words needed)."""
    text = " ".join(reason.split())
    return len(text) < MIN_REASON_CHARACTERS or len(text.split(" ")) < 2


def sla_badge(case: dict[str, Any], now: datetime) -> dict[str, Any] | None:
    """ "sisa 2 hari kerja" / "terlambat 3 hari kerja" for an open case with a deadline."""
    due_raw = case.get("due_at")
    if case.get("status") in FINISHED or not due_raw:
        return None
    due = datetime.fromisoformat(str(due_raw).replace("Z", "+00:00"))
    calendar = province_calendar(str(case.get("tenant") or "63"))
    if due < now:
        days = max(calendar.working_days_between(due, now), 0)
        return {
            "late": True,
            "days": days,
            "text": (f"terlambat {days} hari kerja", f"{days} working days late"),
        }
    days = calendar.working_days_between(now, due)
    return {
        "late": False,
        "days": days,
        "text": (f"sisa {days} hari kerja", f"{days} working days left"),
    }


def urgency(case: dict[str, Any]) -> tuple[int, str]:
    """Most overdue first, then the nearest deadline; cases without one last."""
    due = case.get("due_at")
    return (0, str(due)) if due else (1, "")


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


@dataclass
class Workspace:
    settings: PortalSettings
    store: PortalStore
    keys: Keys
    api: Backend
    cookies: Cookies
    render: Callable[..., HTMLResponse]
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    hasher: PasswordHasher = field(default_factory=PasswordHasher)

    registry: CollectorRegistry | None = None

    def __post_init__(self) -> None:
        self.staff = StaffBackend(self.api)
        self.backoff = Backoff(
            free=self.settings.lockout_failures,
            first_wait=timedelta(seconds=self.settings.lockout_first_wait_seconds),
            max_wait=timedelta(minutes=self.settings.lockout_minutes),
        )
        self.limiter = RateLimiter({"signin": Rate(30, 60), "password": Rate(10, 60)})
        self._dummy = self.hasher.hash(secrets.token_urlsafe(16))
        self.box = SecretBox(self.settings.totp_key)
        self.signins = Counter(
            "lapor_signin_attempts_total",
            "Staff sign-in attempts by outcome: success, wrong (password or code), delayed "
            "(waiting after wrong ones), rate_limited (too many from one address).",
            ["outcome"],
            registry=self.registry,
        )
        for outcome in SIGNIN_OUTCOMES:  # at 0 from the start, so increase() sees the first
            self.signins.labels(outcome)

    async def gated(self, keys: list[str]) -> tuple[list[Tries], timedelta | None]:
        """Counts an attempt under each of ``keys`` (atomically, before any password is
        checked) and answers the counters and, when one of them makes it wait, how long."""
        now = self.clock()
        tries = list(await asyncio.gather(*(self.store.count_attempt(k, now) for k in keys)))
        waits = [self.backoff.retry_after(t, now) for t in tries if not self.backoff.admits(t, now)]
        return tries, max(waits) if waits else None

    async def failed(self, keys: list[str], tries: list[Tries]) -> None:
        """A wrong password under ``keys``: from the free attempts on, the next one waits."""
        now = self.clock()
        for key, t in zip(keys, tries, strict=True):
            wait = self.backoff.wait_after(t.count)
            if wait:
                await self.store.hold(key, now + wait)

    def code_step(self, account: Account | None, code: str) -> int | None:
        """The time step a one-time code is valid for (not yet used up), or ``None``."""
        if account is None or not account.totp_secret:
            return None
        secret = self.box.open(account.totp_secret)
        if secret is None:
            return None
        totp = pyotp.TOTP(secret)
        code = code.replace(" ", "")
        if not code:
            return None
        now = self.clock()
        for offset in (0, -1, 1):  # a code of the previous or next 30 s window too
            step = int(now.timestamp()) // 30 + offset
            if step > account.totp_last_step and secrets.compare_digest(totp.at(step * 30), code):
                return step
        return None

    # -- sessions ----------------------------------------------------------------------

    async def me(self, request: Request) -> Account | None:
        token = request.cookies.get(SESSION_COOKIE)
        if not token:
            return None
        cached = getattr(request.state, "me", None)
        if cached is not None:
            return cached  # type: ignore[no-any-return]
        account = await self.store.session_user(
            token, self.clock(), self.settings.session_idle_minutes
        )
        request.state.me = account
        return account

    def token(self, me: Account) -> str:
        return self.keys.token_for(me)

    async def audit(
        self,
        me: Account | None,
        action: str,
        *,
        tenant: str | None = None,
        case: str | None = None,
        who: str | None = None,
        **detail: Any,
    ) -> None:
        await self.store.audit(
            AuditEntry(
                at=self.clock(),
                who=who or (me.username if me else "?"),
                role=me.role if me else "-",
                tenant=tenant or (me.tenant if me else "*"),
                action=action,
                case=case,
                detail={k: v for k, v in detail.items() if v is not None},
            )
        )

    def check_password(self, account: Account | None, password: str) -> bool:
        """Argon2id; an unknown account costs the same time as a known one."""
        target = account.password_hash if account and account.password_hash else self._dummy
        try:
            self.hasher.verify(target, password)
        except (VerificationError, InvalidHashError):
            return False
        return account is not None and account.password_hash is not None

    async def check_code(self, account: Account, code: str, step: int | None = None) -> bool:
        """The account's one-time code (true when it has none); a code works once."""
        if not account.totp_secret:
            return True
        step = step if step is not None else self.code_step(account, code)
        return step is not None and await self.store.use_totp_step(account.username, step)


def install(app: FastAPI, ws: Workspace) -> None:
    s = ws.settings

    def tr_of(request: Request) -> Callable[[str, str], str]:
        lang = request.cookies.get("lapor_bahasa", "id")
        return lambda id_text, en_text: en_text if lang == "en" else id_text

    def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        return ws.render(
            request,
            name,
            status,
            tr=tr_of(request),
            me=getattr(request.state, "me", None),
            role_labels=ROLE_LABELS,
            status_names=STATUS,
            **context,
        )

    def pair(request: Request, text: tuple[str, str]) -> str:
        return tr_of(request)(*text)

    def signin_redirect(request: Request) -> RedirectResponse:
        return RedirectResponse(f"/masuk?next={request.url.path}", status_code=303)

    async def staff_or_redirect(request: Request) -> Account | Response:
        me = await ws.me(request)
        if me is None:
            return signin_redirect(request)
        if me.must_change_password and request.url.path != "/kerja/akun/saya":
            return RedirectResponse("/kerja/akun/saya", status_code=303)
        return me

    async def form_of(request: Request) -> dict[str, str] | None:
        form = await request.form()
        values = {k: str(v) for k, v in form.items() if isinstance(v, str)}
        return values if ws.cookies.csrf_ok(request, values.get("csrf")) else None

    def not_found(request: Request) -> HTMLResponse:
        return page(request, "staff/missing.html", 404, message=pair(request, NOT_FOUND))

    # -- identity: keys and sign-in ----------------------------------------------------

    @app.get("/.well-known/jwks.json", include_in_schema=False)
    async def jwks() -> JSONResponse:
        return JSONResponse(ws.keys.jwks(), headers={"Cache-Control": "public, max-age=60"})

    @app.get("/masuk", response_class=HTMLResponse)
    async def signin_form(request: Request, next: str = "/kerja") -> HTMLResponse:
        return page(
            request,
            "staff/signin.html",
            values={},
            error=None,
            next=_local(next),
            providers=ws_providers(app),
        )

    @app.post("/masuk", response_class=HTMLResponse)
    async def signin(request: Request) -> Response:
        form = await request.form()
        values = {k: str(v) for k, v in form.items() if isinstance(v, str)}
        username = values.get("username", "").strip().lower()[:64]
        target = _local(values.get("next", "/kerja"))

        def again(message: tuple[str, str], status: int) -> HTMLResponse:
            return page(
                request,
                "staff/signin.html",
                status,
                values={"username": username},
                error=pair(request, message),
                next=target,
                providers=ws_providers(app),
            )

        if not ws.cookies.csrf_ok(request, values.get("csrf")):
            return again(
                ("Formulir kedaluwarsa; kirim lagi.", "The form expired; send it again."), 400
            )
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
                "signin_failed",
                who=account.username if account else "?",
                tenant=account.tenant if account else "*",
            )
            return again(BAD_SIGNIN, 401)
        await ws.store.clear_attempts(*keys)
        if ws.hasher.check_needs_rehash(account.password_hash or ""):
            await ws.store.update(username, password_hash=ws.hasher.hash(values["password"]))
        ws.signins.labels("success").inc()
        opened = await open_session(request, account, target, "password")
        ws.cookies.remember_device(request, opened, account.username)
        return opened

    async def open_session(
        request: Request, account: Account, target: str, method: str
    ) -> Response:
        """A new session for ``account``; one this browser had before ends (a session token
        never outlives a sign-in: whoever planted or copied it is out)."""
        old = request.cookies.get(SESSION_COOKIE)
        if old:
            await ws.store.close_session(old)
        token = await ws.store.open_session(account.username, ws.clock(), s.session_hours)
        await ws.audit(account, "signed_in", method=method)
        goal = "/kerja/akun/saya" if account.must_change_password else target
        response = RedirectResponse(goal, status_code=303)
        response.set_cookie(
            SESSION_COOKIE, token, httponly=True, samesite="lax", secure=s.secure_cookies, path="/"
        )
        return response

    app.state.open_staff_session = open_session

    @app.post("/keluar")
    async def signout(request: Request) -> Response:
        """Ends the server's session, with or without a valid form token: signing someone
        out is harmless, and a sign-out that only dropped the cookie would leave a copied
        token working. Idempotent; POST only."""
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            me = await ws.me(request)
            await ws.store.close_session(token)
            if me:
                await ws.audit(me, "signed_out")
        response = RedirectResponse("/masuk", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    # -- inbox ---------------------------------------------------------------------------

    @app.get("/kerja", response_class=HTMLResponse)
    async def inbox(
        request: Request,
        status: str = "terbuka",
        kategori: str = "",
        terlambat: str = "",
        halaman: int = 1,
    ) -> Response:
        me = await staff_or_redirect(request)
        if not isinstance(me, Account):
            return me
        halaman = max(1, min(halaman, 5000))
        params: dict[str, Any] = {"limit": PAGE_SIZE + 1, "offset": (halaman - 1) * PAGE_SIZE}
        if status == "terbuka":
            params["status"] = ",".join(sorted(OPEN))
        elif status in STATUS:
            params["status"] = status
        if kategori:
            params["category"] = kategori
        if terlambat:
            params["overdue"] = "true"
        cases = await ws.staff.get_list(ws.token(me), "routing", "/api/v1/inbox", **params)
        more = len(cases) > PAGE_SIZE
        cases = sorted(cases[:PAGE_SIZE], key=urgency)
        now = ws.clock()
        for case in cases:
            case["sla"] = sla_badge(case, now)
        categories = await ws.api.reference("categories")
        return page(
            request,
            "staff/inbox.html",
            cases=cases,
            more=more,
            halaman=halaman,
            filters={"status": status, "kategori": kategori, "terlambat": terlambat},
            categories=categories,
            statuses=sorted(STATUS),
        )

    # -- a case --------------------------------------------------------------------------

    async def case_page(
        request: Request,
        me: Account,
        tid: str,
        *,
        status: int = 200,
        error: str | None = None,
        identity: dict[str, Any] | None = None,
        done: str | None = None,
    ) -> HTMLResponse:
        token = ws.token(me)
        answer = await ws.staff.call(token, "GET", "routing", f"/api/v1/cases/{tid}")
        if not answer.ok:
            return not_found(request)
        case = answer.body
        # the rest of the page comes from three services at once, not one after another
        report, deliveries, agencies = await asyncio.gather(
            ws.staff.call(token, "GET", "intake", f"/api/v1/staff/complaints/{tid}"),
            ws.staff.get_list(token, "notify", "/api/v1/notifications", tracking_id=tid),
            ws.staff.get_list(token, "routing", "/api/v1/agencies", tenant=case["tenant"]),
        )
        case["sla"] = sla_badge(case, ws.clock())
        return page(
            request,
            "staff/case.html",
            status,
            case=case,
            report=report.body if report.ok else None,
            deliveries=deliveries,
            agencies=agencies,
            actions=actions_for(me, case),
            action_labels=ACTION_LABELS,
            error=error,
            identity=identity,
            done=done,
        )

    @app.get("/kerja/kasus/{tid}", response_class=HTMLResponse)
    async def case(tid: str, request: Request, selesai: str | None = None) -> Response:
        me = await staff_or_redirect(request)
        if not isinstance(me, Account):
            return me
        return await case_page(request, me, tid, done=selesai)

    @app.post("/kerja/kasus/{tid}/identitas", response_class=HTMLResponse)
    async def reveal(tid: str, request: Request) -> Response:
        me = await staff_or_redirect(request)
        if not isinstance(me, Account):
            return me
        form = await form_of(request)
        if form is None:
            return RedirectResponse(f"/kerja/kasus/{tid}", status_code=303)
        reason = " ".join(form.get("reason", "").split())[:300]
        if reason_problem(reason):
            return await case_page(request, me, tid, status=422, error=pair(request, REASON_NEEDED))
        token = ws.token(me)
        report, found = await asyncio.gather(
            ws.staff.call(token, "GET", "intake", f"/api/v1/staff/complaints/{tid}"),
            ws.staff.call(token, "GET", "intake", f"/api/v1/staff/complaints/{tid}/reporter"),
        )
        if not found.ok or not report.ok:
            return not_found(request)
        await ws.audit(
            me,
            "identity_viewed",
            tenant=province_of(report.body["region_code"]),  # the case's province, not a form's
            case=tid,
            reason=reason,
        )
        return await case_page(request, me, tid, identity=found.body)

    @app.post("/kerja/kasus/{tid}/publik", response_class=HTMLResponse)
    async def public_choice(tid: str, request: Request) -> Response:
        """What the public sees of a report (coordinators): hide it, or redact passages of
        its public text. The original stays for staff and the reporter; audited."""
        me = await staff_or_redirect(request)
        if not isinstance(me, Account):
            return me
        form = await form_of(request)
        if form is None:
            return RedirectResponse(f"/kerja/kasus/{tid}", status_code=303)
        hidden = "hidden" in form
        passages = [line.strip() for line in form.get("redactions", "").splitlines()][:20]
        passages = [p[:300] for p in passages if p]
        answer = await ws.staff.call(
            ws.token(me),
            "PUT",
            "intake",
            f"/api/v1/staff/complaints/{tid}/public",
            json={"hidden": hidden, "redactions": passages},
        )
        if not answer.ok:
            return not_found(request)
        await ws.audit(
            me,
            "public_view_changed",
            tenant=str(answer.body.get("tenant") or me.tenant),
            case=tid,
            hidden=hidden,
            redactions=len(passages),
        )
        return RedirectResponse(f"/kerja/kasus/{tid}?selesai=publik", status_code=303)

    @app.get("/kerja/kasus/{tid}/berkas/{index}")
    async def attachment(tid: str, index: int, request: Request) -> Response:
        me = await staff_or_redirect(request)
        if not isinstance(me, Account):
            return me
        resp = await ws.staff.raw(
            ws.token(me), "intake", f"/api/v1/staff/complaints/{tid}/attachments/{index}"
        )
        if resp.status_code != 200:
            return not_found(request)
        await ws.audit(me, "attachment_viewed", case=tid, index=index)
        return Response(
            resp.content,
            media_type=resp.headers.get("content-type"),
            headers={"Content-Disposition": "attachment", "Cache-Control": "private, no-store"},
        )

    @app.post("/kerja/kasus/{tid}/aksi/{action}", response_class=HTMLResponse)
    async def act(tid: str, action: str, request: Request) -> Response:
        me = await staff_or_redirect(request)
        if not isinstance(me, Account):
            return me
        if action not in ACTION_PATHS:
            return not_found(request)
        form = await request.form()
        values = {k: str(v) for k, v in form.items() if isinstance(v, str)}
        if not ws.cookies.csrf_ok(request, values.get("csrf")):
            return await case_page(
                request,
                me,
                tid,
                status=400,
                error=pair(
                    request,
                    ("Formulir kedaluwarsa; kirim lagi.", "The form expired; send it again."),
                ),
            )
        body = action_body(action, values)
        if action == "follow_up":
            body["attachments"] = []
            for upload in form.getlist("lampiran")[:5]:
                if isinstance(upload, str) or not getattr(upload, "filename", ""):
                    continue
                data = await upload.read(10 * 1024 * 1024 + 1)
                stored = await ws.staff.upload(
                    ws.token(me), upload.filename or "", upload.content_type or "", data
                )
                if stored.status != 201:
                    return await case_page(
                        request, me, tid, status=422, error=_detail(request, stored)
                    )
                body["attachments"].append({"handle": stored.body["handle"]})
        answer = await ws.staff.call(
            ws.token(me),
            "POST",
            "routing",
            f"/api/v1/cases/{tid}/{ACTION_PATHS[action]}",
            json=body,
        )
        if answer.status == 404:
            return not_found(request)
        if not answer.ok:
            return await case_page(
                request, me, tid, status=answer.status, error=_detail(request, answer)
            )
        await ws.audit(
            me,
            action,
            tenant=answer.body.get("tenant"),
            case=tid,
            agency_id=body.get("agency_id") or body.get("suggested_agency_id"),
        )
        return RedirectResponse(f"/kerja/kasus/{tid}?selesai={action}", status_code=303)

    def _detail(request: Request, answer: Answer) -> str:
        body = answer.body if isinstance(answer.body, dict) else {}
        lang_en = tr_of(request)("id", "en") == "en"
        text = str(body.get("detail_en" if lang_en else "detail") or answer.status)
        reasons = [
            str(e.get("message_en" if lang_en else "message") or e.get("message_en", ""))
            for e in body.get("errors", [])
            if isinstance(e, dict)
        ]
        return text + ("" if not reasons else " " + "; ".join(r for r in reasons if r))

    # -- reports received offline (walk-in, complaint box, letter, phone) ---------------

    async def entry_page(
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
        return page(
            request,
            "staff/entry.html",
            status,
            values=values or {"channel": "walk_in", "type": "pengaduan"},
            errors=errors or {},
            categories=categories,
            regions=sorted(regions, key=lambda r: (r["province_code"], r["name"])),
            channels=OFFLINE_CHANNELS,
        )

    @app.get("/kerja/lapor", response_class=HTMLResponse)
    async def entry(request: Request) -> Response:
        me = await staff_or_redirect(request)
        if not isinstance(me, Account):
            return me
        if me.role not in ENTRY_ROLES:
            return not_found(request)
        return await entry_page(request, me)

    @app.post("/kerja/lapor", response_class=HTMLResponse)
    async def enter(request: Request) -> Response:
        me = await staff_or_redirect(request)
        if not isinstance(me, Account):
            return me
        form = await form_of(request)
        if form is None or me.role not in ENTRY_ROLES:
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
        answer = await ws.staff.call(
            ws.token(me), "POST", "intake", "/api/v1/staff/complaints", json=body
        )
        if answer.status != 202:
            en = tr_of(request)("id", "en") == "en"
            errors: dict[str, str] = {}
            for err in (answer.body or {}).get("errors", []):
                field = str(err.get("field") or "").removeprefix("reporter.").split(".")[0]
                errors.setdefault(field, str(err.get("message_en" if en else "message")))
            if not errors:
                errors[""] = _detail(request, answer)
            return await entry_page(request, me, 422, values=values, errors=errors)
        tid = answer.body["tracking_id"]
        await ws.audit(
            me,
            "report_entered",
            tenant=str(form.get("region_code") or me.tenant)[:2],
            case=tid,
            channel=body["channel"],
        )
        return page(
            request,
            "staff/entered.html",
            201,
            tracking_id=tid,
            secret=answer.body["secret"],
            duplicate=answer.body.get("duplicate", False),
        )

    # -- dashboard ---------------------------------------------------------------------

    @app.get("/kerja/dasbor", response_class=HTMLResponse)
    async def dashboard(request: Request, provinsi: str = "") -> Response:
        me = await staff_or_redirect(request)
        if not isinstance(me, Account):
            return me
        if me.role not in COORDINATORS:
            return not_found(request)
        province = me.tenant if me.tenant != "*" else (provinsi or "63")
        if not (len(province) == 2 and province.isdigit()):
            province = "63"
        token = ws.token(me)
        report = maps.stats_report(
            await ws.api.ranking(province), request.cookies.get("lapor_bahasa", "id")
        )
        categories = await ws.api.category_map(province)
        hotspots = await ws.staff.call(
            token, "GET", "metrics", "/api/v1/reports/hotspots", params={"province": province}
        )
        overdue = await ws.staff.get_list(
            token,
            "routing",
            "/api/v1/inbox",
            overdue="true",
            tenant=province,
            limit=50,
            status=",".join(sorted(OPEN)),
        )
        now = ws.clock()
        for c in overdue:
            c["sla"] = sla_badge(c, now)
        overdue.sort(key=urgency)
        names = sorted({c["name"] for r in categories for c in r.get("categories", [])})
        provinces = [r for r in await ws.api.reference("regions") if r["kind"] == "province"]
        return page(
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
            hotspots=(hotspots.body or {}).get("rows", []) if hotspots.ok else [],
            overdue=overdue,
        )

    # -- directory ---------------------------------------------------------------------

    def directory_tenant(me: Account, provinsi: str) -> str | None:
        if me.role == "national_admin":
            return provinsi if len(provinsi) == 2 and provinsi.isdigit() else "63"
        return me.tenant if me.role == "province_coordinator" else None

    async def directory_page(
        request: Request,
        me: Account,
        tenant: str,
        *,
        status: int = 200,
        text: str | None = None,
        errors: list[str] | None = None,
        done: str | None = None,
    ) -> HTMLResponse:
        token = ws.token(me)
        current = await ws.staff.call(token, "GET", "routing", f"/api/v1/directory/{tenant}")
        versions = await ws.staff.get_list(token, "routing", f"/api/v1/directory/{tenant}/versions")
        directory = current.body if current.ok else None
        return page(
            request,
            "staff/directory.html",
            status,
            tenant=tenant,
            directory=directory,
            text=text if text is not None else json.dumps(directory, indent=2, ensure_ascii=False),
            versions=versions,
            errors=errors or [],
            done=done,
        )

    @app.get("/kerja/direktori", response_class=HTMLResponse)
    async def directory(request: Request, provinsi: str = "", selesai: str = "") -> Response:
        me = await staff_or_redirect(request)
        if not isinstance(me, Account):
            return me
        tenant = directory_tenant(me, provinsi)
        if tenant is None:
            return not_found(request)
        return await directory_page(request, me, tenant, done=selesai or None)

    async def directory_form(request: Request) -> tuple[Account, dict[str, str], str] | Response:
        """The signed-in editor, the form (CSRF checked) and the province it may edit."""
        me = await staff_or_redirect(request)
        if not isinstance(me, Account):
            return me
        form = await form_of(request)
        tenant = directory_tenant(me, (form or {}).get("tenant", ""))
        if form is None or tenant is None:
            return RedirectResponse("/kerja/direktori", status_code=303)
        return me, form, tenant

    @app.post("/kerja/direktori", response_class=HTMLResponse)
    async def directory_save(request: Request) -> Response:
        found = await directory_form(request)
        if isinstance(found, Response):
            return found
        me, form, tenant = found
        text = form.get("directory", "")
        try:
            body = json.loads(text)
        except ValueError as exc:
            return await directory_page(
                request, me, tenant, status=422, text=text, errors=[f"JSON: {exc}"]
            )
        answer = await ws.staff.call(
            ws.token(me), "PUT", "routing", f"/api/v1/directory/{tenant}", json=body
        )
        if not answer.ok:
            problems = [
                f"{e.get('field', '')}: {e.get('message') or e.get('message_en')}"
                for e in (answer.body or {}).get("errors", [])
                if isinstance(e, dict)
            ] or [_detail(request, answer)]
            return await directory_page(
                request, me, tenant, status=answer.status, text=text, errors=problems
            )
        await ws.audit(me, "directory_replaced", tenant=tenant)
        return RedirectResponse(f"/kerja/direktori?provinsi={tenant}&selesai=1", status_code=303)

    @app.post("/kerja/direktori/kembalikan", response_class=HTMLResponse)
    async def directory_rollback(request: Request) -> Response:
        found = await directory_form(request)
        if isinstance(found, Response):
            return found
        me, form, tenant = found
        revision = int(form.get("revision", "0") or 0) if form.get("revision", "").isdigit() else 0
        answer = await ws.staff.call(
            ws.token(me),
            "POST",
            "routing",
            f"/api/v1/directory/{tenant}/rollback",
            json={"revision": revision},
        )
        if not answer.ok:
            return await directory_page(
                request, me, tenant, status=answer.status, errors=[_detail(request, answer)]
            )
        await ws.audit(me, "directory_rolled_back", tenant=tenant, revision=revision)
        return RedirectResponse(f"/kerja/direktori?provinsi={tenant}&selesai=1", status_code=303)

    # -- accounts ----------------------------------------------------------------------

    async def places(me: Account, tenant: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        regions = [
            r
            for r in await ws.api.reference("regions")
            if r["kind"] != "province" and (tenant == "*" or r["province_code"] == tenant)
        ]
        agencies = (
            await ws.staff.get_list(ws.token(me), "routing", "/api/v1/agencies", tenant=tenant)
            if tenant != "*"
            else []
        )
        return regions, agencies

    def creatable_roles(me: Account) -> list[str]:
        if me.role == "national_admin":
            return list(ROLE_LABELS)
        if me.role == "province_coordinator":
            return ["regency_coordinator", "agency_staff"]
        if me.role == "regency_coordinator":
            return ["agency_staff"]
        return []

    async def accounts_page(
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
        regions, agencies = await places(me, tenant)
        provinces = [r for r in await ws.api.reference("regions") if r["kind"] == "province"]
        return page(
            request,
            "staff/accounts.html",
            status,
            accounts=mine,
            roles=creatable_roles(me),
            regions=regions,
            agencies=agencies,
            provinces=provinces,
            errors=errors or {},
            values=values or {},
            issued=issued,
            tenant=tenant,
        )

    @app.get("/kerja/akun", response_class=HTMLResponse)
    async def accounts(request: Request, provinsi: str = "") -> Response:
        me = await staff_or_redirect(request)
        if not isinstance(me, Account):
            return me
        if me.role not in MANAGERS:
            return RedirectResponse("/kerja/akun/saya", status_code=303)
        values = {"tenant": provinsi} if me.tenant == "*" and provinsi else None
        return await accounts_page(request, me, values=values)

    @app.post("/kerja/akun", response_class=HTMLResponse)
    async def create_account(request: Request) -> Response:
        me = await staff_or_redirect(request)
        if not isinstance(me, Account):
            return me
        form = await form_of(request)
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
        regions, agencies = await places(me, tenant) if tenant != "*" else ([], [])
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
            errors = {k: pair(request, v) for k, v in exc.problems.items()}
            return await accounts_page(request, me, status=422, errors=errors, values=form)
        if role == "regency_coordinator":  # escalations reach the regency's coordinator office
            agency_id = next(
                (
                    a["id"]
                    for a in agencies
                    if a.get("role") == "coordinator" and a.get("region_code") == region_code
                ),
                None,
            )
        temporary = _temporary_password()
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
            return await accounts_page(
                request,
                me,
                status=409,
                values=form,
                errors={
                    "username": pair(
                        request, ("Nama pengguna sudah dipakai.", "The username is taken.")
                    )
                },
            )
        await ws.audit(
            me,
            "account_created",
            tenant=tenant if tenant != "*" else me.tenant,
            account=username,
            role=role,
        )
        return await accounts_page(
            request, me, status=201, issued={"username": username, "password": temporary}
        )

    async def managed(request: Request, me: Account, username: str) -> Account | None:
        target = await ws.store.account(username)
        if (
            target is None
            or target.username == me.username
            or not may_manage(me, target.role, target.tenant, target.region_code, target.agency_id)
        ):
            return None
        return target

    @app.post("/kerja/pengguna/{username}/{change}", response_class=HTMLResponse)
    async def change_account(username: str, change: str, request: Request) -> Response:
        me = await staff_or_redirect(request)
        if not isinstance(me, Account):
            return me
        form = await form_of(request)
        target = await managed(request, me, username) if form is not None else None
        if target is None or change not in ("nonaktif", "aktif", "reset"):
            return RedirectResponse("/kerja/akun", status_code=303)
        issued = None
        if change == "nonaktif":
            await ws.store.update(username, disabled=True)
            await ws.store.close_sessions_of(username)
        elif change == "aktif":
            await ws.store.update(username, disabled=False)
        else:
            temporary = _temporary_password()
            await ws.store.update(
                username, password_hash=ws.hasher.hash(temporary), must_change_password=True
            )
            await ws.store.clear_attempts(f"u:{username}", f"c:{username}")
            await ws.store.close_sessions_of(username)
            issued = {"username": username, "password": temporary}
        action = {
            "nonaktif": "account_disabled",
            "aktif": "account_enabled",
            "reset": "password_reset",
        }[change]
        await ws.audit(
            me,
            action,
            tenant=target.tenant if target.tenant != "*" else me.tenant,
            account=username,
        )
        return await accounts_page(request, me, issued=issued)

    # -- my account: password and second factor -----------------------------------------

    async def my_page(
        request: Request,
        me: Account,
        status: int = 200,
        error: str | None = None,
        done: str | None = None,
    ) -> HTMLResponse:
        fresh = await ws.store.account(me.username) or me
        enrol = ws.box.open(fresh.totp_pending) if fresh.totp_pending else None
        uri = (
            pyotp.TOTP(enrol).provisioning_uri(name=me.username, issuer_name="LAPOR!")
            if enrol
            else None
        )
        response = page(
            request,
            "staff/me.html",
            status,
            error=error,
            done=done,
            enrol=enrol,
            enrol_uri=uri,
            two_step=bool(fresh.totp_secret),
        )
        return response

    async def password_again(request: Request, me: Account, password: str) -> str | None:
        """The signed-in person's password asked again before a change to the account's
        security: ``None`` when right, else what to tell them. Wrong ones count like wrong
        sign-ins (per account, delayed after a few), and a burst is cut short per account."""
        if ws.limiter.check("password", me.username) is not None:
            return pair(
                request,
                ("Terlalu banyak percobaan; tunggu sebentar.", "Too many attempts; wait a moment."),
            )
        keys = [f"c:{me.username}"]
        tries, wait = await ws.gated(keys)
        if wait is not None:
            return pair(request, delayed(wait))
        if not ws.check_password(me, password):
            await ws.failed(keys, tries)
            await ws.audit(me, "password_check_failed")
            return pair(request, WRONG_PASSWORD)
        await ws.store.clear_attempts(*keys)
        return None

    @app.get("/kerja/akun/saya", response_class=HTMLResponse)
    async def my_account(request: Request) -> Response:
        me = await staff_or_redirect(request)
        if not isinstance(me, Account):
            return me
        return await my_page(request, me)

    @app.post("/kerja/akun/saya/sandi", response_class=HTMLResponse)
    async def change_password(request: Request) -> Response:
        me = await ws.me(request)
        if me is None:
            return signin_redirect(request)
        form = await form_of(request)
        if form is None:
            return RedirectResponse("/kerja/akun/saya", status_code=303)
        if me.provider:
            return await my_page(
                request,
                me,
                400,
                error=pair(
                    request,
                    (
                        "Akun ini masuk lewat sistem provinsi; kata sandinya diatur di sana.",
                        "This account signs in through the province's system; change it there.",
                    ),
                ),
            )
        wrong = await password_again(request, me, form.get("current", ""))
        if wrong is not None:
            return await my_page(request, me, 401, error=wrong)
        new = form.get("new", "")
        problem = password_problem(new, me.username)
        if problem is None and new != form.get("again", ""):
            problem = ("Kedua kata sandi baru tidak sama.", "The two new passwords differ.")
        if problem is None and new == form.get("current", ""):
            problem = ("Pilih kata sandi yang baru.", "Choose a new password.")
        if problem:
            return await my_page(request, me, 422, error=pair(request, problem))
        await ws.store.update(
            me.username, password_hash=ws.hasher.hash(new), must_change_password=False
        )
        # whoever else holds a session of this account (a stolen cookie, a forgotten PC) is
        # out; this browser stays signed in
        await ws.store.close_sessions_of(me.username, keep=request.cookies.get(SESSION_COOKIE))
        await ws.audit(me, "password_changed")
        return RedirectResponse("/kerja", status_code=303)

    @app.post("/kerja/akun/saya/2fa", response_class=HTMLResponse)
    async def second_factor(request: Request) -> Response:
        """Two-step verification: turning it on or off asks for the password again; the
        secret is made by the server and kept (sealed) until a code from it is confirmed,
        so a form can never choose it."""
        me = await staff_or_redirect(request)
        if not isinstance(me, Account):
            return me
        form = await form_of(request)
        if form is None:
            return RedirectResponse("/kerja/akun/saya", status_code=303)
        step = form.get("step", "")
        if step in ("mulai", "matikan") and not me.provider:
            wrong = await password_again(request, me, form.get("password", ""))
            if wrong is not None:
                return await my_page(request, me, 401, error=wrong)
        if step == "mulai":
            await ws.store.update(me.username, totp_pending=ws.box.seal(pyotp.random_base32()))
            return await my_page(request, me)
        if step == "matikan":
            if not await ws.check_code(me, form.get("code", "")):
                return await my_page(
                    request,
                    me,
                    422,
                    error=pair(request, ("Kode autentikator salah.", "Wrong authenticator code.")),
                )
            await ws.store.update(me.username, totp_secret=None, totp_pending=None)
            await ws.audit(me, "totp_disabled")
            return await my_page(request, me, done="off")
        fresh = await ws.store.account(me.username)
        secret = ws.box.open(fresh.totp_pending) if fresh and fresh.totp_pending else None
        good = secret is not None and pyotp.TOTP(secret).verify(
            form.get("code", "").replace(" ", ""), valid_window=1
        )
        if not good or secret is None:
            return await my_page(
                request,
                me,
                422,
                error=pair(
                    request, ("Kode autentikator salah; coba lagi.", "Wrong code; try again.")
                ),
            )
        await ws.store.update(me.username, totp_secret=ws.box.seal(secret), totp_pending=None)
        await ws.audit(me, "totp_enabled")
        return await my_page(request, me, done="on")

    # -- audit log ---------------------------------------------------------------------

    async def audit_rows(me: Account, provinsi: str, kasus: str, limit: int) -> list[AuditEntry]:
        tenant = me.tenant if me.tenant != "*" else (provinsi or None)
        return list(await ws.store.audit_entries(tenant, case=kasus or None, limit=limit))

    @app.get("/kerja/audit", response_class=HTMLResponse)
    async def audit(request: Request, provinsi: str = "", kasus: str = "") -> Response:
        me = await staff_or_redirect(request)
        if not isinstance(me, Account):
            return me
        if me.role not in AUDITORS:
            return not_found(request)
        rows = await audit_rows(me, provinsi, kasus, 300)
        return page(request, "staff/audit.html", rows=rows, provinsi=provinsi, kasus=kasus)

    @app.get("/kerja/audit.csv")
    async def audit_csv(request: Request, provinsi: str = "", kasus: str = "") -> Response:
        me = await staff_or_redirect(request)
        if not isinstance(me, Account):
            return me
        if me.role not in AUDITORS:
            return not_found(request)
        rows = [
            [
                row.at.isoformat(),
                row.who,
                row.role,
                row.tenant,
                row.case or "",
                row.action,
                json.dumps(row.detail, ensure_ascii=False, default=str),
            ]
            for row in await audit_rows(me, provinsi, kasus, 100_000)
        ]
        text = csv_text(["at", "who", "role", "tenant", "case", "action", "detail"], rows)
        await ws.audit(me, "audit_exported", tenant=me.tenant if me.tenant != "*" else "*")
        return Response(
            text,
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": 'attachment; filename="lapor-audit.csv"',
                "Cache-Control": "no-store",
            },
        )


def ws_providers(app: FastAPI) -> list[dict[str, str]]:
    providers: list[dict[str, str]] = getattr(app.state, "oidc_buttons", [])
    return providers


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
    if action == "decline":
        return {"reason": v.get("text", ""), "suggested_agency_id": v.get("agency_id") or None}
    return {"text": v.get("text", "")}


def _temporary_password() -> str:
    """Shown once to the coordinator who made it; the user must change it at first sign-in."""
    return "-".join(secrets.token_urlsafe(4) for _ in range(4))


def _local(target: str) -> str:
    """Where to go after signing in: a path of this site only (never ``//host`` or
    ``/\\host``, which browsers read as another host)."""
    ok = target.startswith("/") and not target.startswith(("//", "/\\")) and "\\" not in target
    return target if ok else "/kerja"
