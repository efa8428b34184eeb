"""The portal in-process on the real store (SecantusDB, the session's infrastructure), with
the services behind it answered by a recording fake (httpx's MockTransport): what the
portal sends them is checked, and what they answer is chosen by the test."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from lapor_devstack.settings import StackSettings
from lapor_portal.backend import Backend
from lapor_portal.main import create_app
from lapor_portal.seed import DEV_PASSWORD
from lapor_portal.settings import PortalSettings

TID = "LPR-0123456789"
REGIONS = [
    {"code": "63", "name": "Kalimantan Selatan", "kind": "province", "province_code": "63"},
    {
        "code": "63.71",
        "name": "Kota Banjarmasin",
        "kind": "city",
        "province_code": "63",
        "lat": -3.32,
        "lon": 114.59,
    },
]
CATEGORIES = [
    {
        "code": "infrastruktur",
        "name": "Infrastruktur",
        "name_en": "Infrastructure",
        "description": "",
    }
]
CASE = {
    "tracking_id": TID,
    "tenant": "63",
    "status": "dispatched",
    "type": "pengaduan",
    "category": "infrastruktur",
    "region_code": "63.71",
    "title": "Jalan berlubang",
    "agency": {"id": "63.71.pupr", "name": "Dinas PUPR Kota Banjarmasin", "role": "opd"},
    "transfers": 0,
    "escalation_level": 0,
    "escalated_to": None,
    "due_at": None,
    "stage": "follow_up",
    "repeat_of": None,
    "history": [],
}
REPORT = {
    **CASE,
    "description": "Jalan berlubang besar di dekat jembatan.",
    "channel": "web",
    "anonymous": False,
    "confidential": True,
    "submitted_at": "2026-12-01T01:00:00Z",
    "attachments": [],
    "identity_available": True,
}


@dataclass
class FakeServices:
    """Intake, routing, notify and metrics as the portal sees them. ``answers`` overrides
    an answer by (method, path); every request is kept in ``seen``."""

    seen: list[httpx.Request] = field(default_factory=list)
    answers: dict[tuple[str, str], tuple[int, Any]] = field(default_factory=dict)

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        method, path = request.method, request.url.path
        if (method, path) in self.answers:
            status, body = self.answers[(method, path)]
            return httpx.Response(status, json=body)
        if path == "/api/v1/regions":
            return httpx.Response(200, json=REGIONS)
        if path == "/api/v1/categories":
            return httpx.Response(200, json=CATEGORIES)
        if path == "/api/v1/complaints" and method == "POST":
            return httpx.Response(202, json={"tracking_id": TID, "secret": "rahasia-warga-0001"})
        if path in ("/api/v1/attachments", "/api/v1/staff/attachments"):
            return httpx.Response(
                201,
                json={
                    "handle": "aGFuZGxl." + uuid.uuid4().hex,
                    "name": "foto.png",
                    "content_type": "image/png",
                    "size": 10,
                    "sha256": "0" * 64,
                    "expires_at": "2026-12-05T10:00:00Z",
                },
            )
        if path == "/api/v1/staff/complaints" and method == "POST":
            return httpx.Response(202, json={"tracking_id": TID, "secret": "rahasia-slip-0001"})
        if path == f"/api/v1/cases/{TID}" or (
            method == "POST" and path.startswith(f"/api/v1/cases/{TID}/")
        ):
            return httpx.Response(200, json=CASE)
        if path == f"/api/v1/staff/complaints/{TID}":
            return httpx.Response(200, json=REPORT)
        if path == f"/api/v1/staff/complaints/{TID}/reporter":
            return httpx.Response(
                200, json={"name": "Rina Wati", "email": "rina@warga.example", "phone": "+62811"}
            )
        if method == "GET":
            return httpx.Response(200, json=[])
        return httpx.Response(404, json={"detail": "?", "detail_en": "?"})

    def to(self, path: str) -> list[httpx.Request]:
        return [r for r in self.seen if r.url.path == path]


@dataclass
class Portal:
    app: Any
    services: FakeServices
    settings: PortalSettings

    def db(self) -> Any:
        """The portal's own database, through the portal's own client."""
        return self.app.state.portal_store.db

    def client(self, address: str = "203.0.113.10", **headers: str) -> httpx.AsyncClient:
        """A browser of its own (cookies) connecting from ``address``."""
        transport = httpx.ASGITransport(app=self.app, client=(address, 40000))
        return httpx.AsyncClient(
            transport=transport, base_url="http://portal", headers=headers, timeout=30
        )


@asynccontextmanager
async def portal(stack_settings: StackSettings, **overrides: Any) -> AsyncIterator[Portal]:
    services = FakeServices()
    values: dict[str, Any] = {
        "mongo_url": stack_settings.mongo_url,
        "mongo_db_prefix": f"s{uuid.uuid4().hex[:8]}",
        "seed_dev_accounts": True,
        "intake_url": "http://intake",
        "routing_url": "http://routing",
        "notify_url": "http://notify",
        "metrics_url": "http://metrics",
    }
    settings = PortalSettings(**{**values, **overrides})
    backend = Backend(
        settings, client=httpx.AsyncClient(transport=httpx.MockTransport(services.handler))
    )
    app = create_app(settings, backend=backend)
    async with app.router.lifespan_context(app):
        yield Portal(app, services, settings)


def hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no hidden field {name}"
    return found.group(1)


async def form_token(client: httpx.AsyncClient, path: str = "/masuk") -> str:
    return hidden((await client.get(path)).text, "csrf")


async def sign_in(
    client: httpx.AsyncClient,
    username: str,
    password: str = DEV_PASSWORD,
    code: str = "",
    csrf: str | None = None,
) -> httpx.Response:
    token = csrf or await form_token(client)
    return await client.post(
        "/masuk",
        data={"csrf": token, "username": username, "password": password, "code": code},
    )


def body_of(request: httpx.Request) -> Any:
    return json.loads(request.content)
