"""Errors as users see them: field-level reasons in Bahasa Indonesia and English; a store
outage is a 503 with Retry-After (the client keeps the report and retries), never a 500."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from pymongo.errors import PyMongoError

from lapor_schemas import FieldError

from ..domain.errors import from_pydantic

RETRY_AFTER_SECONDS = 5


class ErrorBody(BaseModel):
    detail: str
    detail_en: str
    errors: list[FieldError] = Field(default_factory=list)


def invalid(errors: list[FieldError]) -> JSONResponse:
    body = ErrorBody(
        detail="Data laporan tidak valid.", detail_en="The report is not valid.", errors=errors
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=422)


def failure(status: int, detail: str, detail_en: str) -> JSONResponse:
    body = ErrorBody(detail=detail, detail_en=detail_en)
    return JSONResponse(body.model_dump(mode="json"), status_code=status)


def unavailable() -> JSONResponse:
    body = ErrorBody(
        detail="Layanan sedang sibuk, silakan coba lagi sebentar.",
        detail_en="The service is temporarily unavailable; please retry shortly.",
    )
    return JSONResponse(
        body.model_dump(mode="json"),
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def on_invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return invalid(from_pydantic(exc.errors(), skip_prefix=1))

    @app.exception_handler(PyMongoError)
    async def on_store_down(_: Request, exc: PyMongoError) -> JSONResponse:
        return unavailable()
