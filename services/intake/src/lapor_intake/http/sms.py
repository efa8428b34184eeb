"""SMS gateway webhook: messages to the short number arrive here; the answer is the reply SMS.

POST /sms/v1/inbound   Authorization: Bearer <gateway token>
{"message_id": "...", "from": "+6281...", "to": "1708", "text": "LAPOR jalan rusak ..."}
-> {"reply": "LAPOR! Laporan Anda diterima. Nomor pelacakan: LPR-...", "tracking_id": ...}
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Header, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lapor_kit.limits import take
from lapor_schemas import Channel, ComplaintSubmission, Line, Text
from lapor_schemas.reference import regions

from ..domain import sms
from ..domain.credentials import Registry
from ..service import IntakeService, SubmissionRejectedError
from .errors import ErrorBody, failure


class InboundSms(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    message_id: Line = Field(min_length=1, max_length=128)
    sender: Line = Field(alias="from", min_length=5, max_length=32)
    to: Line | None = Field(default=None, max_length=32)
    text: Text = Field(min_length=1, max_length=1600)


class SmsReply(BaseModel):
    reply: str
    tracking_id: str | None = None
    outcome: str


def install(app: FastAPI, service: IntakeService, registry: Registry) -> None:
    router = APIRouter(prefix="/sms/v1", tags=["sms"])

    @router.post(
        "/inbound",
        response_model=SmsReply,
        summary="Inbound SMS from a registered gateway; the answer is the reply SMS",
        responses={401: {"model": ErrorBody}},
    )
    async def inbound(
        body: InboundSms, request: Request, authorization: Annotated[str | None, Header()] = None
    ) -> Any:
        token = (authorization or "").removeprefix("Bearer ").strip()
        gateway = registry.sms_gateway(token) if token else None
        if gateway is None:
            return failure(401, "Gateway SMS tidak dikenal.", "Unknown SMS gateway.")
        take(request, "sms", f"{gateway.id}:{body.sender}")
        parsed = sms.parse(body.text)
        if isinstance(parsed, sms.Unreadable):
            return SmsReply(reply=sms.REPLIES[parsed.reason], outcome=parsed.reason)
        if isinstance(parsed, sms.Reply):
            tid, sender = parsed.tracking_id, body.sender
            if parsed.kind == "accept":
                outcome = await service.accept(
                    tid, channel=Channel.SMS, text=parsed.text, phone=sender
                )
            elif parsed.kind == "dispute":
                outcome = await service.dispute(tid, parsed.text, phone=sender, channel=Channel.SMS)
            else:
                outcome = await service.message(tid, parsed.text, channel=Channel.SMS, phone=sender)
            if outcome == "unknown":
                key = "unknown_case"
            elif outcome == "not_now":
                key = "not_now"
            else:
                key = f"taken_as_{parsed.kind}"
            status = await service.status_words(tid) if outcome == "not_now" else ""
            return SmsReply(
                reply=sms.REPLIES[key].format(tracking_id=tid, status=status),
                tracking_id=tid if outcome != "unknown" else None,
                outcome=key,
            )
        region = parsed.region_code or gateway.default_region
        if region not in regions():
            return SmsReply(
                reply=sms.REPLIES["unknown_region"].format(region_code=region),
                outcome="unknown_region",
            )
        try:
            submission = ComplaintSubmission.model_validate(
                {
                    "type": "pengaduan",
                    "title": sms.title_of(parsed.text),
                    "description": parsed.text,
                    "category": "lainnya",
                    "region_code": region,
                    "reporter": {"phone": body.sender},
                    "anonymous": True,
                }
            )
            result = await service.submit(
                submission, channel=Channel.SMS, channel_id=gateway.id, external_id=body.message_id
            )
        except (SubmissionRejectedError, ValidationError):
            return SmsReply(reply=sms.REPLIES["unknown_format"], outcome="rejected")
        return SmsReply(
            reply=sms.REPLIES["accepted"].format(tracking_id=result.tracking_id),
            tracking_id=result.tracking_id,
            outcome="accepted",
        )

    app.include_router(router)
