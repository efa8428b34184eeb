"""Staff entry of offline reports (walk-in, complaint box, letter, phone, social media)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, Header, Request
from pydantic import Field

from lapor_kit.auth import AuthError, Principal, bearer, verify
from lapor_schemas import Channel, ComplaintSubmission
from lapor_schemas.reference import province_of

from ..service import IntakeService, SubmissionRejectedError
from .errors import ErrorBody, failure, invalid
from .public import AcceptedOut, accepted_out

STAFF_ROLES = frozenset(
    {"national_admin", "province_coordinator", "regency_coordinator", "agency_staff"}
)


class StaffSubmission(ComplaintSubmission):
    channel: Literal["walk_in", "complaint_box", "letter", "phone", "social_media"]
    reference: str | None = Field(
        default=None,
        max_length=128,
        description="The office's own reference (letter number, box slip): makes re-entry "
        "idempotent.",
    )


def install(app: FastAPI, service: IntakeService, auth_secret: str) -> None:
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
        authorization: Annotated[str | None, Header()] = None,
    ) -> Any:
        try:
            who: Principal = verify(auth_secret, bearer(authorization))
        except AuthError:
            return failure(401, "Token petugas tidak valid.", "Invalid or missing staff token.")
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

    app.include_router(router)
