"""HTTP API of notify."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, FastAPI
from pydantic import BaseModel

from .service import NotifyService


class NotificationOut(BaseModel):
    id: str
    tracking_id: str
    channel: str
    recipient_role: str
    agency_id: str | None
    status: str
    cause_event_type: str
    attempts: int
    created_at: datetime
    sent_at: datetime | None


def install(app: FastAPI, service: NotifyService) -> None:
    router = APIRouter(prefix="/api/v1")

    @router.get(
        "/notifications",
        response_model=list[NotificationOut],
        tags=["notifications"],
        summary="Notifications for a case (no recipient addresses)",
    )
    async def notifications(tracking_id: str) -> list[NotificationOut]:
        docs = await service.notifications(tracking_id)
        return [
            NotificationOut(
                id=d["_id"],
                tracking_id=d["tracking_id"],
                channel=d["channel"],
                recipient_role=d["role"],
                agency_id=d.get("agency_id"),
                status=d["status"],
                cause_event_type=d["cause_event_type"],
                attempts=d.get("attempts", 0),
                created_at=d["created_at"],
                sent_at=d.get("sent_at"),
            )
            for d in docs
        ]

    app.include_router(router)
