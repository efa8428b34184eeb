"""The JSON API used by the web portal and apps."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, Path, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from lapor_kit.limits import per_client
from lapor_kit.uploads import UploadHandles, web_binding
from lapor_schemas import (
    ATTACHMENT_TYPES,
    MAX_ATTACHMENT_BYTES,
    Channel,
    ComplaintSubmission,
    Location,
    Text,
)
from lapor_schemas.reference import categories, regions

from ..adapters.attachments import AttachmentStore
from ..domain import sniff
from ..domain.errors import field_error
from ..service import (
    IdempotencyConflictError,
    IntakeService,
    SubmissionRejectedError,
    Submitted,
)
from .errors import ErrorBody, failure, invalid

NOT_FOUND = ("Laporan tidak ditemukan.", "Report not found.")


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
    lat: float | None = Field(default=None, description="The seat (ibu kota), WGS84.")
    lon: float | None = None


class AcceptedOut(BaseModel):
    tracking_id: str
    secret: str = Field(description="Keep it: it shows a confidential report and lets you reply.")
    status: str = "submitted"
    duplicate: bool = False
    repeat_of: str | None = None
    message: str = "Laporan Anda telah diterima. / Your report has been received."
    status_url: str


class AgencyOut(BaseModel):
    id: str
    name: str
    region_code: str


class AttachmentOut(BaseModel):
    """An attachment as answers show it: never where it is stored."""

    name: str
    content_type: str
    size: int


class UploadOut(BaseModel):
    """What the upload door answers: put ``{"handle": ...}`` in the report's attachments."""

    handle: str = Field(
        description="Attach the file with this: valid for a short time, and only for a report "
        "sent with the same X-Lapor-Upload-Key (staff: by the same staff member)."
    )
    name: str
    content_type: str
    size: int
    sha256: str
    expires_at: datetime


UploadKey = Annotated[
    str | None,
    Header(
        alias="X-Lapor-Upload-Key",
        min_length=16,
        max_length=128,
        description="Your own random value (16-128 characters) for one report: send it with "
        "each upload and with the report that attaches them.",
    ),
]
Secret = Annotated[
    str | None,
    Header(alias="X-Lapor-Secret", max_length=200, description="The report's secret."),
]


class HistoryEntry(BaseModel):
    event_id: str
    type: str
    status: str
    at: datetime
    agency_id: str | None = None
    agency_name: str | None = None
    text: str | None = None
    reason: str | None = None


class ReporterOut(BaseModel):
    name: str | None = None
    email: str | None = None
    phone: str | None = None


class ComplaintView(BaseModel):
    tracking_id: str
    status: str
    type: str
    title: str
    description: str
    category: str
    region_code: str
    channel: str
    anonymous: bool
    confidential: bool
    submitted_at: datetime
    updated_at: datetime | None = None
    location: Location | None = None
    attachments: list[AttachmentOut] = Field(
        default_factory=list,
        description="Files of the report: downloaded through it, by position (the reporter: "
        "/api/v1/complaints/{id}/attachments/{n}; staff: /api/v1/staff/complaints/...).",
    )
    repeat_of: str | None = None
    agency: AgencyOut | None = None
    due_at: datetime | None = Field(
        default=None, description="The agency's follow-up deadline, while it is the agency's turn."
    )
    history: list[HistoryEntry]
    reporter: ReporterOut | None = Field(
        default=None, description="Only for the reporter (with the secret)."
    )


class ReplyIn(BaseModel):
    text: Text = Field(min_length=1, max_length=2000)


class RatingIn(BaseModel):
    score: int = Field(ge=1, le=5)
    comment: Text = Field(default="", max_length=2000)


def accepted_out(result: Submitted, request: Request) -> AcceptedOut:
    return AcceptedOut(
        tracking_id=result.tracking_id,
        secret=result.secret,
        duplicate=result.duplicate,
        repeat_of=result.repeat_of,
        status_url=str(request.url_for("complaint_status", tracking_id=result.tracking_id)),
    )


def view_model(doc: dict[str, Any]) -> ComplaintView:
    return ComplaintView.model_validate({**doc, "tracking_id": doc["_id"]})


