"""Staff doors of intake: entry of offline reports (walk-in, complaint box, letter, phone,
social media), and reading a report (its attachments, and on purpose its reporter)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, Path, Request, Response
from pydantic import Field

from lapor_kit.auth import STAFF_ROLES
from lapor_kit.web import Staff
from lapor_schemas import Channel, ComplaintSubmission
from lapor_schemas.reference import province_of

from ..adapters.attachments import AttachmentStore
from ..service import IntakeService, SubmissionRejectedError
from .errors import ErrorBody, failure, invalid
from .public import NOT_FOUND, AcceptedOut, ComplaintView, ReporterOut, accepted_out


class StaffSubmission(ComplaintSubmission):
    channel: Literal["walk_in", "complaint_box", "letter", "phone", "social_media"]
    reference: str | None = Field(
        default=None,
        max_length=128,
        description="The office's own reference (letter number, box slip): makes re-entry "
        "idempotent.",
    )


class StaffComplaintView(ComplaintView):
    escalated_to: str | None = None
    identity_available: bool = Field(
        description="Whether this user may ask for the reporter's identity (never for an "
        "anonymous report)."
    )


def install(app: FastAPI, service: IntakeService, attachments: AttachmentStore) -> None:
    router = APIRouter(prefix="/api/v1/staff")

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
        if who.role not in STAFF_ROLES:
            return failure(
                403,
                "Peran Anda tidak boleh memasukkan laporan.",
                "Your role may not enter reports.",
            )
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
                channel_id=f"staff:{who.tenant}" if body.reference else None,
                external_id=body.reference,
                allowed_tenants=None if who.tenant == "*" else (who.tenant,),
            )
        except SubmissionRejectedError as exc:
            return invalid(exc.errors)
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

    @router.get(
        "/complaints/{tracking_id}/attachments/{index}",
        tags=["staff"],
        summary="One attachment of a report the staff member may read",
        responses={401: {"model": ErrorBody}, 404: {"model": ErrorBody}},
    )
    async def attachment(
        tracking_id: str, index: Annotated[int, Path(ge=0, le=20)], who: Staff
    ) -> Any:
        doc = await service.staff_report(tracking_id, who)
        files = (doc or {}).get("attachments") or []
        found = await attachments.get(files[index]["ref"]) if index < len(files) else None
        if found is None:
            return failure(404, *NOT_FOUND)
        data, content_type = found
        return Response(
            data,
            media_type=content_type,
            headers={
                "Content-Disposition": "attachment",
                "X-Content-Type-Options": "nosniff",
                "Cache-Control": "private, no-store",
            },
        )

    app.include_router(router)
