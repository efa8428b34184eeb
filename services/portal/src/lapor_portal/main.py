"""The citizen portal: pages and forms over intake, notify and metrics.

Every page is plain HTML that works without JavaScript (forms POST, the server redirects
after a success and re-renders with field reasons after a refusal). htmx, from npm and
served by the portal itself, only boosts links and forms (no full reloads). Nothing is
fetched from another host; the Content-Security-Policy allows no inline script.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from importlib.resources import files
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from pymongo.errors import PyMongoError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.gzip import GZipMiddleware

from lapor_kit.auth import is_development_key
from lapor_kit.limits import BodyLimit, client_ip, parse_networks
from lapor_kit.settings import UnsafeSettingsError
from lapor_kit.web import HSTS, HttpMetrics
from lapor_schemas import words
from lapor_schemas.calendar import province_calendar

from . import following, oidc, places, staff, story
from .backend import Answer, Backend, BackendDownError
from .i18n import LANGS, map_words, say, t
from .keys import Keys
from .security import LANG_COOKIE, SECURITY_HEADERS, Cookies
from .seed import seed_dev_accounts
from .settings import PortalSettings
from .store import PortalStore

log = logging.getLogger("lapor.portal")
TRACKING_ID = r"^LPR-[0-9A-Z]{10}$"
DONE = ("message", "accept", "dispute", "rate")
FORM_ID = re.compile(r"^[0-9a-f]{32}$")
PRIVATE_PREFIXES = ("/kerja", "/masuk", "/keluar", "/lapor/terima", "/laporan/")
ZONE_LABELS = {"Asia/Jakarta": "WIB", "Asia/Makassar": "WITA", "Asia/Jayapura": "WIT"}
UPLOAD_LIMIT = 20 * 1024 * 1024 + 64 * 1024
MAX_FILES = 5


def lang_of(request: Request) -> str:
    lang = request.cookies.get(LANG_COOKIE, "id")
    return lang if lang in LANGS else "id"


def local_time(value: str | None, tenant: str = "63") -> str:
    """A timestamp in the province's time zone (WIB, WITA or WIT), from the reference data."""
    if not value:
        return ""
    calendar = province_calendar(tenant)
    at = datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(calendar.tz)
    label = ZONE_LABELS.get(str(calendar.tz), at.tzname() or "")
    return f"{at:%d-%m-%Y %H:%M} {label}"


def deadline(case: dict[str, Any], now: datetime | None = None) -> dict[str, Any] | None:
    """The agency's follow-up deadline and the working days left, while it is its turn."""
    if case.get("status") not in ("dispatched", "disputed") or not case.get("due_at"):
        return None
    tenant = str(case.get("region_code", "63"))[:2]
    due = datetime.fromisoformat(str(case["due_at"]).replace("Z", "+00:00"))
    now = now or datetime.now(UTC)
    left = province_calendar(tenant).working_days_between(now, due) if due > now else 0
    return {"at": local_time(str(case["due_at"]), tenant), "working_days": left}


