"""The reporter-facing view of a case, projected from the case log."""

from __future__ import annotations

from typing import Any

from lapor_schemas import CaseDispatched, CaseEvent, ComplaintSubmitted

# event type -> status shown to the reporter
STATUS_OF: dict[str, str] = {
    "complaint.submitted": "submitted",
    "case.dispatched": "dispatched",
}


def view_update(event: CaseEvent) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The (filter, update) that applies ``event`` to its view exactly once, or ``None`` when
    the event does not change the view. The filter skips events already in the history, so a
    redelivered event is a no-op."""
    if isinstance(event, ComplaintSubmitted):
        return None  # the view is created with the complaint itself
    status = STATUS_OF.get(event.type)
    if status is None:
        return None
    entry: dict[str, Any] = {
        "event_id": event.id,
        "type": event.type,
        "status": status,
        "at": event.time,
    }
    sets: dict[str, Any] = {"status": status, "updated_at": event.time}
    if isinstance(event, CaseDispatched):
        agency = event.data.agency
        entry["agency_id"] = agency.id
        entry["agency_name"] = agency.name
        sets["agency"] = {"id": agency.id, "name": agency.name, "region_code": agency.region_code}
    flt = {"_id": event.subject, "history.event_id": {"$ne": event.id}}
    return flt, {"$set": sets, "$push": {"history": entry}}
