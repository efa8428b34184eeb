"""Stop hearing of a report one joined ("Ini masalah yang sama"): the e-mail's link opens
``/berhenti`` with the code in the fragment (the script fills it in and drops it from the
address; a fragment never reaches a server or its logs); without the script the person
types the code the e-mail also shows. Stopping is a POST with the form token: a mail
scanner opening the link stops nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse

from lapor_kit.limits import client_ip

from .backend import Backend, BackendDownError
from .i18n import TEXT
from .security import Cookies

EXPIRED = TEXT["expired"]  # the portal's own words for these, as on the report form
TOO_MANY = ("Terlalu banyak percobaan; tunggu sebentar.", "Too many attempts; wait a moment.")
DOWN = TEXT["down"]
UNKNOWN = (
    "Kode tidak dikenal. Periksa kode di e-mail Anda (huruf besar dan kecil berbeda).",
    "Unknown code. Check the code in your e-mail (capitals matter).",
)


@dataclass
class Following:
    api: Backend
    render: Callable[..., HTMLResponse]
    cookies: Cookies


def install(app: FastAPI, f: Following) -> None:
    @app.get("/berhenti", response_class=HTMLResponse)
    async def stop_form(request: Request) -> HTMLResponse:
        return f.render(request, "stop.html", code="", error=None, stopped=None)

    @app.post("/berhenti", response_class=HTMLResponse)
    async def stop(request: Request) -> HTMLResponse:
        form = await request.form()
        code = str(form.get("kode") or "").strip()[:64]

        def again(error: tuple[str, str], status: int) -> HTMLResponse:
            return f.render(request, "stop.html", status, code=code, error=error, stopped=None)

        if not f.cookies.csrf_ok(request, str(form.get("csrf") or "")):
            return again(EXPIRED, 400)
        if not code:
            return again(
                ("Masukkan kode dari e-mail Anda.", "Enter the code from your e-mail."), 422
            )
        try:
            answer = await f.api.stop_following(code, client_ip(request))
        except BackendDownError:
            return again(DOWN, 503)
        if answer.status == 429:
            return again(TOO_MANY, 429)
        if answer.status in (404, 422):  # not a code, or not one of ours: the same words
            return again(UNKNOWN, 404)
        if not answer.ok:
            return again(DOWN, 503)
        body: dict[str, Any] = answer.body or {}
        return f.render(request, "stop.html", code="", error=None, stopped=body.get("tracking_id"))
