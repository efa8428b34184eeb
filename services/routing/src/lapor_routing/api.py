"""HTTP API of routing (admin and agency side)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, FastAPI, HTTPException
from pydantic import BaseModel

from .domain.directory import Agency, Directory
from .service import RoutingService


class CaseHistoryEntry(BaseModel):
    event_id: str
    type: str
    status: str
    at: datetime
    agency_id: str | None = None
    rule: str | None = None


class CaseOut(BaseModel):
    tracking_id: str
    tenant: str
    status: str
    category: str
    region_code: str
    agency: Agency | None
    history: list[CaseHistoryEntry]


def install(app: FastAPI, service: RoutingService, directory: Directory) -> None:
    router = APIRouter(prefix="/api/v1")

    @router.get(
        "/agencies",
        response_model=list[Agency],
        tags=["directory"],
        summary="Agency directory of a tenant (province)",
    )
    async def agencies(tenant: str) -> list[Agency]:
        return directory.of_tenant(tenant)

    @router.get(
        "/cases/{tracking_id}",
        response_model=CaseOut,
        tags=["cases"],
        summary="A case with its routing history",
    )
    async def case(tracking_id: str) -> Any:
        doc = await service.case(tracking_id)
        if doc is None:
            raise HTTPException(404, "Kasus tidak ditemukan. / Case not found.")
        return CaseOut(
            tracking_id=doc["_id"],
            tenant=doc["tenant"],
            status=doc["status"],
            category=doc["category"],
            region_code=doc["region_code"],
            agency=directory.by_id.get(doc.get("agency_id") or ""),
            history=doc["history"],
        )

    app.include_router(router)
