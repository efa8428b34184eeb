"""Who may see and do what (pure). A province's users never see another province's cases."""

from __future__ import annotations

from typing import Any

from lapor_kit.auth import Principal
from lapor_schemas.status import AGENCY_ACTIONS
from lapor_schemas.status import COORDINATOR_ACTIONS as ADMIN_ACTIONS

from .directory import OMBUDSMAN_ID


def can_read(who: Principal, case: dict[str, Any]) -> bool:
    """Whether ``who`` may see ``case``; intake answers the same for the report itself
    (``lapor_intake.domain.staff.may_read``), so a case page never lacks its report. The
    Ombudsman sees what was escalated to it (its inbox), nothing else."""
    if who.role == "national_admin":
        return True
    if who.role == "ombudsman":
        return case.get("escalated_to") == OMBUDSMAN_ID
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


def may_edit_directory(who: Principal, tenant: str) -> bool:
    """A national admin, or the province's own coordinator, for its own province only."""
    return who.role == "national_admin" or (
        who.role == "province_coordinator" and who.tenant == tenant
    )


def can_assign(who: Principal, case: dict[str, Any]) -> bool:
    """Who hands a case to a named officer: staff of the agency holding it, or a
    coordinator who may act on it (never the Ombudsman)."""
    if not can_read(who, case) or who.role == "ombudsman":
        return False
    if who.role == "agency_staff":
        return who.agency_id is not None and who.agency_id == case.get("agency_id")
    return who.role in ("national_admin", "province_coordinator", "regency_coordinator")
