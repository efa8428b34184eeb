"""Cookies and CSRF. The portal keeps no server-side session: what a browser may follow
(tracking id -> secret of the reports it filed or opened) lives in one signed cookie, so a
secret never travels in a URL and is never logged, and any portal replica can serve any
request."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeSerializer

REPORTS_COOKIE = "lapor_laporan"
DEVICE_COOKIE = "lapor_perangkat"
MAX_DEVICE_ACCOUNTS = 5
CSRF_COOKIE = "lapor_csrf"
LANG_COOKIE = "lapor_bahasa"
MAX_REPORTS = 10
YEAR = 365 * 24 * 3600


class Cookies:
    def __init__(self, secret: str, *, secure: bool) -> None:
        self.signer = URLSafeSerializer(secret, salt="lapor-portal")
        self.device_signer = URLSafeSerializer(secret, salt="lapor-known-device")
        self.secure = secure

    def _set(self, response: Response, name: str, value: str, max_age: int) -> None:
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            httponly=True,
            samesite="lax",
            secure=self.secure,
            path="/",
        )

    # -- the reports this browser may follow ----------------------------------------------

    def reports(self, request: Request) -> dict[str, str]:
        return _signed_map(request, REPORTS_COOKIE, self.signer)

    def remember(self, request: Request, response: Response, tracking_id: str, secret: str) -> None:
        known = {k: v for k, v in self.reports(request).items() if k != tracking_id}
        known[tracking_id] = secret
        newest = dict(list(known.items())[-MAX_REPORTS:])
        self._set(response, REPORTS_COOKIE, self.signer.dumps(newest), 30 * 24 * 3600)

    # -- CSRF: a signed random token in a cookie, the same in every form ------------------

    def csrf(self, request: Request) -> str:
        token = getattr(request.state, "csrf", None)
        if token:
            return str(token)
        raw = request.cookies.get(CSRF_COOKIE)
        if raw:
            try:
                token = str(self.signer.loads(raw))
            except BadSignature:
                token = None
        request.state.csrf = token or secrets.token_urlsafe(24)
        return str(request.state.csrf)

    def issue_csrf(self, request: Request, response: Response) -> None:
        if request.cookies.get(CSRF_COOKIE) is None or not self._valid_cookie(request):
            self._set(response, CSRF_COOKIE, self.signer.dumps(self.csrf(request)), YEAR)

    def _valid_cookie(self, request: Request) -> bool:
        try:
            self.signer.loads(request.cookies.get(CSRF_COOKIE, ""))
        except BadSignature:
            return False
        return True

    def csrf_ok(self, request: Request, submitted: str | None) -> bool:
        if not submitted or not self._valid_cookie(request):
            return False
        return secrets.compare_digest(self.csrf(request).encode(), submitted.encode())

    # -- known devices: where a staff member signed in before ----------------------------

    def devices(self, request: Request) -> dict[str, str]:
        """username -> device id of the accounts that signed in on this browser before. A
        stranger's wrong passwords make a username wait, but not on its owner's device."""
        return _signed_map(request, DEVICE_COOKIE, self.device_signer)

    def remember_device(self, request: Request, response: Response, username: str) -> None:
        known = {k: v for k, v in self.devices(request).items() if k != username}
        known[username] = self.devices(request).get(username) or secrets.token_urlsafe(16)
        newest = dict(list(known.items())[-MAX_DEVICE_ACCOUNTS:])
        response.set_cookie(
            DEVICE_COOKIE,
            self.device_signer.dumps(newest),
            max_age=180 * 24 * 3600,
            httponly=True,
            samesite="strict",
            secure=self.secure,
            path="/masuk",
        )

    # -- language ------------------------------------------------------------------------

    def set_lang(self, response: Response, lang: str) -> None:
        self._set(response, LANG_COOKIE, lang, YEAR)


def _signed_map(request: Request, cookie: str, signer: URLSafeSerializer) -> dict[str, str]:
    """A cookie's signed ``{str: str}``; empty when missing, forged or of another shape."""
    raw = request.cookies.get(cookie)
    if not raw:
        return {}
    try:
        data: Any = signer.loads(raw)
    except BadSignature:
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): str(v) for k, v in data.items()}


SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
        "object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "geolocation=(self), camera=(), microphone=()",
}
