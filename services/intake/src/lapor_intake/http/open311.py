"""Open311 GeoReport v2 under ``/open311/v2`` (XML required by the spec, JSON too).

``jurisdiction_id`` selects the province (its code, e.g. ``63``, or its domain, e.g.
``kalselprov.go.id``); it is required because one endpoint serves several provinces.
Service codes are the service catalogue's codes; the service definition offers the
attributes ``jenis``, ``anonim`` and ``rahasia``. Confidential reports never appear.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from starlette.datastructures import FormData

from lapor_kit.limits import per_client, take
from lapor_schemas import Channel, ComplaintSubmission, FieldError
from lapor_schemas.reference import categories, regions

from ..domain import open311 as o311
from ..domain.credentials import Registry
from ..domain.errors import from_pydantic
from ..domain.sms import title_of
from ..service import IntakeService, SubmissionRejectedError

SPEC = "http://wiki.open311.org/GeoReport_v2"
MAX_DAYS = 90
MAX_RESULTS = 1000


class Open311Error(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def render(
    fmt: str, root: str, item: str, items: list[dict[str, Any]], status: int = 200
) -> Response:
    if fmt == "xml":
        return Response(
            o311.to_xml(root, item, items), status_code=status, media_type="text/xml; charset=utf-8"
        )
    return Response(
        json.dumps(items, ensure_ascii=False),
        status_code=status,
        media_type="application/json; charset=utf-8",
    )


def error(fmt: str, status: int, description: str) -> Response:
    return render(
        fmt if fmt in ("xml", "json") else "xml",
        "errors",
        "error",
        [{"code": status, "description": description}],
        status,
    )


def install(
    app: FastAPI, service: IntakeService, registry: Registry, jurisdictions: dict[str, str]
) -> None:
    read_limit = [Depends(per_client("read"))]
    router = APIRouter(prefix="/open311/v2", tags=["open311"])
    tenants = {r.code for r in regions().values() if r.kind == "province"}

    def tenant_of(jurisdiction_id: str | None) -> str:
        if not jurisdiction_id:
            raise Open311Error(400, "jurisdiction_id was not provided")
        tenant = jurisdictions.get(jurisdiction_id, jurisdiction_id)
        if tenant not in tenants:
            raise Open311Error(404, f"jurisdiction_id {jurisdiction_id} was not found")
        return tenant

    def fmt_of(fmt: str) -> str:
        if fmt not in ("xml", "json"):
            raise Open311Error(404, f"format {fmt} is not supported (xml, json)")
        return fmt

    @app.exception_handler(Open311Error)
    async def on_error(request: Request, exc: Open311Error) -> Response:
        fmt = "json" if request.url.path.endswith(".json") else "xml"
        return error(fmt, exc.status, exc.description)

    @router.get("/discovery.{fmt}", dependencies=read_limit, summary="Service discovery")
    async def discovery(fmt: str, request: Request) -> Response:
        fmt = fmt_of(fmt)
        base = str(request.url_for("open311_services", fmt="xml")).rsplit("/", 1)[0]
        doc = {
            "changeset": "2026-11-23T00:00:00Z",
            "contact": "LAPOR! (lapor.example)",
            "key_service": "Registered Open311 clients receive an api_key.",
            "endpoints": [
                {
                    "specification": SPEC,
                    "url": base,
                    "changeset": "2026-11-23T00:00:00Z",
                    "type": "production",
                    "formats": ["text/xml", "application/json"],
                }
            ],
        }
        if fmt == "json":
            return render("json", "", "", [doc])
        return Response(
            o311.to_xml("discovery_root", "discovery", [doc])
            .replace(b"<discovery_root>", b"")
            .replace(b"</discovery_root>", b""),
            media_type="text/xml; charset=utf-8",
        )

    @router.get(
        "/services.{fmt}",
        dependencies=[Depends(per_client("read"))],
        name="open311_services",
        summary="GET Service List",
    )
    async def services(fmt: str, jurisdiction_id: str | None = None) -> Response:
        fmt = fmt_of(fmt)
        tenant_of(jurisdiction_id)
        return render(fmt, "services", "service", o311.service_list(categories().values()))

    @router.get(
        "/services/{service_code}.{fmt}",
        dependencies=[Depends(per_client("read"))],
        summary="GET Service Definition",
    )
    async def definition(
        service_code: str, fmt: str, jurisdiction_id: str | None = None
    ) -> Response:
        fmt = fmt_of(fmt)
        tenant_of(jurisdiction_id)
        category = categories().get(service_code)
        if category is None:
            raise Open311Error(404, f"service_code {service_code} was not found")
        body = o311.service_definition(category)
        if fmt == "json":
            return Response(
                json.dumps(body, ensure_ascii=False), media_type="application/json; charset=utf-8"
            )
        xml = o311.to_xml("root", "service_definition", [body])
        return Response(
            xml.replace(b"<root>", b"").replace(b"</root>", b""),
            media_type="text/xml; charset=utf-8",
        )

    @router.post("/requests.{fmt}", summary="POST Service Request (form-encoded, api_key)")
    async def create(fmt: str, request: Request) -> Response:
        fmt = fmt_of(fmt)
        form = await request.form()
        client = registry.open311_client(str(form.get("api_key") or ""))
        if client is None:
            raise Open311Error(
                403, "Invalid api_key received -- can't proceed with create_request."
            )
        take(request, "open311", client.id)
        tenant = tenant_of(_text(form, "jurisdiction_id"))
        if tenant not in client.tenants:
            raise Open311Error(403, f"api_key is not valid for jurisdiction {tenant}")
        code = _text(form, "service_code")
        if not code:
            raise Open311Error(400, "service_code was not provided")
        if code not in categories():
            raise Open311Error(404, f"service_code {code} was not found")
        submission = _submission(form, tenant, code)
        try:
            result = await service.submit(
                submission, channel=Channel.OPEN311, allowed_tenants=(tenant,)
            )
        except SubmissionRejectedError as exc:
            raise Open311Error(400, _describe(exc.errors)) from exc
        notice = (
            "Laporan diterima dan akan diverifikasi dalam 3 hari kerja. "
            f"Kode rahasia untuk melihat status: {result.secret}"
        )
        return render(
            fmt,
            "service_requests",
            "request",
            [
                {
                    "service_request_id": result.tracking_id,
                    "service_notice": notice,
                    "account_id": _text(form, "account_id"),
                }
            ],
        )

    @router.get(
        "/requests.{fmt}",
        dependencies=[Depends(per_client("read"))],
        summary="GET Service Requests",
    )
    async def search(fmt: str, request: Request) -> Response:
        fmt = fmt_of(fmt)
        q = request.query_params
        tenant = tenant_of(q.get("jurisdiction_id"))
        ids = [i.strip() for i in (q.get("service_request_id") or "").split(",") if i.strip()]
        statuses = {s.strip() for s in (q.get("status") or "").split(",") if s.strip()}
        if statuses - {"open", "closed"}:
            raise Open311Error(400, "status must be open and/or closed")
        open_cases = None if len(statuses) != 1 else ("open" in statuses)
        start, end = _window(q.get("start_date"), q.get("end_date"))
        docs = await service.public_reports(
            tenant=tenant,
            ids=ids,
            category=q.get("service_code") or None,
            open_cases=open_cases,
            since=start,
            until=end,
            limit=MAX_RESULTS,
        )
        items = [o311.request_view(d, categories()) for d in docs if d["tenant"] == tenant]
        return render(fmt, "service_requests", "request", items)

    @router.get(
        "/requests/{service_request_id}.{fmt}",
        dependencies=[Depends(per_client("read"))],
        summary="GET Service Request",
    )
    async def one(
        service_request_id: str, fmt: str, jurisdiction_id: str | None = None
    ) -> Response:
        fmt = fmt_of(fmt)
        tenant = tenant_of(jurisdiction_id)
        docs = await service.public_reports(ids=[service_request_id], limit=1)
        if not docs or docs[0]["tenant"] != tenant:
            raise Open311Error(404, f"service_request_id {service_request_id} was not found")
        return render(
            fmt, "service_requests", "request", [o311.request_view(docs[0], categories())]
        )

    @router.get(
        "/tokens/{token}.{fmt}",
        dependencies=[Depends(per_client("read"))],
        summary="GET service_request_id from a token",
    )
    async def token(token: str, fmt: str) -> Response:
        fmt_of(fmt)
        raise Open311Error(404, "tokens are not used: service requests are realtime")

    app.include_router(router)


def _text(form: FormData, name: str) -> str | None:
    value = form.get(name)
    if value is None or not isinstance(value, str):
        return None
    value = value.strip()
    return value or None


def _submission(form: FormData, tenant: str, code: str) -> ComplaintSubmission:
    lat, lon = _text(form, "lat"), _text(form, "long")
    address = _text(form, "address_string") or _text(form, "address_id")
    if (lat is None or lon is None) and address is None:
        raise Open311Error(
            400, "a location parameter is required: lat & long, address_string or address_id"
        )
    description = _text(form, "description") or ""
    media = _text(form, "media_url")
    if media:
        description = f"{description}\n\nMedia: {media}".strip()
    names = [n for n in (_text(form, "first_name"), _text(form, "last_name")) if n]
    email, phone = _text(form, "email"), _text(form, "phone")
    anonymous = _text(form, "attribute[anonim]") == "true" or not names or not (email or phone)
    region = None if lat and lon else _region_from_address(address or "", tenant)
    raw: dict[str, Any] = {
        "type": _text(form, "attribute[jenis]") or "pengaduan",
        "title": title_of(description) if description else "",
        "description": description,
        "category": code,
        "region_code": region,
        "location": {"lat": lat, "lon": lon, "address": address}
        if lat and lon
        else {"address": address},
        "reporter": {"name": " ".join(names) or None, "email": email, "phone": phone}
        if (names or email or phone)
        else None,
        "anonymous": anonymous,
        "confidential": _text(form, "attribute[rahasia]") == "true",
    }
    try:
        return ComplaintSubmission.model_validate(raw)
    except ValueError as exc:
        errors = getattr(exc, "errors", None)
        if callable(errors):
            raise Open311Error(400, _describe(from_pydantic(errors()))) from exc
        raise Open311Error(400, str(exc)) from exc


def _region_from_address(address: str, tenant: str) -> str:
    """A regency/city named in the address (whole words, longest name first: "Banjarbaru"
    is not "Banjar"), else the province itself."""
    text = address.lower()
    names = sorted(
        (
            (r.name.lower().removeprefix("kabupaten ").removeprefix("kota "), r.code)
            for r in regions().values()
            if r.province_code == tenant and r.kind != "province"
        ),
        key=lambda pair: -len(pair[0]),
    )
    for bare, code in names:
        if re.search(rf"\b{re.escape(bare)}\b", text):
            return code
    return tenant


def _describe(errors: list[FieldError]) -> str:
    return "; ".join(f"{e.field or 'request'}: {e.message_en} / {e.message}" for e in errors)


def _window(start: str | None, end: str | None) -> tuple[datetime, datetime]:
    try:
        since = datetime.fromisoformat(start.replace("Z", "+00:00")) if start else None
        until = datetime.fromisoformat(end.replace("Z", "+00:00")) if end else None
    except ValueError as exc:
        raise Open311Error(
            400, "start_date/end_date must be w3 datetimes, e.g. 2026-01-01T00:00:00Z"
        ) from exc
    for value in (since, until):
        if value is not None and value.tzinfo is None:
            raise Open311Error(400, "start_date/end_date need a timezone (Z or +hh:mm)")
    if since is None and until is None:
        until = datetime.now(UTC)
    if since is None:
        assert until is not None
        since = until - timedelta(days=MAX_DAYS)
    if until is None:
        until = min(since + timedelta(days=MAX_DAYS), datetime.now(UTC))
    if until - since > timedelta(days=MAX_DAYS):
        raise Open311Error(400, "the date range may not span more than 90 days")
    return since, until
