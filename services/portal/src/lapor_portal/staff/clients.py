"""The workspace's typed clients of the services' staff APIs: a method per thing a page needs,
never a service name and a path string in a router. Each call carries the signed-in person's
own short-lived token, so the portal never calls with more rights than the person in front
of it has; each service authorizes from that token alone.

The :class:`StaffClients` bundle is what the routers receive; unit tests hand them in-memory
fakes with the same methods (``tests/unit/staff_fakes.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from ..backend import Answer, Backend


@dataclass(frozen=True, slots=True)
class InboxQuery:
    """What an inbox page asks routing for (routing narrows it to what the token may see)."""

    statuses: tuple[str, ...] = ()
    category: str = ""
    region_code: str = ""
    overdue: bool = False
    parked: bool = False
    possible_repeat: bool = False
    assignee: str = ""
    words: str = ""
    sort: str = "urgency"
    tenant: str = ""
    limit: int = 25
    offset: int = 0

    def params(self) -> dict[str, Any]:
        params: dict[str, Any] = {"limit": self.limit, "offset": self.offset, "sort": self.sort}
        if self.statuses:
            params["status"] = ",".join(self.statuses)
        for name, value in (
            ("category", self.category),
            ("region_code", self.region_code),
            ("q", self.words),
            ("assignee", self.assignee),
            ("tenant", self.tenant),
        ):
            if value:
                params[name] = value
        for name, flag in (
            ("overdue", self.overdue),
            ("parked", self.parked),
            ("possible_repeat", self.possible_repeat),
        ):
            if flag:
                params[name] = "true"
        return params


@dataclass(frozen=True, slots=True)
class InboxPage:
    cases: list[dict[str, Any]]
    total: int


@dataclass(frozen=True, slots=True)
class File:
    status: int
    content: bytes = b""
    content_type: str = "application/octet-stream"


class RoutingPort(Protocol):
    async def inbox(self, token: str, query: InboxQuery) -> InboxPage: ...
    async def case(self, token: str, tracking_id: str) -> dict[str, Any] | None: ...
    async def act(
        self, token: str, tracking_id: str, action: str, body: dict[str, Any]
    ) -> Answer: ...
    async def add_note(self, token: str, tracking_id: str, text: str) -> Answer: ...
    async def assign(
        self, token: str, tracking_id: str, username: str | None, name: str | None
    ) -> Answer: ...
    async def agencies(self, token: str, tenant: str) -> list[dict[str, Any]]: ...
    async def directory(self, token: str, tenant: str) -> dict[str, Any] | None: ...
    async def directory_versions(self, token: str, tenant: str) -> list[dict[str, Any]]: ...
    async def save_directory(self, token: str, tenant: str, body: Any) -> Answer: ...
    async def roll_back_directory(self, token: str, tenant: str, revision: int) -> Answer: ...


class IntakePort(Protocol):
    async def report(self, token: str, tracking_id: str) -> dict[str, Any] | None: ...
    async def reporter(self, token: str, tracking_id: str) -> dict[str, Any] | None: ...
    async def set_public(
        self, token: str, tracking_id: str, hidden: bool, redactions: list[str]
    ) -> dict[str, Any] | None: ...
    async def attachment(
        self, token: str, tracking_id: str, index: int, *, small: bool = False
    ) -> File: ...
    async def upload(self, token: str, name: str, content_type: str, data: bytes) -> Answer: ...
    async def enter(self, token: str, body: dict[str, Any]) -> Answer: ...


class NotifyPort(Protocol):
    async def deliveries(self, token: str, tracking_id: str) -> list[dict[str, Any]]: ...


class MetricsPort(Protocol):
    async def hotspots(self, token: str, province: str) -> list[dict[str, Any]]: ...


# The action names the workspace uses and routing's paths for them.
ACTION_PATHS = {
    "verify": "verify",
    "request_info": "request-info",
    "reject": "reject",
    "mark_repeat": "mark-repeat",
    "dispatch": "dispatch",
    "decline": "decline",
    "follow_up": "follow-up",
    "close": "close",
    "recategorise": "recategorise",
}


class _Service:
    def __init__(self, backend: Backend, base: str) -> None:
        self.b = backend
        self.base = base

    async def call(self, token: str, method: str, path: str, **kw: Any) -> Answer:
        headers = {"Authorization": f"Bearer {token}", **kw.pop("headers", {})}
        return await self.b._call(method, f"{self.base}{path}", headers=headers, **kw)

    async def listed(self, token: str, path: str, **params: Any) -> list[dict[str, Any]]:
        answer = await self.call(token, "GET", path, params=params)
        return list(answer.body) if answer.ok and isinstance(answer.body, list) else []


class RoutingClient(_Service):
    async def inbox(self, token: str, query: InboxQuery) -> InboxPage:
        resp = await self.b._send(
            "GET",
            f"{self.base}/api/v1/inbox",
            params=query.params(),
            headers={"Authorization": f"Bearer {token}"},
        )
        if resp.status_code != 200:
            return InboxPage([], 0)
        cases = list(resp.json())
        total = resp.headers.get("x-total-count", "")
        return InboxPage(cases, int(total) if total.isdigit() else len(cases))

    async def case(self, token: str, tracking_id: str) -> dict[str, Any] | None:
        answer = await self.call(token, "GET", f"/api/v1/cases/{tracking_id}")
        return dict(answer.body) if answer.ok else None

    async def act(self, token: str, tracking_id: str, action: str, body: dict[str, Any]) -> Answer:
        path = f"/api/v1/cases/{tracking_id}/{ACTION_PATHS[action]}"
        return await self.call(token, "POST", path, json=body)

    async def add_note(self, token: str, tracking_id: str, text: str) -> Answer:
        return await self.call(
            token, "POST", f"/api/v1/cases/{tracking_id}/notes", json={"text": text}
        )

    async def assign(
        self, token: str, tracking_id: str, username: str | None, name: str | None
    ) -> Answer:
        return await self.call(
            token,
            "PUT",
            f"/api/v1/cases/{tracking_id}/assignee",
            json={"username": username, "name": name},
        )

    async def agencies(self, token: str, tenant: str) -> list[dict[str, Any]]:
        return await self.listed(token, "/api/v1/agencies", tenant=tenant)

    async def directory(self, token: str, tenant: str) -> dict[str, Any] | None:
        answer = await self.call(token, "GET", f"/api/v1/directory/{tenant}")
        return dict(answer.body) if answer.ok else None

    async def directory_versions(self, token: str, tenant: str) -> list[dict[str, Any]]:
        return await self.listed(token, f"/api/v1/directory/{tenant}/versions")

    async def save_directory(self, token: str, tenant: str, body: Any) -> Answer:
        return await self.call(token, "PUT", f"/api/v1/directory/{tenant}", json=body)

    async def roll_back_directory(self, token: str, tenant: str, revision: int) -> Answer:
        return await self.call(
            token, "POST", f"/api/v1/directory/{tenant}/rollback", json={"revision": revision}
        )


class IntakeClient(_Service):
    async def report(self, token: str, tracking_id: str) -> dict[str, Any] | None:
        answer = await self.call(token, "GET", f"/api/v1/staff/complaints/{tracking_id}")
        return dict(answer.body) if answer.ok else None

    async def reporter(self, token: str, tracking_id: str) -> dict[str, Any] | None:
        answer = await self.call(token, "GET", f"/api/v1/staff/complaints/{tracking_id}/reporter")
        return dict(answer.body) if answer.ok else None

    async def set_public(
        self, token: str, tracking_id: str, hidden: bool, redactions: list[str]
    ) -> dict[str, Any] | None:
        answer = await self.call(
            token,
            "PUT",
            f"/api/v1/staff/complaints/{tracking_id}/public",
            json={"hidden": hidden, "redactions": redactions},
        )
        return dict(answer.body) if answer.ok else None

    async def attachment(
        self, token: str, tracking_id: str, index: int, *, small: bool = False
    ) -> File:
        url = f"{self.base}/api/v1/staff/complaints/{tracking_id}/attachments/{index}"
        if small:
            url += "/thumbnail"
        resp = await self.b._send("GET", url, headers={"Authorization": f"Bearer {token}"})
        return File(
            resp.status_code,
            resp.content if resp.status_code == 200 else b"",
            resp.headers.get("content-type", "application/octet-stream"),
        )

    async def upload(self, token: str, name: str, content_type: str, data: bytes) -> Answer:
        """A file for this staff member's own follow-up or entry: its handle works only in
        requests with their token."""
        return await self.call(
            token,
            "POST",
            "/api/v1/staff/attachments",
            files={"file": (name, data, content_type)},
        )

    async def enter(self, token: str, body: dict[str, Any]) -> Answer:
        return await self.call(token, "POST", "/api/v1/staff/complaints", json=body)


class NotifyClient(_Service):
    async def deliveries(self, token: str, tracking_id: str) -> list[dict[str, Any]]:
        return await self.listed(token, "/api/v1/notifications", tracking_id=tracking_id)


class MetricsClient(_Service):
    async def hotspots(self, token: str, province: str) -> list[dict[str, Any]]:
        answer = await self.call(
            token, "GET", "/api/v1/reports/hotspots", params={"province": province}
        )
        return list((answer.body or {}).get("rows", [])) if answer.ok else []


@dataclass(frozen=True, slots=True)
class StaffClients:
    routing: RoutingPort
    intake: IntakePort
    notify: NotifyPort
    metrics: MetricsPort

    @classmethod
    def over(cls, backend: Backend) -> StaffClients:
        s = backend.s
        return cls(
            routing=RoutingClient(backend, s.routing_url),
            intake=IntakeClient(backend, s.intake_url),
            notify=NotifyClient(backend, s.notify_url),
            metrics=MetricsClient(backend, s.metrics_url),
        )
