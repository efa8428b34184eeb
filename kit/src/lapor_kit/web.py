"""HTTP edges every service has: ``GET /health`` (readiness) and ``GET /metrics``."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence

from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

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
    from fastapi import Request
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
        return JSONResponse(
            {
                "code": "invalid_request",
                "detail": f"Permintaan tidak valid pada: {fields}.",
                "detail_en": f"Invalid request at: {fields}.",
                "errors": errors,
            },
            status_code=422,
        )
