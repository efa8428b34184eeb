"""A local HTTP server that stands in for SMS/WhatsApp providers and agency webhook
receivers: it records every request and can be told to fail or to be slow, for development
and tests. Like real providers, it honours ``Idempotency-Key``: a request repeating a key it
already accepted is answered with the first answer and not delivered again.

    POST /send/{name}            a provider endpoint (any JSON); answers 202, or the
                                 configured failure
    POST /control/fail?times=N&status=503[&name=sms]   the next N requests (to that
                                 endpoint) fail with that status; times=-1: until reset
    POST /control/delay?seconds=S[&name=sms]   answer slowly
    POST /control/reset          no failures, no delay
    GET  /requests[?name=...]    what was received (body, headers), oldest first
    GET  /delivered[?name=...]   what was accepted (once per idempotency key)
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


def create_app() -> FastAPI:
    app = FastAPI(title="Lapor provider stand-in")
    received: list[dict[str, Any]] = []
    delivered: list[dict[str, Any]] = []
    accepted: dict[tuple[str, str], str] = {}
    failures: dict[str, dict[str, int]] = {}
    delays: dict[str, float] = {}

    def rule(table: dict[str, Any], name: str) -> Any:
        return table.get(name, table.get("*"))

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/control/fail")
    async def fail(times: int = 1, status: int = 503, name: str = "*") -> dict[str, Any]:
        failures[name] = {"times": times, "status": status}
        return {"name": name, **failures[name]}

    @app.post("/control/delay")
    async def delay(seconds: float, name: str = "*") -> dict[str, Any]:
        delays[name] = seconds
        return {"name": name, "seconds": seconds}

    @app.post("/control/reset")
    async def reset() -> dict[str, str]:
        failures.clear()
        delays.clear()
        return {"status": "reset"}

    @app.post("/send/{name}")
    async def send(name: str, request: Request) -> JSONResponse:
        body = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}
        failure = rule(failures, name)
        failing = failure is not None and failure["times"] != 0
        entry = {
            "name": name,
            "body": body.decode("utf-8", "replace"),
            "headers": headers,
            "failed": failing,
        }
        received.append(entry)
        wait = rule(delays, name)
        if wait:
            await asyncio.sleep(wait)
        if failing:
            if failure["times"] > 0:
                failure["times"] -= 1
            return JSONResponse({"error": "provider unavailable"}, status_code=failure["status"])
        key = headers.get("idempotency-key")
        if key is not None and (name, key) in accepted:
            return JSONResponse({"id": accepted[(name, key)], "duplicate": True}, status_code=200)
        message_id = f"msg-{len(delivered) + 1}"
        if key is not None:
            accepted[(name, key)] = message_id
        delivered.append({**entry, "id": message_id})
        return JSONResponse({"id": message_id, "status": "queued"}, status_code=202)

    @app.get("/requests")
    async def requests(name: str | None = None) -> list[dict[str, Any]]:
        return [r for r in received if name is None or r["name"] == name]

    @app.get("/delivered")
    async def accepted_messages(name: str | None = None) -> list[dict[str, Any]]:
        return [r for r in delivered if name is None or r["name"] == name]

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
