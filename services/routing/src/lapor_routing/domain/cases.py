"""Cases and their lifecycle decisions (the part issue 2 needs: submitted -> dispatched)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lapor_schemas import AgencyRef, CaseDispatched, ComplaintSubmitted, DispatchedData

from .directory import Decision, Directory

SOURCE = "lapor-routing"


@dataclass(frozen=True, slots=True)
class Routed:
    case: dict[str, Any]
    event: CaseDispatched


def route_new_case(submitted: ComplaintSubmitted, directory: Directory, now: datetime) -> Routed:
    """Open a case for a submitted report and dispatch it to the agency with authority."""
    data = submitted.data
    decision: Decision = directory.resolve(data.region_code, data.category)
    agency = decision.agency
    ref = AgencyRef(
        id=agency.id, name=agency.name, region_code=agency.region_code, email=agency.email
    )
    event = CaseDispatched(
        source=SOURCE,
        tenant=submitted.tenant,
        subject=data.tracking_id,
        correlation_id=submitted.correlation_id,
        time=now,
        data=DispatchedData(
            tracking_id=data.tracking_id,
            agency=ref,
            rule=decision.rule,
            category=data.category,
            region_code=data.region_code,
            dispatched_at=now,
        ),
    )
    case = {
        "_id": data.tracking_id,
        "tenant": submitted.tenant,
        "status": "dispatched",
        "type": data.type.value,
        "category": data.category,
        "region_code": data.region_code,
        "channel": data.channel.value,
        "anonymous": data.anonymous,
        "confidential": data.confidential,
        "title": data.title,
        "description": data.description,
        "submitted_at": data.submitted_at,
        "agency_id": agency.id,
        "transfers": 0,
        "history": [
            {
                "event_id": submitted.id,
                "type": submitted.type,
                "status": "submitted",
                "at": data.submitted_at,
            },
            {
                "event_id": event.id,
                "type": event.type,
                "status": "dispatched",
                "at": now,
                "agency_id": agency.id,
                "rule": decision.rule,
            },
        ],
        "updated_at": now,
    }
    return Routed(case, event)
