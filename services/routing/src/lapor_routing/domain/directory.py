"""The agency directory and the routing decision (region x category -> agency)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from importlib.resources import files
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from lapor_schemas import Email
from lapor_schemas.reference import current_code


class Agency(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    region_code: str
    level: Literal["national", "province", "regency", "city"]
    role: Literal["opd", "coordinator"]
    categories: tuple[str, ...] = ()
    coordinator_id: str | None = None
    email: Email | None = None


EscalationStep = Literal["coordinator", "province", "ombudsman"]


class TenantPolicy(BaseModel):
    """A province's own deadlines and ways of working (all in working days)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    timezone: str = "Asia/Makassar"
    verification: Literal["auto", "manual"] = Field(
        default="auto",
        description="auto: routing verifies and dispatches new reports at once (reports flagged "
        "as repeats always wait for a person); manual: an admin verifies each report.",
    )
    verify_days: int = Field(default=3, ge=1, le=30)
    follow_up_days: int = Field(default=5, ge=1, le=60)
    reply_days: int = Field(default=10, ge=1, le=60)
    reminder_days_before: int = Field(default=1, ge=0, le=10)
    escalation_step_days: int = Field(default=2, ge=1, le=30)
    max_transfers: int = Field(default=3, ge=0, le=10)
    escalation_chain: tuple[EscalationStep, ...] = ("coordinator", "province", "ombudsman")
    local_holidays: tuple[date, ...] = ()


class RoutingRule(BaseModel):
    """Keyword hints: a report whose text contains any keyword (and matches the optional
    categories/regions) goes to ``agency`` or to the report's region's OPD ``opd``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    keywords: tuple[str, ...] = Field(min_length=1)
    categories: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    agency: str | None = None
    opd: str | None = None


class DirectoryFile(BaseModel):
    version: int = Field(ge=1)
    tenant: str
    name: str
    policy: TenantPolicy = TenantPolicy()
    rules: list[RoutingRule] = Field(default_factory=list)
    agencies: list[Agency]


@dataclass(frozen=True, slots=True)
class DirectoryRevision:
    """One stored revision of a tenant's directory: who made it current, when, and why."""

    revision: int
    version: int
    by: str
    at: datetime
    note: str | None
    agencies: int


@dataclass(frozen=True, slots=True)
class Decision:
    agency: Agency
    rule: str


class NoAgencyError(LookupError):
    pass


class AgencyIndex(dict[str, Agency]):
    """Agencies by id. An id stored under a region's former code (``73.25.pupr``, Luwu
    Timur's BPS code) finds the agency it is now (``73.24.pupr``): stored cases stay
    readable after a code is corrected."""

    def __missing__(self, key: str) -> Agency:
        current = current_code(key)
        if current != key and dict.__contains__(self, current):
            return dict.__getitem__(self, current)
        raise KeyError(key)

    def get(self, key: str, default: Agency | None = None) -> Agency | None:  # type: ignore[override]
        try:
            return self[key]
        except KeyError:
            return default

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and (
            dict.__contains__(self, key) or dict.__contains__(self, current_code(key))
        )


