"""HTTP edges every service has: ``GET /health`` (readiness), ``GET /metrics``, the one
answer to a store that is down or too slow (``503`` + ``Retry-After``), and the deadline of
every request."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Annotated, Any

import pymongo
from fastapi import Depends, FastAPI, Header, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from pymongo.errors import PyMongoError

from .auth import AuthError, Principal, TokenVerifier

HealthCheck = Callable[[], Awaitable[object]]


def install_observability(
    app: FastAPI,
    *,
    service: str,
    registry: CollectorRegistry,
    checks: Mapping[str, HealthCheck],
    before_scrape: Sequence[Callable[[], Awaitable[object]]] = (),
    timeout: float = 2.0,
) -> None:
    @app.get("/health/live", tags=["ops"], summary="Liveness: the process answers")
    async def live() -> dict[str, str]:
        """For a liveness probe: restarting a process cannot bring a broker or a store back,
        so this asks nothing of them (``/health`` does, for readiness)."""
        return {"service": service, "status": "alive"}

    @app.get("/health", tags=["ops"], summary="Readiness: broker and store reachable")
    async def health() -> JSONResponse:
        results: dict[str, str] = {}
        ok = True
        for name, check in checks.items():
            try:
                value = await asyncio.wait_for(check(), timeout)
            except Exception as exc:
                ok = False
                results[name] = f"down: {type(exc).__name__}"
                continue
            if value is False:
                ok = False
                results[name] = "down"
            else:
                results[name] = "ok"
        body = {"service": service, "status": "ok" if ok else "unavailable", "checks": results}
        return JSONResponse(body, status_code=200 if ok else 503)

    @app.get("/metrics", tags=["ops"], summary="Prometheus metrics", include_in_schema=True)
    async def metrics() -> Response:
        for hook in before_scrape:
            await hook()
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


def install_validation_errors(app: FastAPI) -> None:
    """Refusals of malformed requests with the field and the reason, in Bahasa Indonesia and
    English (a service may install a richer handler of its own, as intake does)."""

    from fastapi.exceptions import RequestValidationError

    @app.exception_handler(RequestValidationError)
    async def on_invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "field": ".".join(str(p) for p in err.get("loc", ())[1:]) or "<body>",
                "code": str(err.get("type", "value_error")),
                "message_en": str(err.get("msg", "")),
            }
            for err in exc.errors()
        ]
        fields = ", ".join(e["field"] for e in errors)
        return error_response(
            422,
            "invalid_request",
            f"Permintaan tidak valid pada: {fields}.",
            f"Invalid request at: {fields}.",
            errors,
        )


RETRY_AFTER_SECONDS = 5


def error_body(
    code: str, detail: str, detail_en: str, errors: Sequence[Mapping[str, Any]] = ()
) -> dict[str, Any]:
    """The one error body of every service: a code, the reason in Bahasa Indonesia and
    English, and field-level reasons when there are any."""
    return {"code": code, "detail": detail, "detail_en": detail_en, "errors": list(errors)}


def error_response(
    status: int,
    code: str,
    detail: str,
    detail_en: str,
    errors: Sequence[Mapping[str, Any]] = (),
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(
        error_body(code, detail, detail_en, errors), status_code=status, headers=headers
    )


async def send_error(
    send: Callable[[Any], Awaitable[None]],
    status: int,
    body: Mapping[str, Any],
    headers: Mapping[str, str] | None = None,
) -> None:
    """Answer from an ASGI middleware (before or instead of the app) with an error body."""
    data = json.dumps(body, ensure_ascii=False).encode()
    extra = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(data)).encode()),
                *extra,
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})


UNAVAILABLE = (
    "unavailable",
    "Layanan sedang sibuk, silakan coba lagi sebentar.",
    "The service is temporarily unavailable; please retry shortly.",
)


def unavailable() -> JSONResponse:
    return error_response(503, *UNAVAILABLE, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def install_store_errors(app: FastAPI) -> None:
    """Any store failure on a request path (down, frozen past the deadline) is a ``503``
    with ``Retry-After``: the client keeps its input and retries; never a ``500``."""

    @app.exception_handler(PyMongoError)
    async def on_store_down(_: Request, exc: PyMongoError) -> JSONResponse:
        return unavailable()


class RequestDeadline:
    """ASGI middleware: every store operation a request makes shares one deadline (PyMongo's
    client-side operation timeout, ``pymongo.timeout``: a frozen store raises instead of
    hanging), and the request as a whole is answered ``503`` + ``Retry-After`` if it has not
    started its answer by then (a broker call, anything else that waits). Consumers are not
    affected: the deadline is set per request, not on the client."""

    def __init__(self, app: Any, seconds: float = 4.0) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Any) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            with pymongo.timeout(self.seconds):
                async with asyncio.timeout(self.seconds + 0.5):
                    await self.app(scope, receive, tracking_send)
        except TimeoutError:
            if started:
                raise
            await send_error(
                send,
                503,
                error_body(*UNAVAILABLE),
                {"Retry-After": str(RETRY_AFTER_SECONDS)},
            )


HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class HttpMetrics:
    """ASGI middleware (the outermost): every answer counted by route template, method and
    status — a 503 from a store that is down or too slow included — and its latency
    observed, for on-call's "is the front door answering?".

    ``lapor_http_requests_total{service, route, method, status}`` and
    ``lapor_http_request_duration_seconds{service, route, method}``. The route is the
    template (``/api/v1/cases/{tracking_id}``), never the path: ids, secrets and words stay
    out of the labels; an address no route matches is ``other``."""

    def __init__(self, app: Any, *, service: str, registry: CollectorRegistry) -> None:
        self.app = app
        self.service = service
        self.requests = Counter(
            "lapor_http_requests",
            "HTTP answers by route template, method and status.",
            ["service", "route", "method", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "lapor_http_request_duration_seconds",
            "Time to answer, by route template and method.",
            ["service", "route", "method"],
            buckets=HTTP_BUCKETS,
            registry=registry,
        )
        self.unavailable = Counter(
            "lapor_http_unavailable",
            "Answers 503 (try again later: the store down or too slow, a deadline), any route.",
            ["service"],
            registry=registry,
        ).labels(service)  # one series, at 0 from the start: increase() sees the first 503

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def recording_send(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            route = getattr(scope.get("route"), "path", None) or "other"
            method = str(scope.get("method", "GET"))
            self.requests.labels(self.service, route, method, str(status)).inc()
            if status == 503:
                self.unavailable.inc()
            self.latency.labels(self.service, route, method).observe(time.perf_counter() - started)


HSTS = "max-age=31536000; includeSubDomains"
SECRET_PARAMETERS = frozenset({"secret", "x-lapor-secret", "x_lapor_secret"})
SECRET_IN_URL = (
    "secret_in_url",
    "Kode rahasia laporan tidak boleh ada di alamat (URL), karena alamat tercatat di log dan "
    "riwayat peramban. Kirim kode itu di header X-Lapor-Secret.",
    "A report's secret may not be part of the URL, which logs and browser histories keep. "
    "Send it in the X-Lapor-Secret header.",
)


class SecretsNotInUrls:
    """ASGI middleware: a request with a report's secret in its query string (``?secret=``)
    is refused with ``400`` and a reason that says where the secret goes, before any route
    sees it. A secret in a URL ends up in access logs, proxies and browser histories."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope.get("query_string"):
            from urllib.parse import parse_qsl

            query = scope["query_string"].decode("latin-1")
            names = {k.lower() for k, _ in parse_qsl(query, keep_blank_values=True)}
            if names & SECRET_PARAMETERS:
                await send_error(send, 400, error_body(*SECRET_IN_URL))
                return
        await self.app(scope, receive, send)


