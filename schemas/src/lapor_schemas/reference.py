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


def province_of(region_code: str) -> str:
    """'63.71' -> '63'; '63' -> '63'."""
    return region_code.split(".", 1)[0]