class Directory:
    """All tenants' agencies, indexed for routing (region codes as the decree gives them now:
    a stored report's former code is read as its current one)."""

    def __init__(
        self,
        agencies: Iterable[Agency],
        rules: Mapping[str, Sequence[RoutingRule]] | None = None,
        policies: Mapping[str, TenantPolicy] | None = None,
    ) -> None:
        self.rules = {tenant: tuple(r) for tenant, r in (rules or {}).items()}
        self.policies: dict[str, TenantPolicy] = dict(policies or {})
        self.by_id: AgencyIndex = AgencyIndex()
        self._by_region_category: dict[tuple[str, str], Agency] = {}
        self._coordinator: dict[str, Agency] = {}
        for agency in agencies:
            self.by_id[agency.id] = agency
            if agency.role == "coordinator":
                self._coordinator.setdefault(agency.region_code, agency)
            for category in agency.categories:
                self._by_region_category.setdefault((agency.region_code, category), agency)

    def policy(self, tenant: str) -> TenantPolicy:
        return self.policies.get(tenant, TenantPolicy())

    def candidates(self, region_code: str, category: str, text: str = "") -> list[Decision]:
        """Every agency that may have authority, best first, each with the rule that chose it:

        1. ``region-category``: the region's agency that handles the chosen category;
        2. ``keyword:<rule id>``: the tenant's keyword hints matching the report's text (they
           decide when the category has no technical agency, e.g. ``lainnya``, and offer the
           next candidates when an agency declines);
        3. ``region-coordinator``: the region's coordinator admin;
        4. ``province-coordinator``: the province's coordinator admin.
        """
        out: list[Decision] = []
        region_code = current_code(region_code)
        agency = self._by_region_category.get((region_code, category))
        if agency is not None:
            out.append(Decision(agency, "region-category"))
        lowered = text.lower()
        for rule in self.rules.get(region_code.split(".", 1)[0], ()):
            if rule.categories and category not in rule.categories:
                continue
            if rule.regions and region_code not in rule.regions:
                continue
            if not any(_has_word(lowered, k) for k in rule.keywords):
                continue
            target = rule.agency or (f"{region_code}.{rule.opd}" if rule.opd else None)
            if target and target in self.by_id:
                out.append(Decision(self.by_id[target], f"keyword:{rule.id}"))
        coordinator = self.region_coordinator(region_code)
        if coordinator is not None:
            out.append(Decision(coordinator, "region-coordinator"))
        province = self.province_coordinator(region_code)
        if province is not None:
            out.append(Decision(province, "province-coordinator"))
        seen: set[str] = set()
        unique = []
        for decision in out:
            if decision.agency.id not in seen:
                seen.add(decision.agency.id)
                unique.append(decision)
        return unique

    def resolve(self, region_code: str, category: str, text: str = "") -> Decision:
        found = self.candidates(region_code, category, text)
        if not found:
            raise NoAgencyError(f"no agency for region {region_code} and category {category}")
        return found[0]

    def region_coordinator(self, region_code: str) -> Agency | None:
        return self._coordinator.get(current_code(region_code))

    def province_coordinator(self, region_code: str) -> Agency | None:
        return self._coordinator.get(region_code.split(".", 1)[0])

    def coordinator_of(self, agency: Agency) -> Agency | None:
        if agency.coordinator_id:
            return self.by_id.get(agency.coordinator_id)
        return self.province_coordinator(agency.region_code)

    def ombudsman(self) -> Agency | None:
        return self.by_id.get(OMBUDSMAN_ID)

    def of_tenant(self, tenant: str) -> list[Agency]:
        return [a for a in self.by_id.values() if a.region_code.split(".", 1)[0] == tenant]


def load_seed_files(names: Iterable[str] | None = None) -> list[DirectoryFile]:
    """The directory files shipped in ``lapor_routing/data/directory``."""
    folder = files("lapor_routing").joinpath("data", "directory")
    out = []
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if not entry.name.endswith(".json"):
            continue
        if names is not None and entry.name not in set(names):
            continue
        out.append(DirectoryFile.model_validate(json.loads(entry.read_text(encoding="utf-8"))))
    return out


def directory_from(files_: Iterable[DirectoryFile] | Mapping[str, DirectoryFile]) -> Directory:
    values = list(files_.values() if isinstance(files_, Mapping) else files_)
    return Directory(
        (a for f in values for a in f.agencies),
        rules={f.tenant: f.rules for f in values},
        policies={f.tenant: f.policy for f in values},
    )


OMBUDSMAN_ID = "00.ombudsman"


def _has_word(text: str, keyword: str) -> bool:
    return re.search(rf"(?<![0-9a-z]){re.escape(keyword.lower())}(?![0-9a-z])", text) is not None


@dataclass(frozen=True, slots=True)
class DirectoryProblem:
    """One reason a directory file is refused, in Bahasa Indonesia and English."""

    field: str
    message: str
    message_en: str


