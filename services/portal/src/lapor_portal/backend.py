"""The portal's view of the other services: their public HTTP APIs, nothing else (the same
ones third parties use), so the portal scales and fails on its own."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from .settings import PortalSettings


class BackendDownError(Exception):
    """A service did not answer, or answered 5xx: the page says so and offers a retry."""


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class Backend:
    def __init__(self, settings: PortalSettings, client: httpx.AsyncClient | None = None) -> None:
        self.s = settings
        self.client = client or httpx.AsyncClient(timeout=settings.backend_timeout_seconds)
        self._reference: dict[str, Any] = {}

    async def close(self) -> None:
        await self.client.aclose()

    async def _send(self, method: str, url: str, **kw: Any) -> httpx.Response:
        """The raw answer; a service that does not answer, or answers 5xx, is down."""
        try:
            resp = await self.client.request(method, url, **kw)
        except httpx.HTTPError as exc:
            raise BackendDownError(f"{url}: {type(exc).__name__}") from exc
        if resp.status_code >= 500:
            raise BackendDownError(f"{url}: {resp.status_code}")
        return resp

    async def _call(self, method: str, url: str, **kw: Any) -> Answer:
        resp = await self._send(method, url, **kw)
        try:
            body = resp.json()
        except ValueError:
            body = None
        return Answer(resp.status_code, body, {"retry-after": resp.headers.get("retry-after", "")})

    async def reference(self, name: str) -> list[dict[str, Any]]:
        """The catalogue or the regions (cached: reference data changes with a release)."""
        if name not in self._reference:
            answer = await self._call("GET", f"{self.s.intake_url}/api/v1/{name}")
            if not answer.ok:
                raise BackendDownError(name)
            self._reference[name] = answer.body
        data: list[dict[str, Any]] = self._reference[name]
        return data

    async def submit(self, body: dict[str, Any], key: str, client_ip: str) -> Answer:
        """A citizen's report; the form's key is both its idempotency key and the upload
        session its attachments' handles are bound to. The citizen's address goes along
        (intake trusts it from the portal only: LAPOR_TRUSTED_PROXIES)."""
        return await self._call(
            "POST",
            f"{self.s.intake_url}/api/v1/complaints",
            json=body,
            headers={
                "Idempotency-Key": key,
                "X-Lapor-Upload-Key": key,
                "X-Forwarded-For": client_ip,
            },
        )

    async def upload(
        self, name: str, content_type: str, data: bytes, client_ip: str, upload_key: str
    ) -> Answer:
        return await self._call(
            "POST",
            f"{self.s.intake_url}/api/v1/attachments",
            files={"file": (name, data, content_type)},
            headers={"X-Forwarded-For": client_ip, "X-Lapor-Upload-Key": upload_key},
        )

    async def report(self, tracking_id: str, secret: str | None) -> Answer:
        headers = {"X-Lapor-Secret": secret} if secret else {}
        return await self._call(
            "GET", f"{self.s.intake_url}/api/v1/complaints/{tracking_id}", headers=headers
        )

    async def report_file(
        self, tracking_id: str, secret: str | None, index: int, *, small: bool = False
    ) -> httpx.Response:
        """One file of a report, through the report: the reporter's (with the secret) or a
        public report's photo (without); ``small``: a photo's small copy."""
        url = f"{self.s.intake_url}/api/v1/complaints/{tracking_id}/attachments/{index}"
        if small:
            url += "/thumbnail"
        try:
            return await self.client.get(url, headers={"X-Lapor-Secret": secret} if secret else {})
        except httpx.HTTPError as exc:
            raise BackendDownError(url) from exc

    async def public_reports(
        self,
        limit: int = 20,
        offset: int = 0,
        region_code: str = "",
        category: str = "",
    ) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        if region_code:
            params["region_code"] = region_code
        if category:
            params["category"] = category
        answer = await self._call("GET", f"{self.s.intake_url}/api/v1/complaints", params=params)
        return list(answer.body or []) if answer.ok else []

    async def similar(
        self,
        category: str,
        region_code: str = "",
        lat: float | None = None,
        lon: float | None = None,
    ) -> list[dict[str, Any]]:
        """Public reports like the one being written: near the spot, or in the regency."""
        params: dict[str, Any] = {"category": category}
        if lat is not None and lon is not None:
            params.update(lat=lat, lon=lon)
        elif region_code:
            params["region_code"] = region_code
        else:
            return []
        answer = await self._call(
            "GET", f"{self.s.intake_url}/api/v1/complaints/similar", params=params
        )
        return list(answer.body or []) if answer.ok else []

    async def suggest(self, title: str, description: str) -> list[dict[str, Any]]:
        """Intake's category suggestion for the words (every category, best first); empty
        when it cannot answer: a suggestion never holds a report back."""
        try:
            answer = await self._call(
                "POST",
                f"{self.s.intake_url}/api/v1/complaints/suggest",
                json={"title": title[:4000], "description": description[:5000]},
            )
        except BackendDownError:
            return []
        return list((answer.body or {}).get("categories", [])) if answer.ok else []

    async def support(self, tracking_id: str, body: dict[str, Any], client_ip: str) -> Answer:
        """Join a public report with the same problem (intake counts one person once)."""
        return await self._call(
            "POST",
            f"{self.s.intake_url}/api/v1/complaints/{tracking_id}/supporters",
            json=body,
            headers={"X-Forwarded-For": client_ip},
        )

    async def stop_following(self, code: str, client_ip: str) -> Answer:
        """Someone who joined a report stops hearing of it, with their e-mail's stop code
        (notify checks it and limits tries per citizen address)."""
        return await self._call(
            "POST",
            f"{self.s.notify_url}/api/v1/supporters/stop",
            json={"code": code[:64]},
            headers={"X-Forwarded-For": client_ip},
        )

    async def act(self, tracking_id: str, secret: str, action: str, body: dict[str, Any]) -> Answer:
        path = {"message": "messages", "accept": "accept", "dispute": "dispute", "rate": "rating"}[
            action
        ]
        return await self._call(
            "POST",
            f"{self.s.intake_url}/api/v1/complaints/{tracking_id}/{path}",
            json=body,
            headers={"X-Lapor-Secret": secret},
        )

    async def notifications(self, tracking_id: str, secret: str) -> list[dict[str, Any]]:
        try:
            answer = await self._call(
                "GET",
                f"{self.s.notify_url}/api/v1/notifications",
                params={"tracking_id": tracking_id},
                headers={"X-Lapor-Secret": secret},
            )
        except BackendDownError:
            return []  # the case itself still shows
        return list(answer.body or []) if answer.ok else []

    async def category_map(self, province: str) -> list[dict[str, Any]]:
        answer = await self._call(
            "GET", f"{self.s.metrics_url}/api/v1/reports/categories", params={"province": province}
        )
        return list((answer.body or {}).get("rows", [])) if answer.ok else []

    async def ranking(self, province: str) -> dict[str, Any]:
        """Metrics' ranking of the province's regencies: ``rows`` and the period (``from``,
        ``to``; this year so far)."""
        answer = await self._call(
            "GET", f"{self.s.metrics_url}/api/v1/reports/ranking", params={"province": province}
        )
        body = dict(answer.body or {}) if answer.ok else {}
        body.setdefault("rows", [])
        return body
