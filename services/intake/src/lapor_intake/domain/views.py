"""The reporter-facing view of a case, projected from the case log."""

from __future__ import annotations

from typing import Any

from lapor_schemas import CaseDispatched, CaseEscalated, CaseEvent, ComplaintSubmitted

# Events that routing emits; their payload carries the status after the event.
ROUTING_EVENTS = frozenset(
    {
        "case.dispatched",
        "case.verified",
        "case.info_requested",
        "case.info_received",
        "case.rejected",
        "case.marked_repeat",
        "case.declined",
        "case.followed_up",
        "case.disputed",
        "case.closed",
        "case.rated",
        "case.escalated",
    }
)
# Transient statuses the reporter does not need to see as the current one.
TRANSIENT = frozenset({"declined", "verified"})


def view_update(event: CaseEvent) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The (filter, update) that applies ``event`` to its view exactly once, or ``None`` when
    the event does not change the view. The filter skips events already in the history, so a
    redelivered event is a no-op."""
    if isinstance(event, ComplaintSubmitted) or event.type not in ROUTING_EVENTS:
        return None  # submissions and the reporter's own events are written by intake itself
    data: Any = event.data
    status = "dispatched" if isinstance(event, CaseDispatched) else data.status
    entry: dict[str, Any] = {
        "event_id": event.id,
        "type": event.type,
        "status": status,
        "at": event.time,
    }
    sets: dict[str, Any] = {"updated_at": event.time}
    if status not in TRANSIENT and not isinstance(event, CaseEscalated):
        sets["status"] = status
    if isinstance(event, CaseDispatched):
        agency = event.data.agency
        entry["agency_id"] = agency.id
        entry["agency_name"] = agency.name
        sets["agency"] = {"id": agency.id, "name": agency.name, "region_code": agency.region_code}
        if event.data.due_at is not None:
            sets["due_at"] = event.data.due_at
    else:
        for key in ("reason", "text"):
            if getattr(data, key, None):
                entry[key] = getattr(data, key)
    flt = {"_id": event.subject, "history.event_id": {"$ne": event.id}}
    return flt, {"$set": sets, "$push": {"history": entry}}