class ResponseHeaders:
    """ASGI middleware: headers every answer of a service carries.

    * ``Cache-Control: no-store`` unless the route set its own: answers carry reporters'
      secrets, identities and staff views, and no shared cache or browser history may keep
      one (a route that may be cached, like a public reference list, says so itself);
    * ``X-Content-Type-Options: nosniff``;
    * ``Strict-Transport-Security`` in production (served behind TLS only)."""

    def __init__(self, app: Any, *, hsts: bool = False) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                names = {name.lower() for name, _ in headers}
                if b"cache-control" not in names:
                    headers.append((b"cache-control", b"no-store"))
                if b"x-content-type-options" not in names:
                    headers.append((b"x-content-type-options", b"nosniff"))
                if self.hsts and b"strict-transport-security" not in names:
                    headers.append((b"strict-transport-security", HSTS.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


def install_auth(app: FastAPI, verifier: TokenVerifier) -> None:
    """The one way a service learns who is calling: the bearer token verified with the
    identity owner's public keys (:class:`~lapor_kit.auth.TokenVerifier`); a missing, forged,
    expired or incomplete token is a ``401`` with the one error body. A service may install
    a more specific ``AuthError`` answer of its own after this."""

    app.state.tokens = verifier

    @app.exception_handler(AuthError)
    async def on_auth(_: Request, exc: AuthError) -> JSONResponse:
        return error_response(
            401, "unauthenticated", "Token petugas tidak valid.", f"Invalid staff token: {exc}"
        )


async def principal_from(request: Request, authorization: str | None) -> Principal:
    """The caller's principal, from its ``Authorization: Bearer`` token (raises ``AuthError``)."""
    verifier: TokenVerifier = request.app.state.tokens
    return await verifier.principal(authorization)


async def staff_principal(
    request: Request, authorization: Annotated[str | None, Header()] = None
) -> Principal:
    return await principal_from(request, authorization)


Staff = Annotated[Principal, Depends(staff_principal)]
"""The signed-in staff member of a request (FastAPI dependency)."""
