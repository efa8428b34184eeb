"""The agency directory and the routing decision (region x category -> agency)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib.resources import files
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Agency(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    region_code: str
    level: Literal["national", "province", "regency", "city"]
    role: Literal["opd", "coordinator"]
    categories: tuple[str, ...] = ()
    coordinator_id: str | None = None
    email: str | None = None


class DirectoryFile(BaseModel):
    version: int = Field(ge=1)
    tenant: str
    name: str
    agencies: list[Agency]


@dataclass(frozen=True, slots=True)
class Decision:
    agency: Agency
    rule: str


class NoAgencyError(LookupError):
    pass


class Directory:
    """All tenants' agencies, indexed for routing."""

    def __init__(self, agencies: Iterable[Agency]) -> None:
        self.by_id: dict[str, Agency] = {}
        self._by_region_category: dict[tuple[str, str], Agency] = {}
        self._coordinator: dict[str, Agency] = {}
        for agency in agencies:
            self.by_id[agency.id] = agency
            if agency.role == "coordinator":
                self._coordinator.setdefault(agency.region_code, agency)
            for category in agency.categories:
                self._by_region_category.setdefault((agency.region_code, category), agency)

    def resolve(self, region_code: str, category: str) -> Decision:
        """The agency with authority, and the rule that chose it:

        1. ``region-category``: the region's agency that handles the category;
        2. ``region-coordinator``: the region's coordinator admin;
        3. ``province-coordinator``: the province's coordinator admin.
        """
        agency = self._by_region_category.get((region_code, category))
        if agency is not None:
            return Decision(agency, "region-category")
        coordinator = self._coordinator.get(region_code)
        if coordinator is not None:
            return Decision(coordinator, "region-coordinator")
        province = region_code.split(".", 1)[0]
        coordinator = self._coordinator.get(province)
        if coordinator is not None:
            return Decision(coordinator, "province-coordinator")
        raise NoAgencyError(f"no agency for region {region_code} and category {category}")

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
    values = files_.values() if isinstance(files_, Mapping) else files_
    return Directory(a for f in values for a in f.agencies)
