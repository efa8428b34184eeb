"""Reference data shared by all services: regions (Kemendagri codes) and the service catalogue.

Adding a region or a category is a change to the JSON files beside this module, not to code.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Literal

from pydantic import BaseModel, ConfigDict


class Region(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    name: str
    kind: Literal["province", "regency", "city"]
    province_code: str
    lat: float | None = None
    lon: float | None = None
    timezone: str = "Asia/Jakarta"
    former_codes: tuple[str, ...] = ()
    """Codes this region was stored under before (e.g. Luwu Timur's 73.25, its BPS code,
    where Kemendagri's decree gives 73.24): still read, never written."""


class Category(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    name: str
    name_en: str
    description: str
    description_en: str = ""


def _load(name: str) -> dict[str, object]:
    text = files("lapor_schemas").joinpath("reference", name).read_text(encoding="utf-8")
    data: dict[str, object] = json.loads(text)
    return data


@cache
def regions() -> dict[str, Region]:
    raw = _load("regions.json")["regions"]
    assert isinstance(raw, list)
    return {r["code"]: Region.model_validate(r) for r in raw}


@cache
def categories() -> dict[str, Category]:
    raw = _load("categories.json")["categories"]
    assert isinstance(raw, list)
    return {c["code"]: Category.model_validate(c) for c in raw}


@cache
def code_aliases() -> dict[str, str]:
    """Former region codes -> the current ones (see :attr:`Region.former_codes`)."""
    return {old: r.code for r in regions().values() for old in r.former_codes}


def current_code(code: str) -> str:
    """A region code as the decree gives it now; an agency id under a former code too
    ('73.25' -> '73.24', '73.25.pupr' -> '73.24.pupr')."""
    aliases = code_aliases()
    for old, new in aliases.items():
        if code == old or code.startswith(old + "."):
            return new + code[len(old) :]
    return code


def region(code: str) -> Region | None:
    """A region by its code, former codes included (stored reports keep theirs)."""
    return regions().get(current_code(code))


def province_of(region_code: str) -> str:
    """'63.71' -> '63'; '63' -> '63'."""
    return region_code.split(".", 1)[0]
