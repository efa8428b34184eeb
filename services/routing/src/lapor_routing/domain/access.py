"""Who may see and do what (pure). A province's users never see another province's cases."""

from __future__ import annotations

from typing import Any

from lapor_kit.auth import Principal
from lapor_schemas.status import AGENCY_ACTIONS
from lapor_schemas.status import COORDINATOR_ACTIONS as ADMIN_ACTIONS


def can_read(who: Principal, case: dict[str, Any]) -> bool:
    if who.role in ("national_admin", "ombudsman"):
        return True
    if not who.may_act_in(case["tenant"]):
        return False
    if who.role == "province_coordinator":
        return True
    if who.role == "regency_coordinator":
        escalated_to_me = who.agency_id is not None and who.agency_id == case.get("escalated_to")
        return who.region_code == case["region_code"] or escalated_to_me
    if who.role == "agency_staff":
        return who.agency_id is not None and (
            who.agency_id == case.get("agency_id") or who.agency_id in case.get("tried", [])
        )
    return False


def can_act(who: Principal, case: dict[str, Any], action: str) -> bool:
    if not can_read(who, case) or who.role == "ombudsman":
        return False
    if action in ADMIN_ACTIONS:
        return who.role in ("national_admin", "province_coordinator", "regency_coordinator")
    if action in AGENCY_ACTIONS:
        if who.role == "agency_staff":
            return who.agency_id == case.get("agency_id")
        return who.role in ("national_admin", "province_coordinator", "regency_coordinator")
    return False


def inbox_query(who: Principal, *, tenant: str | None = None) -> dict[str, Any]:
    """The cases a user's inbox may list, as a store query."""
    if who.role == "national_admin":
        return {"tenant": tenant} if tenant else {}
    if who.role == "ombudsman":
        query: dict[str, Any] = {"escalated_to": "00.ombudsman"}
        if tenant:
            query["tenant"] = tenant
        return query
    base: dict[str, Any] = {"tenant": who.tenant}
    if who.role == "province_coordinator":
        return base
    if who.role == "regency_coordinator":
        return {**base, "$or": [{"region_code": who.region_code}, {"escalated_to": who.agency_id}]}
    if who.role == "agency_staff":
        return {**base, "agency_id": who.agency_id}
    return {"_id": None}


def may_edit_directory(who: Principal, tenant: str) -> bool:
    """A national admin, or the province's own coordinator, for its own province only."""
    return who.role == "national_admin" or (
        who.role == "province_coordinator" and who.tenant == tenant
    )
