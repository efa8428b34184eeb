"""What every staff router shares: the workspace's parts (:class:`Workspace`), the signed-in
person as a dependency (:func:`current_staff`), pages in the person's language, the form
token check, and the audit log's actions (:class:`AuditAction`).

A router asks for ``me: Staff`` (anyone signed in) or ``me: Annotated[Account,
current_staff(*roles)]``: without a session the browser is sent to sign in, with a password
to change it is sent to change it, and a role the page is not for gets the same page as a
case that does not exist ("not yours" and "does not exist" look the same).
"""

from __future__ import annotations

import asyncio
import logging
import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from prometheus_client import CollectorRegistry, Counter

from lapor_kit.auth import COORDINATOR_ROLES
from lapor_kit.limits import Rate, RateLimiter
from lapor_schemas import words
from lapor_schemas.calendar import province_calendar
from lapor_schemas.status import FINISHED

from ..backend import Answer, Backend
from ..identity import Account, AuditEntry, Backoff, Tries
from ..keys import Keys, SecretBox
from ..security import Cookies
from ..settings import PortalSettings
from ..store import PortalStore
from .clients import StaffClients

log = logging.getLogger("lapor.portal")
SESSION_COOKIE = "lapor_sesi"
COORDINATORS = COORDINATOR_ROLES
AUDITORS = frozenset({"national_admin", "province_coordinator"})
SIGNIN_OUTCOMES = ("success", "wrong", "delayed", "rate_limited")
NOT_FOUND = ("Laporan tidak ditemukan.", "Case not found.")
PAGE_MISSING = ("Halaman tidak ditemukan.", "Page not found.")
FORM_EXPIRED = ("Formulir kedaluwarsa; kirim lagi.", "The form expired; send it again.")


class AuditAction(StrEnum):
    """Every kind of line the audit log holds; their words are ``lapor_schemas.words.AUDIT``
    (a test fails when the two drift)."""

    VERIFY = "verify"
    REQUEST_INFO = "request_info"
    REJECT = "reject"
    MARK_REPEAT = "mark_repeat"
    DISPATCH = "dispatch"
    DECLINE = "decline"
    FOLLOW_UP = "follow_up"
    CLOSE = "close"
    RECATEGORISE = "recategorise"
    SIGNED_IN = "signed_in"
    SIGNED_OUT = "signed_out"
    SIGNIN_FAILED = "signin_failed"
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 - an action name
    PASSWORD_CHECK_FAILED = "password_check_failed"  # noqa: S105
    PASSWORD_RESET = "password_reset"  # noqa: S105
    TOTP_ENABLED = "totp_enabled"
    TOTP_DISABLED = "totp_disabled"
    ACCOUNT_CREATED = "account_created"
    ACCOUNT_DISABLED = "account_disabled"
    ACCOUNT_ENABLED = "account_enabled"
    IDENTITY_VIEWED = "identity_viewed"
    ATTACHMENT_VIEWED = "attachment_viewed"
    PUBLIC_VIEW_CHANGED = "public_view_changed"
    REPORT_ENTERED = "report_entered"
    DIRECTORY_REPLACED = "directory_replaced"
    DIRECTORY_ROLLED_BACK = "directory_rolled_back"
    AUDIT_EXPORTED = "audit_exported"
    NOTE_ADDED = "note_added"
    CASE_ASSIGNED = "case_assigned"
    TEMPLATE_SAVED = "template_saved"
    TEMPLATE_REMOVED = "template_removed"


class RedirectNeededError(Exception):
    """A staff page that sends the browser on (to sign in, to change the password)."""

    def __init__(self, to: str) -> None:
        super().__init__(to)
        self.to = to


class NotYoursError(Exception):
    """A page or case this person may not see: answered like one that does not exist."""


