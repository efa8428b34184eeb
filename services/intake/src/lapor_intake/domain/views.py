"""The reporter-facing view of a case, projected from the case log."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from lapor_schemas import (
    CaseDispatched,
    CaseEscalated,
    CaseEvent,
    CaseRecategorised,
    ComplaintSubmitted,
    status_after,
)

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
        "case.recategorised",
    }
)
# Transient statuses the reporter does not need to see as the current one.
TRANSIENT = frozenset({"declined", "verified"})


Change = tuple[str, dict[str, Any], dict[str, Any]]  # event id, history entry, fields to set


def changes_view(event: CaseEvent) -> bool:
    """Whether ``event`` changes its view: submissions and the reporter's own events are
    written by intake itself."""
    return not isinstance(event, ComplaintSubmitted) and event.type in ROUTING_EVENTS


def view_change(event: CaseEvent) -> Change | None:
    """What ``event`` changes in its view, or ``None`` when it changes nothing."""
    if not changes_view(event):
        return None
    data: Any = event.data
    status = status_after(event)
    entry: dict[str, Any] = {
        "event_id": event.id,
        "type": event.type,
        "status": status or getattr(data, "status", None),  # as the event said it
        "at": event.time,
    }
    sets: dict[str, Any] = {"updated_at": event.time}
    if event.type in ("case.verified", "case.dispatched"):
        sets["verified"] = True  # public from now on (unless confidential or hidden)
    if status and status not in TRANSIENT:
        sets["status"] = status
    if isinstance(event, CaseDispatched):
        agency = event.data.agency
        entry["agency_id"] = agency.id
        entry["agency_name"] = agency.name
        sets["agency"] = {"id": agency.id, "name": agency.name, "region_code": agency.region_code}
        sets["escalated_to"] = None  # a dispatch ends an escalation (as routing's case)
        if event.data.due_at is not None:
            sets["due_at"] = event.data.due_at
    elif isinstance(event, CaseRecategorised):
        sets["category"] = event.data.category  # the corrected category, on the status page
    elif isinstance(event, CaseEscalated):
        sets["escalated_to"] = event.data.to.id  # who may now read it (the Ombudsman, ...)
        entry["level"] = event.data.level
    if not isinstance(event, CaseDispatched | CaseEscalated):
        # a new deadline the event announces: the agency's after a dispute, the reporter's
        # after a follow-up or a question (the status says whose)
        due = getattr(data, "due_at", None)
        if due is not None:
            sets["due_at"] = due
    if not isinstance(event, CaseDispatched):
        for key in ("reason", "text", "score"):
            if getattr(data, key, None):
                entry[key] = getattr(data, key)
        # who did it, so that the history can say it in words (never the person's id)
        who = getattr(data, "actor", None)
        if who is not None:
            entry["actor"] = {"kind": who.kind, **({"role": who.role} if who.role else {})}
        acting = getattr(data, "agency", None)
        if acting is not None and not isinstance(event, CaseEscalated):
            entry["agency_name"] = acting.name
        if isinstance(event, CaseEscalated):
            entry["agency_name"] = event.data.to.name
    return event.id, entry, sets


def view_update(event: CaseEvent) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The (filter, update) that applies ``event`` to its view exactly once, or ``None`` when
    the event does not change the view. The filter skips events already in the history, so a
    redelivered event is a no-op."""
    updates = view_updates([event], {})
    return updates[0] if updates else None


def view_updates(
    events: Sequence[CaseEvent], applied: Mapping[str, Collection[str]]
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """One (filter, update) per case for a batch of events, in order: the events of a case
    that are not yet in its history (``applied``: the event ids each view already has) are
    pushed together and their fields set, later events winning. The filter matches only while
    none of them is in the history, so applying an update twice changes nothing (a concurrent
    consumer of the same batch pushes the same events)."""
    by_case: dict[str, list[Change]] = {}
    for event in events:
        change = view_change(event)
        if change is None or event.id in applied.get(event.subject, ()):
            continue
        changes = by_case.setdefault(event.subject, [])
        if all(c[0] != event.id for c in changes):
            changes.append(change)
    updates = []
    for subject, changes in by_case.items():
        sets: dict[str, Any] = {}
        for _, _, more in changes:
            sets.update(more)
        ids = [c[0] for c in changes]
        flt = {
            "_id": subject,
            "history.event_id": {"$ne": ids[0]} if len(ids) == 1 else {"$nin": ids},
        }
        entries = [c[1] for c in changes]
        push = entries[0] if len(entries) == 1 else {"$each": entries}
        updates.append((flt, {"$set": sets, "$push": {"history": push}}))
    return updates
