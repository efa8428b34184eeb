"""Errors as users see them: field-level reasons in Bahasa Indonesia and English; a store
outage is a 503 with Retry-After (the client keeps the report and retries), never a 500."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from lapor_schemas import FieldError

from ..domain.errors import from_pydantic


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


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def on_invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return invalid(from_pydantic(exc.errors(), skip_prefix=1))

    # a store failure is the kit's one 503 mapping (lapor_kit.web.install_store_errors)
