"""Events for tests, with sensible defaults (override what a test is about)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from lapor_schemas import (
    AgencyRef,
    CaseDispatched,
    ComplaintSubmitted,
    DispatchedData,
    SubmittedData,
)

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
TID = "LPR-0000000001"


def submitted(
    tracking_id: str = TID, *, region: str = "63.71", time: datetime = NOW, **data: Any
) -> ComplaintSubmitted:
    fields: dict[str, Any] = {
        "tracking_id": tracking_id,
        "type": "pengaduan",
        "title": "Jalan berlubang",
        "description": "Jalan Pramuka berlubang besar.",
        "category": "infrastruktur",
        "region_code": region,
        "province_code": region[:2],
        "channel": "web",
        "anonymous": False,
        "confidential": False,
        "submitted_at": time,
        **data,
    }
    return ComplaintSubmitted(
        source="lapor-intake",
        tenant=region[:2],
        subject=tracking_id,
        correlation_id=tracking_id,
        time=time,
        data=SubmittedData(**fields),
    )


def dispatched(
    tracking_id: str = TID,
    *,
    agency_id: str = "63.71.pupr",
    agency_name: str = "Dinas PUPR Kota Banjarmasin",
    email: str | None = None,
    region: str = "63.71",
    rule: str = "region-category",
    category: str = "infrastruktur",
    time: datetime = NOW,
) -> CaseDispatched:
    return CaseDispatched(
        source="lapor-routing",
        tenant=region[:2],
        subject=tracking_id,
        correlation_id=tracking_id,
        time=time,
        data=DispatchedData(
            tracking_id=tracking_id,
            category=category,
            region_code=region,
            rule=rule,
            dispatched_at=time,
            agency=AgencyRef(id=agency_id, name=agency_name, region_code=region, email=email),
        ),
    )
