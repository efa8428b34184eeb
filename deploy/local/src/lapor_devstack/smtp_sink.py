"""A local SMTP server that keeps every message, for development and tests.

Messages are written as ``<dir>/<id>.eml`` with an index ``<dir>/index.jsonl``; an HTTP API
lists them: ``GET /messages`` (filters ``to``, ``tracking_id``), ``GET /messages/{id}``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import uvicorn
from aiosmtpd.smtp import SMTP, Envelope, Session
from fastapi import FastAPI, HTTPException
from fastapi.responses import PlainTextResponse


class MailStore:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.index = folder / "index.jsonl"
        self._count = sum(1 for _ in self.index.open()) if self.index.exists() else 0

    def add(self, mail_from: str, rcpt_tos: list[str], data: bytes) -> dict[str, Any]:
        self._count += 1
        msg_id = f"{int(time.time() * 1000)}-{self._count:06d}"
        (self.folder / f"{msg_id}.eml").write_bytes(data)
        parsed = message_from_bytes(data, policy=policy.default)
        entry = {
            "id": msg_id,
            "from": mail_from,
            "to": rcpt_tos,
            "subject": str(parsed.get("Subject", "")).strip(),
            "message_id": str(parsed.get("Message-ID", "")).strip(),
            "tracking_id": str(parsed.get("X-Lapor-Tracking-Id", "")).strip(),
            "delivery_id": str(parsed.get("X-Lapor-Delivery-Id", "")).strip(),
            "received_at": time.time(),
        }
        with self.index.open("a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")
        return entry

    def list(self) -> list[dict[str, Any]]:
        if not self.index.exists():
            return []
        with self.index.open(encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]

    def raw(self, msg_id: str) -> str:
        path = self.folder / f"{msg_id}.eml"
        if not msg_id.replace("-", "").isdigit() or not path.exists():
            raise KeyError(msg_id)
        return path.read_text(errors="replace")


class Handler:
    def __init__(self, store: MailStore) -> None:
        self.store = store

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        content = envelope.original_content or envelope.content or b""
        data = content if isinstance(content, bytes) else content.encode()
        self.store.add(str(envelope.mail_from), [str(r) for r in envelope.rcpt_tos], data)
        return "250 Message accepted for delivery"


def http_app(store: MailStore) -> FastAPI:
    app = FastAPI(title="Lapor SMTP sink", description="Messages the local stack sent.")

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/messages")
    async def messages(
        to: str | None = None, tracking_id: str | None = None
    ) -> list[dict[str, Any]]:
        items = store.list()
        if to:
            items = [m for m in items if to in m["to"]]
        if tracking_id:
            items = [m for m in items if m["tracking_id"] == tracking_id]
        return items

    @app.get("/messages/{msg_id}", response_class=PlainTextResponse)
    async def message(msg_id: str) -> str:
        try:
            return store.raw(msg_id)
        except KeyError:
            raise HTTPException(404, "no such message") from None

    return app


async def serve(smtp_port: int, http_port: int, folder: Path) -> None:
    store = MailStore(folder)
    loop = asyncio.get_running_loop()
    handler = Handler(store)
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="lapor-smtp-sink"), "127.0.0.1", smtp_port
    )
    config = uvicorn.Config(
        http_app(store), host="127.0.0.1", port=http_port, log_level="warning", access_log=False
    )
    try:
        await uvicorn.Server(config).serve()
    finally:
        server.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smtp-port", type=int, default=1025)
    parser.add_argument("--http-port", type=int, default=8025)
    parser.add_argument("--dir", type=Path, default=Path("var/mail"))
    args = parser.parse_args(argv)
    asyncio.run(serve(args.smtp_port, args.http_port, args.dir))


if __name__ == "__main__":
    main()
