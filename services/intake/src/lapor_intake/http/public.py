"""The JSON API used by the web portal and apps."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

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
    Email,
    Location,
    Text,
)
from lapor_schemas.intake import NotifyChannel, PhoneNumber
from lapor_schemas.reference import categories, regions

from ..adapters.attachments import AttachmentStore
from ..domain import photos, sniff
from ..domain.errors import field_error
from ..service import (
    IdempotencyConflictError,
    IntakeService,
    ReporterOutcome,
    SubmissionRejectedError,
    Submitted,
)
from .errors import ErrorBody, failure, invalid

NOT_FOUND = ("Laporan tidak ditemukan.", "Report not found.")
FINISHED_ALREADY = (
    "Laporan ini sudah selesai. Jika masalahnya muncul lagi, kirim laporan baru.",
    "This report is finished. If the problem is back, send a new report.",
)
NOT_NOW = (
    "Tanggapan ini tidak dapat dicatat pada tahap laporan sekarang; muat ulang halaman "
    "laporan untuk melihat pilihan yang tersedia.",
    "This answer cannot be taken at the report's current stage; reload the report's page to "
    "see what you can do now.",
)


class CategoryOut(BaseModel):
    code: str
    name: str
    name_en: str
    description: str
    description_en: str = ""


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


class ActorOut(BaseModel):
    kind: str = Field(description="reporter, staff or system (never a person's id)")
    role: str | None = None


class HistoryEntry(BaseModel):
    event_id: str
    type: str
    status: str
    at: datetime
    actor: ActorOut | None = Field(
        default=None, description="Who did it (words: lapor_schemas.words)."
    )
    agency_id: str | None = None
    agency_name: str | None = None
    text: str | None = None
    reason: str | None = None
    score: int | None = Field(default=None, description="A rating's score (1-5).")


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
    public_replies: bool = Field(
        default=False, description="The reporter chose to show their later words publicly."
    )
    supporters: int = Field(
        default=0, description="People who joined the report with the same problem."
    )
    history: list[HistoryEntry]
    reporter: ReporterOut | None = Field(
        default=None, description="Only for the reporter (with the secret)."
    )


class SimilarOut(BaseModel):
    """A public report like the one being written (no identity, no text beyond its title)."""

    tracking_id: str
    title: str
    status: str
    category: str
    region_code: str
    submitted_at: datetime
    supporters: int = 0
    distance_m: int | None = Field(default=None, description="From the spot asked about.")


class SupportIn(BaseModel):
    """Joining a report with the same problem. A contact is optional: with one, notify tells
    the person when the report changes."""

    email: Email | None = None
    phone: PhoneNumber | None = None
    notify_via: list[NotifyChannel] = Field(default_factory=list, max_length=3)
    language: Literal["id", "en"] = "id"
    key: str = Field(
        pattern=r"^[0-9A-Za-z_-]{8,64}$",
        description="The form's own key: without a contact, one person is counted once.",
    )


class SupportOut(BaseModel):
    tracking_id: str
    supporters: int
    joined: bool = Field(description="False: this person had joined already.")


class ReplyIn(BaseModel):
    text: Text = Field(min_length=1, max_length=2000)


class AcceptIn(BaseModel):
    text: Text = Field(default="", max_length=2000, description="A word of thanks (optional).")


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


def file_answer(data: bytes, content_type: str, *, inline: bool = False) -> Response:
    """A stored file: a download (or a photo's small copy shown in a page), never sniffed
    into another type, never cached."""
    return Response(
        data,
        media_type=content_type,
        headers={
            "Content-Disposition": "inline" if inline else "attachment",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


@dataclass(frozen=True, slots=True)
class Checked:
    """An upload that passed: its type, its bytes as kept (a photo without its metadata)
    and a photo's small copy."""

    content_type: str
    data: bytes
    thumbnail: bytes | None


PHOTO_REFUSED = (
    "Foto tidak dapat dibaca. Kirim foto JPG, PNG atau WebP, paling besar 10 MB.",
    "The photo cannot be read. Send a JPG, PNG or WebP photo, at most 10 MB.",
)


async def check_upload(file: UploadFile) -> Checked | JSONResponse:
    """The upload's type and bytes, or the refusal (type, size, content against type, a
    photo that does not decode). Photos lose their metadata (GPS, device) here, before
    anything is stored, whatever the door."""
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
    try:  # decoding is CPU work: off the event loop
        kept = await asyncio.to_thread(photos.clean, content_type, data)
        small = await asyncio.to_thread(photos.thumbnail, content_type, kept)
    except photos.UnreadablePhotoError:
        return failure(415, *PHOTO_REFUSED)
    return Checked(content_type, kept, small)


async def store_upload(
    attachments: AttachmentStore,
    handles: UploadHandles,
    file: UploadFile,
    checked: Checked,
    binding: str,
) -> UploadOut:
    """Store the bytes and answer a handle bound to the upload session (never the file's
    reference)."""
    stored = await attachments.put(
        file.filename or "lampiran", checked.content_type, checked.data, checked.thumbnail
    )
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
        "/complaints/similar",
        dependencies=[Depends(per_client("read"))],
        response_model=list[SimilarOut],
        tags=["complaints"],
        summary="Public reports like the one being written (before filing)",
        description="The same category, recent, within `km` of `lat`/`lon` (nearest first) "
        "or, without a spot, in `region_code` (newest first). Only verified, public reports.",
    )
    async def similar(
        category: Annotated[str, Query(min_length=1, max_length=64)],
        region_code: Annotated[str | None, Query(max_length=16)] = None,
        lat: Annotated[float | None, Query(ge=-90, le=90)] = None,
        lon: Annotated[float | None, Query(ge=-180, le=180)] = None,
        km: Annotated[float, Query(gt=0, le=5)] = 1.0,
        days: Annotated[int, Query(ge=1, le=365)] = 60,
        limit: Annotated[int, Query(ge=1, le=20)] = 5,
    ) -> list[SimilarOut]:
        found = await service.similar(
            category=category,
            region_code=region_code,
            lat=lat if lon is not None else None,
            lon=lon if lat is not None else None,
            km=km,
            days=days,
            limit=limit,
        )
        return [SimilarOut.model_validate({**d, "tracking_id": d["_id"]}) for d in found]

    @router.post(
        "/complaints/{tracking_id}/supporters",
        dependencies=[Depends(per_client("submit"))],
        status_code=202,
        response_model=SupportOut,
        tags=["complaints"],
        summary="The same problem: join a public, open report instead of filing another",
        responses={404: {"model": ErrorBody}, 409: {"model": ErrorBody}},
    )
    async def support(tracking_id: str, body: SupportIn) -> Any:
        outcome, count = await service.support(
            tracking_id,
            key=body.key,
            email=body.email,
            phone=body.phone,
            channels=body.notify_via,
            language=body.language,
        )
        if outcome == "unknown":
            return failure(404, *NOT_FOUND)
        if outcome == "not_now":
            return failure(409, *FINISHED_ALREADY)
        return SupportOut(tracking_id=tracking_id, supporters=count, joined=outcome == "ok")

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

    def answered(outcome: ReporterOutcome, tracking_id: str, taken_as: str) -> Any:
        if outcome == "unknown":
            return failure(404, *NOT_FOUND)
        if outcome == "not_now":
            return failure(409, *NOT_NOW)
        return {"tracking_id": tracking_id, "status": "received", "taken_as": taken_as}

    reporter_errors: dict[int | str, dict[str, Any]] = {
        404: {"model": ErrorBody},
        409: {"model": ErrorBody},
    }

    @router.post(
        "/complaints/{tracking_id}/messages",
        dependencies=[Depends(per_client("read"))],
        status_code=202,
        tags=["complaints"],
        summary="A message from the reporter: a question or more information (needs the secret)",
        description="Goes to the agency (or the verifier) and never closes the case; while "
        "details are asked for, it is the answer. After a follow-up the reporter's other "
        "answers are /accept (solved) and /dispute (not solved).",
        responses=reporter_errors,
    )
    async def message(tracking_id: str, body: ReplyIn, x_lapor_secret: Secret = None) -> Any:
        if not x_lapor_secret:
            return failure(404, *NOT_FOUND)
        outcome = await service.message(
            tracking_id, body.text, channel=Channel.WEB, secret=x_lapor_secret
        )
        return answered(outcome, tracking_id, "message")

    @router.post(
        "/complaints/{tracking_id}/replies",
        dependencies=[Depends(per_client("read"))],
        status_code=202,
        tags=["complaints"],
        summary="The older name of /messages: a message that closes nothing",
        deprecated=True,
        responses=reporter_errors,
    )
    async def reply(tracking_id: str, body: ReplyIn, x_lapor_secret: Secret = None) -> Any:
        return await message(tracking_id, body, x_lapor_secret)

    @router.post(
        "/complaints/{tracking_id}/accept",
        dependencies=[Depends(per_client("read"))],
        status_code=202,
        tags=["complaints"],
        summary="The follow-up solved it: the case is closed, then it may be rated",
        responses=reporter_errors,
    )
    async def accept(
        tracking_id: str, x_lapor_secret: Secret = None, body: AcceptIn | None = None
    ) -> Any:
        if not x_lapor_secret:
            return failure(404, *NOT_FOUND)
        outcome = await service.accept(
            tracking_id,
            channel=Channel.WEB,
            text=body.text if body else "",
            secret=x_lapor_secret,
        )
        return answered(outcome, tracking_id, "accept")

    @router.post(
        "/complaints/{tracking_id}/dispute",
        dependencies=[Depends(per_client("read"))],
        status_code=202,
        tags=["complaints"],
        summary="Not solved: the case goes back to the agency (needs the secret)",
        responses=reporter_errors,
    )
    async def dispute(tracking_id: str, body: ReplyIn, x_lapor_secret: Secret = None) -> Any:
        if not x_lapor_secret:
            return failure(404, *NOT_FOUND)
        outcome = await service.dispute(tracking_id, body.text, secret=x_lapor_secret)
        return answered(outcome, tracking_id, "dispute")

    @router.post(
        "/complaints/{tracking_id}/rating",
        dependencies=[Depends(per_client("read"))],
        status_code=202,
        tags=["complaints"],
        summary="Rate the handling 1-5 once the report is closed (needs the secret)",
        responses=reporter_errors,
    )
    async def rate(tracking_id: str, body: RatingIn, x_lapor_secret: Secret = None) -> Any:
        if not x_lapor_secret:
            return failure(404, *NOT_FOUND)
        outcome = await service.rate(tracking_id, body.score, body.comment, secret=x_lapor_secret)
        return answered(outcome, tracking_id, "rate")

    async def reporter_file(
        tracking_id: str, index: int, secret: str | None, *, small: bool
    ) -> Any:
        ref = await service.reporter_attachment(tracking_id, secret, index)
        found = await attachments.get(ref, small=small) if ref else None
        if found is None:
            return failure(404, *NOT_FOUND)
        return file_answer(*found, inline=small)

    @router.get(
        "/complaints/{tracking_id}/attachments/{index}",
        dependencies=[Depends(per_client("read"))],
        tags=["complaints"],
        summary="One file of a report: any for its reporter (the secret), a photo of a "
        "public report for anyone",
        responses={404: {"model": ErrorBody}},
    )
    async def report_file(
        tracking_id: str,
        index: Annotated[int, Path(ge=0, le=20)],
        x_lapor_secret: Secret = None,
    ) -> Any:
        return await reporter_file(tracking_id, index, x_lapor_secret, small=False)

    @router.get(
        "/complaints/{tracking_id}/attachments/{index}/thumbnail",
        dependencies=[Depends(per_client("read"))],
        tags=["complaints"],
        summary="The small copy of a photo, for pages (same rules as the file)",
        responses={404: {"model": ErrorBody}},
    )
    async def report_thumbnail(
        tracking_id: str,
        index: Annotated[int, Path(ge=0, le=20)],
        x_lapor_secret: Secret = None,
    ) -> Any:
        return await reporter_file(tracking_id, index, x_lapor_secret, small=True)

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
        return await store_upload(attachments, handles, file, checked, web_binding(upload_key))

    app.include_router(router)
