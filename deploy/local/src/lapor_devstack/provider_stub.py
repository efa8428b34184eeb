"""A local HTTP server that stands in for SMS/WhatsApp providers and agency webhook
receivers: it records every request and can be told to fail, for development and tests.

    POST /send/{name}            a provider endpoint (any JSON); answers 202, or the
                                 configured failure
    POST /control/fail?times=N&status=503   the next N requests fail with that status
    GET  /requests[?name=...]    what was received (body, headers), oldest first
"""

from __future__ import annotations

import argparse
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


def create_app() -> FastAPI:
    app = FastAPI(title="Lapor provider stand-in")
    received: list[dict[str, Any]] = []
    failures = {"times": 0, "status": 503}

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/control/fail")
    async def fail(times: int = 1, status: int = 503) -> dict[str, int]:
        failures.update(times=times, status=status)
        return failures

    @app.post("/send/{name}")
    async def send(name: str, request: Request) -> JSONResponse:
        body = await request.body()
        entry = {
            "name": name,
            "body": body.decode("utf-8", "replace"),
            "headers": {k.lower(): v for k, v in request.headers.items()},
            "failed": failures["times"] > 0,
        }
        received.append(entry)
        if failures["times"] > 0:
            failures["times"] -= 1
            return JSONResponse({"error": "provider unavailable"}, status_code=failures["status"])
        return JSONResponse({"id": f"msg-{len(received)}", "status": "queued"}, status_code=202)

    @app.get("/requests")
    async def requests(name: str | None = None) -> list[dict[str, Any]]:
        return [r for r in received if name is None or r["name"] == name]

    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8026)
    args = parser.parse_args(argv)
    uvicorn.run(
        create_app(), host="127.0.0.1", port=args.port, log_level="warning", access_log=False
    )


if __name__ == "__main__":
    main()