def create_app(
    settings: PortalSettings | None = None,
    backend: Backend | None = None,
    *,
    store: PortalStore | None = None,
    staff_clients: staff.StaffClients | None = None,
) -> FastAPI:
    """The portal; tests hand in a fake ``backend``, ``store`` and ``staff_clients``."""
    settings = settings or PortalSettings()
    if settings.env == "production" and (problems := settings.production_problems()):
        raise UnsafeSettingsError(problems)
    api = backend or Backend(settings)
    store = store or PortalStore(
        settings.mongo_url,
        f"{settings.mongo_db_prefix}_portal",
        settings.mongo_timeout_ms,
        ca_file=settings.mongo_ca_file,
    )
    keys = Keys.load(settings.signing_keys, settings.token_ttl_seconds)
    if settings.env == "production" and any(is_development_key(k) for k in keys.signing):
        # whatever its source (a PEM file of it has a kid of its own): the key is public
        raise UnsafeSettingsError(
            ["LAPOR_SIGNING_KEYS names the public development key: anyone could sign tokens"]
        )
    cookies = Cookies(settings.portal_secret, secure=settings.secure_cookies)
    templates = Environment(
        loader=FileSystemLoader(str(files("lapor_portal").joinpath("templates"))),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    htmx = settings.assets_dir / "htmx.org" / "dist" / "htmx.min.js"
    tile_origin = ""
    if settings.map_tile_url:
        parts = urlsplit(settings.map_tile_url.replace("{s}", "a"))
        tile_origin = f"{parts.scheme}://{parts.netloc}"

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if not htmx.exists():
            log.warning("htmx not installed at %s: pages work without it", htmx)
        try:  # the citizen pages need no database: the portal starts without it
            await store.ensure_indexes()
            if settings.seed_dev_accounts:
                made = await seed_dev_accounts(store, datetime.now(UTC))
                if made:
                    log.info("development accounts created: %s", ", ".join(made))
        except PyMongoError as exc:
            log.warning("portal database unavailable at start (%s): staff sign-in waits", exc)
        yield
        await api.close()
        await store.close()

    app = FastAPI(title="Lapor portal", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.trusted_proxies = parse_networks(settings.trusted_proxies)
    app.state.portal_store = store
    registry = CollectorRegistry()
    app.add_middleware(GZipMiddleware, minimum_size=500)
    app.add_middleware(
        BodyLimit,
        default=64 * 1024,
        # the report form and an agency's follow-up carry files (checked again by intake)
        by_prefix={"/lapor": UPLOAD_LIMIT, "/kerja/kasus": UPLOAD_LIMIT},
    )
    app.mount(
        "/static",
        StaticFiles(directory=str(files("lapor_portal").joinpath("static"))),
        name="static",
    )

    @app.middleware("http")
    async def headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if tile_origin:
            csp = response.headers["Content-Security-Policy"]
            response.headers["Content-Security-Policy"] = csp.replace(
                "img-src 'self' data:", f"img-src 'self' data: {tile_origin}"
            )
        # Pages may show a secret, a reporter's identity, a temporary password or a two-step
        # key, also as the answer to a POST (a refused form keeps what was typed): no page
        # and nothing of the workspace is ever kept by a browser or a shared cache.
        html = response.headers.get("content-type", "").startswith("text/html")
        if html or request.url.path.startswith(PRIVATE_PREFIXES):
            response.headers["Cache-Control"] = "no-store"
        if settings.env == "production":
            response.headers["Strict-Transport-Security"] = HSTS
        return response

    def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        lang = lang_of(request)
        html = templates.get_template(name).render(
            request=request,
            lang=lang,
            t=lambda *text: say(lang, *text),
            csrf=cookies.csrf(request),
            htmx=htmx.exists(),
            leaflet=(settings.assets_dir / "leaflet" / "dist" / "leaflet.js").exists(),
            tiles=settings.map_tile_url,
            path=request.url.path,
            local_time=local_time,
            **context,
        )
        response = HTMLResponse(html, status_code=status)
        cookies.issue_csrf(request, response)
        return response

    def down(request: Request, retry: str) -> HTMLResponse:
        return page(request, "down.html", status=503, retry=retry)

    def not_found_page(request: Request) -> HTMLResponse:
        return page(request, "missing.html", 404, kind="missing")

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException) -> Response:
        """Pages, never JSON: an unknown address, a wrong method."""
        if exc.status_code == 404:
            return not_found_page(request)
        return page(request, "missing.html", exc.status_code, kind="error")

    @app.exception_handler(Exception)
    async def on_error(request: Request, exc: Exception) -> HTMLResponse:
        log.exception("unexpected error on %s", request.url.path)
        return page(request, "missing.html", 500, kind="error")

    @app.get("/privasi", response_class=HTMLResponse)
    async def privacy(request: Request) -> HTMLResponse:
        return page(request, "pages/privacy.html")

    @app.get("/aksesibilitas", response_class=HTMLResponse)
    async def accessibility(request: Request) -> HTMLResponse:
        return page(request, "pages/accessibility.html")

    @app.get("/bantuan", response_class=HTMLResponse)
    async def help_page(request: Request) -> HTMLResponse:
        return page(request, "pages/help.html")

    @app.get("/kontak", response_class=HTMLResponse)
    async def contact(request: Request) -> HTMLResponse:
        return page(request, "pages/contact.html")

    @app.exception_handler(BackendDownError)
    async def on_down(request: Request, exc: BackendDownError) -> HTMLResponse:
        log.warning("backend unavailable: %s", exc)
        return down(request, request.url.path)

    @app.exception_handler(PyMongoError)
    async def on_store_down(request: Request, exc: PyMongoError) -> HTMLResponse:
        log.warning("portal database unavailable: %s", type(exc).__name__)
        return down(request, request.url.path)

    @app.get("/health", include_in_schema=False)
    async def health() -> dict[str, str]:
        return {"service": "lapor-portal", "status": "ok"}

    @app.get("/health/live", include_in_schema=False)
    async def live() -> dict[str, str]:
        return {"service": "lapor-portal", "status": "alive"}

    @app.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        """Prometheus scrapes the pod directly; a request that came through the ingress
        (it carries X-Forwarded-For) is not answered: the public portal has no metrics."""
        if request.headers.get("x-forwarded-for"):
            return PlainTextResponse("", status_code=404)
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    vendor = {
        "htmx.min.js": ("htmx.org/dist/htmx.min.js", "text/javascript"),
        "leaflet.js": ("leaflet/dist/leaflet.js", "text/javascript"),
        "leaflet.css": ("leaflet/dist/leaflet.css", "text/css"),
    }

    @app.get("/vendor/{name}", include_in_schema=False)
    async def vendor_file(name: str) -> Response:
        """The npm libraries, from the committed lock's install (never a CDN)."""
        found = vendor.get(name)
        path = settings.assets_dir / found[0] if found else None
        if found is None or path is None or not path.exists():
            return PlainTextResponse("", status_code=404)
        return Response(
            path.read_bytes(),
            media_type=found[1],
            headers={"Cache-Control": "public, max-age=86400"},
        )

    @app.get("/", response_class=HTMLResponse)
    async def home(request: Request) -> HTMLResponse:
        return page(request, "home.html")

    @app.get("/bahasa/{lang}")
    async def language(lang: str, request: Request, next: str = "/") -> Response:
        target = next if next.startswith("/") and not next.startswith("//") else "/"
        response = RedirectResponse(target, status_code=303)
        if lang in LANGS:
            cookies.set_lang(response, lang)
        return response

    # -- write a report -------------------------------------------------------------------

    async def form_page(
        request: Request,
        values: dict[str, Any],
        errors: dict[str, str],
        status: int = 200,
        hint: dict[str, Any] | None = None,
    ) -> HTMLResponse:
        values["form_id"] = form_id_of(values)
        categories = await api.reference("categories")
        regions = [r for r in await api.reference("regions") if r["kind"] != "province"]
        provinces = {r["code"]: r["name"] for r in await api.reference("regions")}
        return page(
            request,
            "write.html",
            status=status,
            values=values,
            errors=errors,
            categories=categories,
            regions=sorted(regions, key=lambda r: (r["province_code"], r["name"])),
            provinces=provinces,
            form_id=values["form_id"],
            map_words=map_words(lang_of(request)),
            hint=hint,
        )

    @app.get("/lapor", response_class=HTMLResponse)
    async def write(request: Request) -> HTMLResponse:
        return await form_page(request, {"type": "pengaduan"}, {})

    @app.post("/lapor", response_class=HTMLResponse)
    async def submit(request: Request) -> Response:
        form = await request.form()
        values: dict[str, Any] = {k: str(v) for k, v in form.items() if isinstance(v, str)}
        values["anonymous"] = "anonymous" in form
        values["confidential"] = "confidential" in form
        values["public_replies"] = "public_replies" in form
        values["notify_via"] = [str(v) for v in form.getlist("notify_via")]
        values["attachments"] = kept_attachments(form.getlist("attachment"))
        values["form_id"] = form_id_of(values)
        if values.get("kategori_pilih"):  # the answer to "Sepertinya ini tentang ...?"
            values["category"] = values["kategori_pilih"]
            values["kategori_dilihat"] = "1"
        if not cookies.csrf_ok(request, values.get("csrf")):
            return await form_page(request, values, {"": t("expired", lang_of(request))}, 400)
        lang = lang_of(request)
        # files first (kept with the form whatever else is wrong), then every problem of
        # the form at once, in words: one round of errors, not three
        problems: dict[str, str] = {}
        upload_problem = await upload_files(request, form.getlist("lampiran"), values)
        codes = [c["code"] for c in await api.reference("categories")]
        problems.update(story.form_problems(values, codes, lang))
        if upload_problem:
            problems["attachments"] = upload_problem
        if problems:
            # the round of errors also says which category the words suggest (without the
            # script this is the first chance); said once, the step before filing is skipped
            hint = None
            if not values.get("kategori_dilihat") and "description" not in problems:
                hint = await suggested_other(values, lang_of(request))
            if hint is not None:
                values["kategori_dilihat"] = "1"
            return await form_page(request, values, problems, 422, hint=hint)
        # the same problem reported already nearby? Asked once, before filing: the citizen
        # joins that report ("Ini masalah yang sama") or files their own
        joining = values.get("dukung", "")
        if joining:
            return await join(request, values, joining)
        # the category the words suggest, when it is not the one chosen: asked once (the
        # citizen's choice always wins; with the script the form said it while typing)
        if not values.get("kategori_dilihat"):
            other = await suggested_other(values, lang_of(request))
            if other is not None:
                return suggest_page(request, values, other)
        if not values.get("mirip_dilihat"):
            try:
                similar = await api.similar(
                    values.get("category", ""),
                    values.get("region_code", ""),
                    *places.spot(values),
                )
            except BackendDownError:
                similar = []  # no reason to hold the report back
            if similar:
                return similar_page(request, values, similar)
        body = submission(values, lang)
        try:
            answer = await api.submit(body, values["form_id"], client_ip(request))
        except BackendDownError:
            # nothing typed is lost: the same form again, with the same key (a retry that
            # reaches intake after all is recognised, not filed twice)
            return await form_page(request, values, {"": t("down", lang_of(request))}, 503)
        if answer.status == 202:
            tid, secret = answer.body["tracking_id"], answer.body["secret"]
            response = RedirectResponse(f"/lapor/terima/{tid}", status_code=303)
            cookies.remember(request, response, tid, secret)
            return response
        return await form_page(request, values, field_errors(answer, lang_of(request)), 422)

    async def suggested_other(values: dict[str, Any], lang: str) -> dict[str, Any] | None:
        """The suggested category when it differs from the chosen one with confidence (its
        name and the chosen one's in the reader's language)."""
        ranked = await api.suggest(values.get("title", ""), values.get("description", ""))
        if not ranked or ranked[0]["code"] == values.get("category"):
            return None
        if float(ranked[0]["score"]) < places.SUGGEST_CONFIDENCE:
            return None
        names = {
            c["code"]: (c.get("name_en") or c["name"]) if lang == "en" else c["name"]
            for c in await api.reference("categories")
        }
        return {
            "code": ranked[0]["code"],
            "name": names.get(ranked[0]["code"], ranked[0]["code"]),
            "chosen": values.get("category", ""),
            "chosen_name": names.get(values.get("category", ""), ""),
        }

    def suggest_page(
        request: Request, values: dict[str, Any], other: dict[str, Any]
    ) -> HTMLResponse:
        carried = [(k, v) for k, v in places.carried(values) if k != "category"]
        return page(
            request,
            "suggest.html",
            other=other,
            carried=carried,
        )

    def similar_page(
        request: Request,
        values: dict[str, Any],
        similar: list[dict[str, Any]],
        problem: str = "",
        status: int = 200,
    ) -> HTMLResponse:
        lang = lang_of(request)
        return page(
            request,
            "similar.html",
            status=status,
            # the ones that can still be joined first (finished ones say so, for information)
            similar=sorted(
                (places.similar_item(r, lang) for r in similar), key=lambda r: not r["open"]
            ),
            carried=places.carried(values),
            problem=problem,
        )

    async def join(request: Request, values: dict[str, Any], tracking_id: str) -> Response:
        """ "Ini masalah yang sama": the citizen joins that report instead of filing theirs;
        they hear of its changes on the contact they gave (none given: they follow it on its
        page)."""
        lang = lang_of(request)
        if not re.match(TRACKING_ID, tracking_id):
            return await form_page(request, values, {}, 422)
        body: dict[str, Any] = {"key": values["form_id"], "language": lang}
        for name in ("email", "phone"):
            if values.get(name):
                body[name] = values[name]
        if values.get("notify_via"):
            body["notify_via"] = [
                c for c in values["notify_via"] if values.get("email" if c == "email" else "phone")
            ]
        try:
            answer = await api.support(tracking_id, body, client_ip(request))
        except BackendDownError:
            return await form_page(request, values, {"": t("down", lang)}, 503)
        if answer.status == 202:
            return page(
                request,
                "joined.html",
                tracking_id=tracking_id,
                supporters=int((answer.body or {}).get("supporters") or 1),
                joined=bool((answer.body or {}).get("joined")),
                contact=bool(body.get("email") or body.get("phone")),
            )
        # finished or gone meanwhile: the other reports, and a reason in words
        similar = await api.similar(
            values.get("category", ""), values.get("region_code", ""), *places.spot(values)
        )
        similar = [r for r in similar if r.get("tracking_id") != tracking_id]
        return similar_page(request, values, similar, t("join_failed", lang), 409)

    async def upload_files(request: Request, uploads: list[Any], values: dict[str, Any]) -> str:
        """Pass the form's files to intake's attachment door; what it stored is kept in
        the form (so a refusal of another field loses no upload). Returns a refusal."""
        lang = lang_of(request)
        for upload in uploads:
            if isinstance(upload, str) or not getattr(upload, "filename", ""):
                continue
            if len(values["attachments"]) >= MAX_FILES:
                return t("too_many_files", lang)
            data = await upload.read(10 * 1024 * 1024 + 1)
            answer = await api.upload(
                upload.filename,
                upload.content_type or "",
                data,
                client_ip(request),
                upload_key=values["form_id"],
            )
            if answer.status == 429:
                return t("too_many", lang)
            if answer.status != 201:  # in words: what is accepted, never a type code
                key = "file_unreadable" if "dibaca" in str(answer.body) else "file_refused"
                return t(key, lang).replace("{name}", str(upload.filename))
            values["attachments"].append(
                {k: answer.body.get(k) for k in ("handle", "name", "content_type", "size")}
            )
        return ""

    @app.get("/lapor/terima/{tracking_id}", response_class=HTMLResponse)
    async def receipt(tracking_id: str, request: Request) -> Response:
        secret = cookies.reports(request).get(tracking_id)
        if secret is None:
            return RedirectResponse("/lacak", status_code=303)
        answer = await api.report(tracking_id, secret)
        case = answer.body if answer.ok else {}
        reporter = case.get("reporter") or {}
        channels = [c for c, field in (("email", "email"), ("sms", "phone")) if reporter.get(field)]
        return page(
            request,
            "receipt.html",
            tracking_id=tracking_id,
            secret=secret,
            steps=story.next_steps(case, channels, lang_of(request)),
        )

    @app.get("/lapor/terima/{tracking_id}/berkas")
    async def receipt_file(tracking_id: str, request: Request) -> Response:
        secret = cookies.reports(request).get(tracking_id)
        if secret is None:
            return RedirectResponse("/lacak", status_code=303)
        lang = lang_of(request)
        text = (
            f"{t('site', lang)}\n\n{t('tracking_id', lang)}: {tracking_id}\n"
            f"{t('secret', lang)}: {secret}\n\n{t('keep', lang)}\n"
        )
        return PlainTextResponse(
            text,
            headers={
                "Content-Disposition": f'attachment; filename="lapor-{tracking_id}.txt"',
                "Cache-Control": "no-store",
            },
        )

    # -- follow a report ------------------------------------------------------------------

    @app.get("/lacak", response_class=HTMLResponse)
    async def follow(request: Request, nomor: str = "") -> HTMLResponse:
        """The follow page; a notice's link fills in the tracking id (never the secret)."""
        tid = nomor.strip().upper()
        return page(
            request,
            "follow.html",
            values={"tracking_id": tid if re.match(TRACKING_ID, tid) else ""},
            error=None,
        )

    @app.post("/lacak", response_class=HTMLResponse)
    async def follow_post(request: Request) -> Response:
        form = await request.form()
        tid = str(form.get("tracking_id") or "").strip().upper()
        secret = str(form.get("secret") or "").strip()
        lang = lang_of(request)
        if not cookies.csrf_ok(request, str(form.get("csrf") or "")):
            return page(
                request, "follow.html", 400, values={"tracking_id": tid}, error=t("expired", lang)
            )
        if not re.match(TRACKING_ID, tid) or not secret:
            return page(
                request, "follow.html", 404, values={"tracking_id": tid}, error=t("not_found", lang)
            )
        answer = await api.report(tid, secret)
        if not answer.ok:  # with a secret, intake answers only its owner (else 404)
            return page(
                request, "follow.html", 404, values={"tracking_id": tid}, error=t("not_found", lang)
            )
        response = RedirectResponse(f"/laporan/{tid}", status_code=303)
        cookies.remember(request, response, tid, secret)
        return response

    async def report_page(
        request: Request,
        tracking_id: str,
        *,
        done: str | None = None,
        errors: dict[str, str] | None = None,
        typed: dict[str, str] | None = None,
        status: int = 200,
    ) -> HTMLResponse:
        lang = lang_of(request)
        secret = cookies.reports(request).get(tracking_id)
        answer = await api.report(tracking_id, secret)
        if not answer.ok:
            return page(request, "follow.html", 404, values={}, error=t("not_found", lang))
        case = answer.body
        owner = secret is not None
        notices = await api.notifications(tracking_id, secret) if secret else []
        tenant = str(case.get("region_code", "63"))[:2]
        return page(
            request,
            "report.html",
            status,
            case=case,
            owner=owner,
            history=story.history(case, "reporter" if owner else "public", lang),
            # the reporter's own files; the public sees the photos of a public report only
            files=[
                {**a, "index": i, "photo": str(a.get("content_type", "")).startswith("image/")}
                for i, a in enumerate(case.get("attachments") or [])
                if owner or str(a.get("content_type", "")).startswith("image/")
            ],
            notices=story.notices(notices, lang),
            may=story.answers(case, owner),
            question=story.question(case),
            answer_by=story.day(case.get("due_at"), tenant, lang)
            if case.get("status") == "followed_up"
            else "",
            status_words=words.status(str(case["status"]), lang),
            done=done if done in DONE else None,
            errors=errors or {},
            typed=typed or {},
            deadline=deadline(case),
        )

    @app.get("/laporan/{tracking_id}", response_class=HTMLResponse)
    async def report(tracking_id: str, request: Request, done: str | None = None) -> HTMLResponse:
        return await report_page(request, tracking_id, done=done)

    @app.post("/laporan/{tracking_id}/{action}", response_class=HTMLResponse)
    async def act(tracking_id: str, action: str, request: Request) -> Response:
        """The reporter's answers: a message, "selesai", "belum selesai", a rating. Each
        says on the page what it does before it is pressed; an empty one says what is
        missing (only an expired form says the form expired)."""
        form = await request.form()
        lang = lang_of(request)
        secret = cookies.reports(request).get(tracking_id)
        action = {"reply": "message"}.get(action, action)  # the older form's name
        if action not in ("message", "accept", "dispute", "rate") or secret is None:
            return RedirectResponse("/lacak", status_code=303)
        typed = {k: str(v) for k, v in form.items() if isinstance(v, str) and k != "csrf"}
        if not cookies.csrf_ok(request, str(form.get("csrf") or "")):
            return await report_page(
                request, tracking_id, errors={"": t("expired", lang)}, typed=typed, status=400
            )
        text = str(form.get("text") or "").strip()
        body: dict[str, Any] = {"text": text}
        missing: dict[str, str] = {}
        if action == "rate":
            body = {"score": _int(form.get("score")), "comment": str(form.get("comment") or "")}
            if not 1 <= body["score"] <= 5:
                missing["score"] = t("need_score", lang)
        elif action == "accept":
            body = {}
        elif not text:
            missing[f"{action}-text"] = t(f"need_text_{action}", lang)
        if missing:
            return await report_page(request, tracking_id, errors=missing, typed=typed, status=422)
        answer = await api.act(tracking_id, secret, action, body)
        if answer.status == 409:
            return await report_page(
                request, tracking_id, errors={"": t("not_now", lang)}, status=409
            )
        if not answer.ok:
            reason = (answer.body or {}).get("detail_en" if lang == "en" else "detail")
            return await report_page(
                request,
                tracking_id,
                errors={"": str(reason or t("down", lang))},
                typed=typed,
                status=422,
            )
        return RedirectResponse(f"/laporan/{tracking_id}?done={action}", status_code=303)

    async def report_file(
        tracking_id: str, index: int, request: Request, *, small: bool
    ) -> Response:
        """A file of a report, always through the report: any file for its reporter (the
        secret in this browser's cookie), a photo of a public report for anyone."""
        if not re.match(TRACKING_ID, tracking_id) or not 0 <= index <= 20:
            return not_found_page(request)
        secret = cookies.reports(request).get(tracking_id)
        found = await api.report_file(tracking_id, secret, index, small=small)
        if found.status_code != 200:
            return not_found_page(request)
        return Response(
            found.content,
            media_type=found.headers.get("content-type"),
            headers={
                "Content-Disposition": "inline" if small else "attachment",
                "Cache-Control": "private, no-store",
            },
        )

    @app.get("/laporan/{tracking_id}/berkas/{index}")
    async def report_download(tracking_id: str, index: int, request: Request) -> Response:
        return await report_file(tracking_id, index, request, small=False)

    @app.get("/laporan/{tracking_id}/berkas/{index}/kecil")
    async def report_thumbnail(tracking_id: str, index: int, request: Request) -> Response:
        return await report_file(tracking_id, index, request, small=True)

    @app.get("/statistik", response_class=HTMLResponse)
    async def stats(request: Request, provinsi: str = "63") -> HTMLResponse:
        provinces = [r for r in await api.reference("regions") if r["kind"] == "province"]
        names = {p["code"]: p["name"] for p in provinces}
        province = provinsi if provinsi in names else "63"
        report = places.stats_report(await api.ranking(province), lang_of(request))
        return page(
            request,
            "stats.html",
            report=report,
            provinces=provinces,
            province=province,
            province_name=names.get(province, province),
        )

    staff.install(
        app,
        staff.Workspace(
            settings=settings,
            store=store,
            keys=keys,
            api=api,
            cookies=cookies,
            render=page,
            registry=registry,
            clients=staff_clients,
        ),
    )
    places.install(
        app,
        places.Places(api=api, render=page, lang_of=lang_of, rate_limits=settings.map_rate_limits),
    )
    following.install(app, following.Following(api=api, render=page, cookies=cookies))
    oidc.install(app, settings, store)
    # outermost: every page and answer counted by route template and status, with latency
    app.add_middleware(HttpMetrics, service="lapor-portal", registry=registry)
    return app


def _int(value: Any) -> int:
    try:
        return int(str(value))
    except ValueError:
        return 0


def submission(values: dict[str, Any], lang: str) -> dict[str, Any]:
    """The intake JSON body for the form's values (only what was filled in)."""
    reporter: dict[str, Any] = {"language": lang}
    for name in ("name", "email", "phone"):
        if values.get(name):
            reporter[name] = values[name]
    if values.get("notify_via"):
        reporter["notify_via"] = values["notify_via"]
    body: dict[str, Any] = {
        "type": values.get("type") or "pengaduan",
        "title": values.get("title", ""),
        "description": values.get("description", ""),
        "category": values.get("category", ""),
        "anonymous": bool(values.get("anonymous")),
        "confidential": bool(values.get("confidential")),
        "public_replies": bool(values.get("public_replies")),
        "reporter": reporter,
    }
    if values.get("region_code"):
        body["region_code"] = values["region_code"]
    if values.get("attachments"):
        body["attachments"] = [{"handle": a["handle"]} for a in values["attachments"]]
    lat, lon = values.get("lat"), values.get("lon")
    if lat and lon:
        try:
            body["location"] = {"lat": float(lat), "lon": float(lon)}
        except ValueError:
            body["location"] = {"lat": lat, "lon": lon}  # intake explains what is wrong
    return body


def form_id_of(values: dict[str, Any]) -> str:
    """The form's key (a hidden field): its idempotency key and its upload session. One the
    browser made up in another shape is replaced."""
    given = str(values.get("form_id") or "")
    return given if FORM_ID.match(given) else uuid.uuid4().hex


def kept_attachments(raw: list[Any]) -> list[dict[str, Any]]:
    """Attachments uploaded with an earlier try of the same form (hidden JSON fields: the
    upload's handle and what to show of it). Intake checks each handle when the report is
    sent: it works only with the form's own key, so nothing else can be attached here."""
    out = []
    for item in raw[:MAX_FILES]:
        try:
            value = json.loads(str(item))
        except ValueError:
            continue
        if isinstance(value, dict) and isinstance(value.get("handle"), str):
            out.append(
                {
                    "handle": value["handle"][:2000],
                    "name": str(value.get("name") or "")[:200],
                    "content_type": str(value.get("content_type") or "")[:100],
                    "size": value.get("size") if isinstance(value.get("size"), int) else 0,
                }
            )
    return out


def field_errors(answer: Answer, lang: str) -> dict[str, str]:
    """Intake's bilingual field reasons, by form field."""
    if answer.status == 429:
        return {"": t("too_many", lang)}
    errors: dict[str, str] = {}
    for err in (answer.body or {}).get("errors", []):
        field = str(err.get("field") or "")
        field = field.removeprefix("reporter.").split(".")[0] or ""
        if field == "reporter":
            field = "email"
        message = err.get("message_en") if lang == "en" else err.get("message")
        errors.setdefault(field, str(message))
    if not errors:
        detail = (answer.body or {}).get("detail_en" if lang == "en" else "detail")
        errors[""] = str(detail or answer.status)
    return errors


def run() -> None:
    import uvicorn

    settings = PortalSettings()
    uvicorn.run(
        "lapor_portal.main:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        access_log=False,
        log_config=None,
        server_header=False,  # no banner naming the server software
    )
