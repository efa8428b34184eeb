"""Staff doors of intake: entry of offline reports (walk-in, complaint box, letter, phone,
social media), and reading a report (its attachments, and on purpose its reporter)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, Path, Request, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from lapor_kit.auth import STAFF_ROLES, Principal
from lapor_kit.limits import take
from lapor_kit.uploads import UploadHandles, staff_binding
from lapor_kit.web import Staff
from lapor_schemas import Channel, ComplaintSubmission, FieldError, Line
from lapor_schemas.reference import province_of

from ..adapters.attachments import AttachmentStore
from ..service import IdempotencyConflictError, IntakeService, SubmissionRejectedError
from .errors import ErrorBody, failure, invalid
from .public import (
    NOT_FOUND,
    AcceptedOut,
    ComplaintView,
    ReporterOut,
    UploadOut,
    accepted_out,
    check_upload,
    file_answer,
    store_upload,
)


class StaffSubmission(ComplaintSubmission):
    channel: Literal["walk_in", "complaint_box", "letter", "phone", "social_media"]
    reference: str | None = Field(
        default=None,
        max_length=128,
        description="The office's own reference (letter number, box slip): entering the same "
        "slip again at the same office is answered with the first report; the same slip "
        "with other content is refused (409). Another office's slips are its own.",
    )


class StaffComplaintView(ComplaintView):
    escalated_to: str | None = None
    identity_available: bool = Field(
        description="Whether this user may ask for the reporter's identity (never for an "
        "anonymous report)."
    )
    verified: bool = Field(default=False, description="Verified: public unless confidential.")
    hidden: bool = Field(default=False, description="Hidden from the public by a coordinator.")
    public_redactions: list[str] = Field(
        default_factory=list, description="Passages the public page shows as [disamarkan]."
    )
    may_moderate: bool = Field(
        default=False, description="Whether this user may change what the public sees."
    )


class PublicChoice(BaseModel):
    """What the public sees of a report (coordinators): hide it, or redact passages."""

    hidden: bool = False
    redactions: list[Line] = Field(default_factory=list, max_length=20)


def office_of(who: Principal) -> str:
    """The office a staff member enters reports for: its agency (a regency coordinator's is
    the regency's coordinator office), else its regency, else its province. Slip numbers are
    an office's own: the same number at another office is another slip."""
    return who.agency_id or who.region_code or who.tenant


SLIP_TAKEN = (
    "Nomor rujukan ini sudah dipakai kantor Anda untuk laporan lain. Periksa nomornya, atau "
    "kosongkan jika slip ini belum pernah dicatat.",
    "Your office already used this reference for a different report. Check the number, or "
    "leave it empty if this slip was never entered.",
)


def install(
    app: FastAPI, service: IntakeService, attachments: AttachmentStore, handles: UploadHandles
) -> None:
    router = APIRouter(prefix="/api/v1/staff")

    def staff_only(who: Principal) -> JSONResponse | None:
        if who.role not in STAFF_ROLES:
            return failure(
                403,
                "Peran Anda tidak boleh memasukkan laporan.",
                "Your role may not enter reports.",
            )
        return None

    @router.post(
        "/attachments",
        status_code=201,
        response_model=UploadOut,
        tags=["staff"],
        summary="Upload a file for a report entered or a follow-up sent by this staff member",
        description="The handle works only in this staff member's own requests (a staff "
        "entry here, a follow-up at routing), for two hours.",
        responses={401: {"model": ErrorBody}, 403: {"model": ErrorBody}, 413: {"model": ErrorBody}},
    )
    async def staff_upload(file: UploadFile, request: Request, who: Staff) -> Any:
        refused = staff_only(who)
        if refused is not None:
            return refused
        take(request, "upload", f"staff:{who.subject}")
        checked = await check_upload(file)
        if isinstance(checked, JSONResponse):
            return checked
        return await store_upload(attachments, handles, file, checked, staff_binding(who.subject))

    @router.post(
        "/complaints",
        status_code=202,
        response_model=AcceptedOut,
        tags=["staff"],
        summary="Enter a report received offline (needs a staff token)",
        responses={401: {"model": ErrorBody}, 403: {"model": ErrorBody}, 422: {"model": ErrorBody}},
    )
    async def enter(
        body: StaffSubmission,
        request: Request,
        who: Staff,
    ) -> Any:
        refused = staff_only(who)
        if refused is not None:
            return refused
        sub = ComplaintSubmission.model_validate(body.model_dump(exclude={"channel", "reference"}))
        region = sub.region_code
        if region is not None and not who.may_act_in(province_of(region)):
            return failure(
                403, "Wilayah di luar kewenangan Anda.", "The region is outside your tenant."
            )
        try:
            result = await service.submit(
                sub,
                channel=Channel(body.channel),
                entered_by=who.subject,
                channel_id=f"staff:{office_of(who)}" if body.reference else None,
                external_id=body.reference,
                allowed_tenants=None if who.tenant == "*" else (who.tenant,),
                upload_binding=staff_binding(who.subject),
            )
        except SubmissionRejectedError as exc:
            return invalid(exc.errors)
        except IdempotencyConflictError:
            reason = FieldError(
                field="reference",
                code="reference_taken",
                message=SLIP_TAKEN[0],
                message_en=SLIP_TAKEN[1],
            )
            return JSONResponse(
                ErrorBody(
                    detail=SLIP_TAKEN[0], detail_en=SLIP_TAKEN[1], errors=[reason]
                ).model_dump(mode="json"),
                status_code=409,
            )
        return accepted_out(result, request)

    @router.get(
        "/complaints/{tracking_id}",
        response_model=StaffComplaintView,
        tags=["staff"],
        summary="The whole report for staff who may read it (never the reporter's identity)",
        responses={401: {"model": ErrorBody}, 404: {"model": ErrorBody}},
    )
    async def read(tracking_id: str, who: Staff) -> Any:
        doc = await service.staff_report(tracking_id, who)
        if doc is None:
            return failure(404, *NOT_FOUND)
        return StaffComplaintView.model_validate({**doc, "tracking_id": doc["_id"]})

    @router.put(
        "/complaints/{tracking_id}/public",
        tags=["staff"],
        summary="What the public sees of a report: hide it, or redact passages (coordinators)",
        description="The original stays for staff and the reporter. The portal records every "
        "change in its audit log.",
        responses={401: {"model": ErrorBody}, 404: {"model": ErrorBody}},
    )
    async def moderate(tracking_id: str, body: PublicChoice, who: Staff) -> Any:
        done = await service.moderate(tracking_id, who, body.hidden, body.redactions)
        if done is None:
            return failure(404, *NOT_FOUND)
        return done

    @router.get(
        "/complaints/{tracking_id}/reporter",
        response_model=ReporterOut,
        tags=["staff"],
        summary="The reporter's identity: never of an anonymous report, only for roles that "
        "handle the reporter (the portal records every look in its audit log)",
        responses={401: {"model": ErrorBody}, 404: {"model": ErrorBody}},
    )
    async def reporter(tracking_id: str, who: Staff) -> Any:
        found = await service.staff_identity(tracking_id, who)
        if found is None:
            return failure(404, *NOT_FOUND)
        return ReporterOut.model_validate(found)

    async def staff_file(tracking_id: str, index: int, who: Principal, *, small: bool) -> Any:
        ref = await service.staff_attachment(tracking_id, who, index)
        found = await attachments.get(ref, small=small) if ref else None
        if found is None:
            return failure(404, *NOT_FOUND)
        return file_answer(*found, inline=small)

    @router.get(
        "/complaints/{tracking_id}/attachments/{index}",
        tags=["staff"],
        summary="One attachment of a report the staff member may read",
        responses={401: {"model": ErrorBody}, 404: {"model": ErrorBody}},
    )
    async def attachment(
        tracking_id: str, index: Annotated[int, Path(ge=0, le=20)], who: Staff
    ) -> Any:
        return await staff_file(tracking_id, index, who, small=False)

    @router.get(
        "/complaints/{tracking_id}/attachments/{index}/thumbnail",
        tags=["staff"],
        summary="The small copy of a photo of a report the staff member may read",
        responses={401: {"model": ErrorBody}, 404: {"model": ErrorBody}},
    )
    async def thumbnail(
        tracking_id: str, index: Annotated[int, Path(ge=0, le=20)], who: Staff
    ) -> Any:
        return await staff_file(tracking_id, index, who, small=True)

    app.include_router(router)
