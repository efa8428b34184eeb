"""HTTP API of intake (FastAPI). User-facing messages in Bahasa Indonesia, English alongside."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from pymongo.errors import ConnectionFailure, PyMongoError

from lapor_schemas import Channel, ComplaintSubmission, FieldError
from lapor_schemas.reference import categories, regions

from .domain.errors import from_pydantic
from .service import IntakeService, SubmissionRejectedError

RETRY_AFTER_SECONDS = 5


class CategoryOut(BaseModel):
    code: str
    name: str
    name_en: str
    description: str


class RegionOut(BaseModel):
    code: str
    name: str
    kind: str
    province_code: str


class Accepted(BaseModel):
    tracking_id: str
    status: str = "submitted"
    message: str = "Laporan Anda telah diterima. / Your report has been received."
    status_url: str


class ErrorBody(BaseModel):
    detail: str
    detail_en: str
    errors: list[FieldError] = Field(default_factory=list)


class AgencyOut(BaseModel):
    id: str
    name: str
    region_code: str


class HistoryEntry(BaseModel):
    event_id: str
    type: str
    status: str
    at: datetime
    agency_id: str | None = None
    agency_name: str | None = None


class ComplaintStatus(BaseModel):
    tracking_id: str
    status: str
    type: str
    category: str
    region_code: str
    channel: str
    submitted_at: datetime
    agency: AgencyOut | None = None
    history: list[HistoryEntry]


def _invalid(errors: list[FieldError]) -> JSONResponse:
    body = ErrorBody(
        detail="Data laporan tidak valid.", detail_en="The report is not valid.", errors=errors
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=422)


def install(app: FastAPI, service: IntakeService) -> None:
    router = APIRouter(prefix="/api/v1")

    @router.get(
        "/categories",
        response_model=list[CategoryOut],
        tags=["catalogue"],
        summary="Service catalogue (kategori layanan)",
    )
    async def list_categories() -> list[CategoryOut]:
        return [CategoryOut.model_validate(c.model_dump()) for c in categories().values()]

    @router.get(
        "/regions",
        response_model=list[RegionOut],
        tags=["catalogue"],
        summary="Known regions by Kemendagri code",
    )
    async def list_regions() -> list[RegionOut]:
        return [RegionOut.model_validate(r.model_dump()) for r in regions().values()]

    @router.post(
        "/complaints",
        status_code=202,
        response_model=Accepted,
        tags=["complaints"],
        summary="Submit a report (pengaduan, aspirasi, permintaan informasi)",
        responses={422: {"model": ErrorBody}, 503: {"model": ErrorBody}},
    )
    async def submit(body: ComplaintSubmission, request: Request) -> Any:
        try:
            tracking_id = await service.submit(body, channel=Channel.WEB)
        except SubmissionRejectedError as exc:
            return _invalid(exc.errors)
        return Accepted(
            tracking_id=tracking_id,
            status_url=str(request.url_for("complaint_status", tracking_id=tracking_id)),
        )

    @router.get(
        "/complaints/{tracking_id}",
        response_model=ComplaintStatus,
        tags=["complaints"],
        name="complaint_status",
        summary="Status and history of a report",
        responses={404: {"model": ErrorBody}},
    )
    async def complaint_status(tracking_id: str) -> ComplaintStatus:
        doc = await service.status(tracking_id)
        if doc is None:
            raise HTTPException(404, "Laporan tidak ditemukan. / Report not found.")
        return ComplaintStatus(
            tracking_id=doc["_id"],
            status=doc["status"],
            type=doc["type"],
            category=doc["category"],
            region_code=doc["region_code"],
            channel=doc["channel"],
            submitted_at=doc["submitted_at"],
            agency=doc.get("agency"),
            history=doc.get("history", []),
        )

    app.include_router(router)

    @app.exception_handler(RequestValidationError)
    async def on_invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return _invalid(from_pydantic(exc.errors(), skip_prefix=1))

    @app.exception_handler(PyMongoError)
    async def on_store_down(_: Request, exc: PyMongoError) -> JSONResponse:
        # Nothing was acknowledged: the client keeps the report and retries.
        status = 503 if isinstance(exc, ConnectionFailure) or exc.timeout else 500
        body = ErrorBody(
            detail="Layanan sedang sibuk, silakan coba lagi sebentar.",
            detail_en="The service is temporarily unavailable; please retry shortly.",
        )
        return JSONResponse(
            body.model_dump(mode="json"),
            status_code=status,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