def file_answer(data: bytes, content_type: str) -> Response:
    """A stored file as a download: never rendered inline by the browser, never cached."""
    return Response(
        data,
        media_type=content_type,
        headers={
            "Content-Disposition": "attachment",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


async def check_upload(file: UploadFile) -> tuple[str, bytes] | JSONResponse:
    """The upload's type and bytes, or the refusal (type, size, content against type)."""
    content_type = (file.content_type or "").split(";")[0].strip().lower()
    if content_type not in ATTACHMENT_TYPES:
        err = field_error("file", "attachment_type", content_type=content_type or "?")
        return JSONResponse(
            ErrorBody(detail=err.message, detail_en=err.message_en, errors=[err]).model_dump(
                mode="json"
            ),
            status_code=415,
        )
    data = await file.read(MAX_ATTACHMENT_BYTES + 1)
    if len(data) > MAX_ATTACHMENT_BYTES or not data:
        return failure(
            413,
            "Berkas kosong atau lebih dari 10 MiB.",
            "The file is empty or larger than 10 MiB.",
        )
    if not sniff.matches(content_type, data):
        err = field_error("file", "attachment_content", content_type=content_type)
        return JSONResponse(
            ErrorBody(detail=err.message, detail_en=err.message_en, errors=[err]).model_dump(
                mode="json"
            ),
            status_code=415,
        )
    return content_type, data


async def store_upload(
    attachments: AttachmentStore,
    handles: UploadHandles,
    file: UploadFile,
    content_type: str,
    data: bytes,
    binding: str,
) -> UploadOut:
    """Store the bytes and answer a handle bound to the upload session (never the file's
    reference)."""
    stored = await attachments.put(file.filename or "lampiran", content_type, data)
    handle = handles.issue(
        object_id=stored.ref.split(":", 1)[1],
        sha256=stored.sha256,
        size=stored.size,
        content_type=stored.content_type,
        name=stored.name,
        binding=binding,
    )
    return UploadOut(
        handle=handle,
        name=stored.name,
        content_type=stored.content_type,
        size=stored.size,
        sha256=stored.sha256,
        expires_at=datetime.fromtimestamp(handles.clock() + handles.ttl_seconds, UTC),
    )


def install(
    app: FastAPI, service: IntakeService, attachments: AttachmentStore, handles: UploadHandles
) -> None:
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
        dependencies=[Depends(per_client("submit"))],
        status_code=202,
        response_model=AcceptedOut,
        tags=["complaints"],
        summary="Submit a report (pengaduan, aspirasi, permintaan informasi)",
        description="Answers only after the report is durably stored. Send an "
        "`Idempotency-Key` header to make retries safe: the same key returns the same report. "
        "Attachments: upload each file first (POST /api/v1/attachments) with an "
        "`X-Lapor-Upload-Key` header, then send the report with the same header and the "
        "uploads' handles.",
        responses={409: {"model": ErrorBody}, 422: {"model": ErrorBody}, 503: {"model": ErrorBody}},
    )
    async def submit(
        body: ComplaintSubmission,
        request: Request,
        idempotency_key: Annotated[str | None, Header(max_length=128)] = None,
        upload_key: UploadKey = None,
    ) -> Any:
        try:
            result = await service.submit(
                body,
                channel=Channel.WEB,
                channel_id="web" if idempotency_key else None,
                external_id=idempotency_key,
                upload_binding=web_binding(upload_key) if upload_key else None,
            )
        except SubmissionRejectedError as exc:
            return invalid(exc.errors)
        except IdempotencyConflictError:
            return failure(
                409,
                "Idempotency-Key ini sudah dipakai untuk laporan lain; buat kunci baru.",
                "This Idempotency-Key was already used for a different report; use a new key.",
            )
        return accepted_out(result, request)

    @router.get(
        "/complaints",
        dependencies=[Depends(per_client("read"))],
        response_model=list[ComplaintView],
        tags=["complaints"],
        summary="Public reports (never confidential ones, never identity)",
    )
    async def list_public(
        region_code: str | None = None,
        category: str | None = None,
        status: str | None = None,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
        offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
    ) -> list[ComplaintView]:
        docs = await service.public_reports(
            region_code=region_code,
            category=category,
            statuses=status.split(",") if status else (),
            limit=limit,
            skip=offset,
        )
        return [view_model({**d, "reporter": None}) for d in docs]

    @router.get(
        "/complaints/{tracking_id}",
        dependencies=[Depends(per_client("read"))],
        response_model=ComplaintView,
        tags=["complaints"],
        name="complaint_status",
        summary="Status and history of a report",
        description="With the secret (header `X-Lapor-Secret`): everything, for the "
        "reporter. Without it: the public view of a public report.",
        responses={404: {"model": ErrorBody}},
    )
    async def complaint_status(tracking_id: str, x_lapor_secret: Secret = None) -> Any:
        found = await service.status(tracking_id, x_lapor_secret)
        if found is None:
            return failure(404, *NOT_FOUND)
        return view_model(found[0])

    @router.post(
        "/complaints/{tracking_id}/replies",
        dependencies=[Depends(per_client("read"))],
        status_code=202,
        tags=["complaints"],
        summary="The reporter's reply on their report (needs the secret)",
        responses={404: {"model": ErrorBody}},
    )
    async def reply(
        tracking_id: str,
        body: ReplyIn,
        x_lapor_secret: Annotated[str | None, Header()] = None,
    ) -> Any:
        if not x_lapor_secret or not await service.reply(
            tracking_id, body.text, channel=Channel.WEB, secret=x_lapor_secret
        ):
            return failure(404, *NOT_FOUND)
        return {"tracking_id": tracking_id, "status": "received"}

    @router.post(
        "/complaints/{tracking_id}/dispute",
        dependencies=[Depends(per_client("read"))],
        status_code=202,
        tags=["complaints"],
        summary="Not satisfied with the follow-up: send it back (needs the secret)",
        responses={404: {"model": ErrorBody}},
    )
    async def dispute(
        tracking_id: str, body: ReplyIn, x_lapor_secret: Annotated[str | None, Header()] = None
    ) -> Any:
        if not x_lapor_secret or not await service.dispute(
            tracking_id, body.text, secret=x_lapor_secret
        ):
            return failure(404, *NOT_FOUND)
        return {"tracking_id": tracking_id, "status": "received"}

    @router.post(
        "/complaints/{tracking_id}/rating",
        dependencies=[Depends(per_client("read"))],
        status_code=202,
        tags=["complaints"],
        summary="Rate the handling 1-5 once the report is closed (needs the secret)",
        responses={404: {"model": ErrorBody}},
    )
    async def rate(
        tracking_id: str, body: RatingIn, x_lapor_secret: Annotated[str | None, Header()] = None
    ) -> Any:
        if not x_lapor_secret or not await service.rate(
            tracking_id, body.score, body.comment, secret=x_lapor_secret
        ):
            return failure(404, *NOT_FOUND)
        return {"tracking_id": tracking_id, "status": "received"}

    @router.get(
        "/complaints/{tracking_id}/attachments/{index}",
        dependencies=[Depends(per_client("read"))],
        tags=["complaints"],
        summary="One file of the reporter's own report (needs the secret)",
        responses={404: {"model": ErrorBody}},
    )
    async def reporter_file(
        tracking_id: str,
        index: Annotated[int, Path(ge=0, le=20)],
        x_lapor_secret: Secret = None,
    ) -> Any:
        ref = (
            await service.reporter_attachment(tracking_id, x_lapor_secret, index)
            if x_lapor_secret
            else None
        )
        found = await attachments.get(ref) if ref else None
        if found is None:
            return failure(404, *NOT_FOUND)
        return file_answer(*found)

    @router.post(
        "/attachments",
        dependencies=[Depends(per_client("upload"))],
        status_code=201,
        response_model=UploadOut,
        tags=["complaints"],
        summary="Upload a file; attach it to a report by the handle this answers",
        description="Send your own `X-Lapor-Upload-Key` (16-128 random characters) with the "
        "upload, and the same header with the report: the handle works for that report "
        "only, for two hours.",
        responses={
            400: {"model": ErrorBody},
            413: {"model": ErrorBody},
            415: {"model": ErrorBody},
        },
    )
    async def upload(file: UploadFile, upload_key: UploadKey = None) -> Any:
        if not upload_key:
            return failure(
                400,
                "Kirim header X-Lapor-Upload-Key (16-128 karakter acak milik Anda) dengan "
                "unggahan, dan header yang sama dengan laporannya.",
                "Send an X-Lapor-Upload-Key header (16-128 random characters of your own) with "
                "the upload, and the same header with the report.",
            )
        checked = await check_upload(file)
        if isinstance(checked, JSONResponse):
            return checked
        return await store_upload(
            attachments, handles, file, *checked, binding=web_binding(upload_key)
        )

    app.include_router(router)