def directory_problems(
    f: DirectoryFile,
    *,
    regions: Mapping[str, object],
    categories: Iterable[str],
    national: DirectoryFile | None = None,
) -> list[DirectoryProblem]:
    """Everything that would make routing fail or go astray with ``f`` as its tenant's
    directory (checked before it replaces the old one, because a case that finds no
    coordinator cannot be routed at all): every regency/city of the tenant and the province
    itself has a coordinator; every agency is in the tenant; every coordinator, rule target,
    rule region and category exists; the escalation chain's ombudsman exists."""
    out: list[DirectoryProblem] = []

    def problem(where: str, msg: str, msg_en: str) -> None:
        out.append(DirectoryProblem(where, msg, msg_en))

    tenant = f.tenant
    known_categories = set(categories)
    tenant_regions = sorted(
        code for code in regions if code.split(".", 1)[0] == tenant and code != tenant
    )
    national_ids = {a.id for a in national.agencies} if national and tenant != "00" else set()
    ids: dict[str, Agency] = {}
    for i, agency in enumerate(f.agencies):
        where = f"agencies.{i}"
        if agency.id in ids:
            problem(
                f"{where}.id",
                f"Kode instansi {agency.id} dipakai dua kali.",
                f"Agency id {agency.id} is used twice.",
            )
        ids[agency.id] = agency
        if agency.region_code.split(".", 1)[0] != tenant or (
            tenant != "00" and agency.region_code not in regions
        ):
            problem(
                f"{where}.region_code",
                f"Wilayah {agency.region_code} bukan bagian dari provinsi {tenant}.",
                f"Region {agency.region_code} is not part of tenant {tenant}.",
            )
        for category in agency.categories:
            if category not in known_categories:
                problem(
                    f"{where}.categories",
                    f"Kategori {category} tidak dikenal.",
                    f"Unknown category {category}.",
                )
    for i, agency in enumerate(f.agencies):
        cid = agency.coordinator_id
        if cid and cid not in ids and cid not in national_ids:
            problem(
                f"agencies.{i}.coordinator_id",
                f"Koordinator {cid} dari {agency.id} tidak ada di direktori.",
                f"Coordinator {cid} of {agency.id} is not in the directory.",
            )
    if tenant != "00":
        coordinated = {a.region_code for a in f.agencies if a.role == "coordinator"}
        for code in [tenant, *tenant_regions]:
            if code not in coordinated:
                problem(
                    "agencies",
                    f"Wilayah {code} tidak punya koordinator (admin pengelola).",
                    f"Region {code} has no coordinator.",
                )
    for i, rule in enumerate(f.rules):
        where = f"rules.{i}"
        if rule.agency is None and rule.opd is None:
            problem(where, "Aturan tanpa tujuan (agency atau opd).", "Rule has no target.")
        if rule.agency is not None and rule.agency not in ids and rule.agency not in national_ids:
            problem(
                f"{where}.agency",
                f"Instansi {rule.agency} tidak ada di direktori.",
                f"Agency {rule.agency} is not in the directory.",
            )
        for region in rule.regions:
            if region not in tenant_regions:
                problem(
                    f"{where}.regions",
                    f"Wilayah {region} bukan bagian dari provinsi {tenant}.",
                    f"Region {region} is not part of tenant {tenant}.",
                )
        if rule.opd is not None:
            covered = rule.regions or tuple(tenant_regions)
            if not any(f"{region}.{rule.opd}" in ids for region in covered):
                problem(
                    f"{where}.opd",
                    f"Tidak ada OPD '{rule.opd}' di wilayah aturan {rule.id}.",
                    f"No '{rule.opd}' agency in the regions of rule {rule.id}.",
                )
        for category in rule.categories:
            if category not in known_categories:
                problem(
                    f"{where}.categories",
                    f"Kategori {category} tidak dikenal.",
                    f"Unknown category {category}.",
                )
    if (
        "ombudsman" in f.policy.escalation_chain
        and tenant != "00"
        and (OMBUDSMAN_ID not in national_ids)
    ):
        problem(
            "policy.escalation_chain",
            "Ombudsman tidak ada di direktori nasional.",
            "The ombudsman is not in the national directory.",
        )
    return out