@dataclass
class Workspace:
    settings: PortalSettings
    store: PortalStore
    keys: Keys
    api: Backend
    cookies: Cookies
    render: Callable[..., HTMLResponse]
    clients: StaffClients | None = None
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    hasher: PasswordHasher = field(default_factory=PasswordHasher)
    registry: CollectorRegistry | None = None

    def __post_init__(self) -> None:
        if self.clients is None:
            self.clients = StaffClients.over(self.api)
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

    @property
    def services(self) -> StaffClients:
        assert self.clients is not None
        return self.clients

    # -- pages ---------------------------------------------------------------------------

    @staticmethod
    def lang(request: Request) -> str:
        return "en" if request.cookies.get("lapor_bahasa", "id") == "en" else "id"

    def tr(self, request: Request) -> Callable[[str, str], str]:
        english = self.lang(request) == "en"
        return lambda id_text, en_text: en_text if english else id_text

    def pair(self, request: Request, text: tuple[str, str]) -> str:
        return self.tr(request)(*text)

    def page(self, request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        context.setdefault("wide", True)  # office screens: tables use the width
        return self.render(
            request,
            name,
            status,
            me=getattr(request.state, "me", None),
            words=words,
            role_labels=words.ROLE,
            **context,
        )

    def not_found(self, request: Request, text: tuple[str, str] = NOT_FOUND) -> HTMLResponse:
        return self.page(request, "staff/missing.html", 404, message=self.pair(request, text))

    async def form(self, request: Request) -> dict[str, str] | None:
        """The posted form's text fields, or ``None`` when its form token is not this
        browser's (a forged or expired form)."""
        form = await request.form()
        values = {k: str(v) for k, v in form.items() if isinstance(v, str)}
        return values if self.cookies.csrf_ok(request, values.get("csrf")) else None

    def detail(self, request: Request, answer: Answer) -> str:
        """A service's refusal in the person's language: its sentence and field reasons."""
        body = answer.body if isinstance(answer.body, dict) else {}
        en = self.lang(request) == "en"
        text = str(body.get("detail_en" if en else "detail") or answer.status)
        reasons = [
            str(e.get("message_en" if en else "message") or e.get("message_en", ""))
            for e in body.get("errors", [])
            if isinstance(e, dict)
        ]
        return text + ("" if not reasons else " " + "; ".join(r for r in reasons if r))

    # -- sessions ------------------------------------------------------------------------

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
        action: AuditAction,
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
                action=AuditAction(action).value,
                case=case,
                detail={k: v for k, v in detail.items() if v is not None},
            )
        )

    # -- passwords and codes -------------------------------------------------------------

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


def workspace_of(request: Request) -> Workspace:
    ws: Workspace = request.app.state.workspace
    return ws


WS = Annotated[Workspace, Depends(workspace_of)]


def current_staff(*roles: str, password_change: bool = False) -> Any:
    """The signed-in staff member, for a route (as ``Annotated[Account, current_staff()]``):
    ``roles`` limits the page to those roles; ``password_change`` lets someone who must still
    change a temporary password reach it (everything else sends them there first)."""

    async def dependency(request: Request) -> Account:
        ws = workspace_of(request)
        me = await ws.me(request)
        if me is None:
            raise RedirectNeededError(f"/masuk?next={request.url.path}")
        if me.must_change_password and not password_change:
            raise RedirectNeededError("/kerja/akun/saya")
        if roles and me.role not in roles:
            raise NotYoursError()
        return me

    return Depends(dependency)


Staff = Annotated[Account, current_staff()]
Coordinator = Annotated[Account, current_staff(*COORDINATORS)]


def install_handlers(app: FastAPI) -> None:
    @app.exception_handler(RedirectNeededError)
    async def go(request: Request, exc: RedirectNeededError) -> RedirectResponse:
        return RedirectResponse(exc.to, status_code=303)

    @app.exception_handler(NotYoursError)
    async def hidden(request: Request, exc: NotYoursError) -> HTMLResponse:
        return workspace_of(request).not_found(request)


# -- small pure helpers the routers share ------------------------------------------------


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


def local_path(target: str) -> str:
    """Where to go after signing in: a path of this site only (never ``//host`` or
    ``/\\host``, which browsers read as another host)."""
    ok = target.startswith("/") and not target.startswith(("//", "/\\")) and "\\" not in target
    return target if ok else "/kerja"


def temporary_password() -> str:
    """Shown once to the coordinator who made it; the user must change it at first sign-in."""
    return "-".join(secrets.token_urlsafe(4) for _ in range(4))
