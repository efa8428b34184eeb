"""What staff may read of a report (pure). Mirrors routing's case access: a province's users
never see another province's reports; agency staff see the reports their agency holds or
held; the Ombudsman those escalated to it.

The reporter's identity is shown to staff only when the report is not anonymous, and only to
roles that handle the reporter: coordinators, national admins, the Ombudsman, and the staff
of the agency that holds the case now (an agency it left needs it no more)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lapor_kit.auth import Principal

OMBUDSMAN = "00.ombudsman"


def agencies_of(doc: Mapping[str, Any]) -> set[str]:
    held = {h.get("agency_id") for h in doc.get("history", ()) if h.get("agency_id")}
    current = (doc.get("agency") or {}).get("id")
    return {a for a in (*held, current) if a}


def may_read(who: Principal, doc: Mapping[str, Any]) -> bool:
    if who.role == "national_admin":
        return True
    if who.role == "ombudsman":
        return doc.get("escalated_to") == OMBUDSMAN
    if not who.may_act_in(str(doc.get("tenant"))):
        return False
    if who.role == "province_coordinator":
        return True
    if who.role == "regency_coordinator":
        return doc.get("region_code") == who.region_code or (
            who.agency_id is not None and doc.get("escalated_to") == who.agency_id
        )
    if who.role == "agency_staff":
        return who.agency_id in agencies_of(doc)
    return False


def may_see_identity(who: Principal, doc: Mapping[str, Any]) -> bool:
    if doc.get("anonymous") or not may_read(who, doc):
        return False
    if who.role == "agency_staff":
        return (doc.get("agency") or {}).get("id") == who.agency_id
    return True


MODERATORS = frozenset({"national_admin", "province_coordinator", "regency_coordinator"})


def may_moderate(who: Principal, doc: Mapping[str, Any]) -> bool:
    """Who may hide a report from the public or redact a passage of its public text: the
    coordinators who may read it (an agency never edits what the public sees of itself)."""
    return who.role in MODERATORS and may_read(who, doc)
