"""Resolve coordinates to a region: the nearest regency/city seat within a radius."""

from __future__ import annotations

import math
from collections.abc import Iterable

from lapor_schemas.reference import Region

EARTH_KM = 6371.0088
DEFAULT_MAX_KM = 150.0


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_KM * math.asin(math.sqrt(a))


def resolve_region(
    lat: float, lon: float, regions: Iterable[Region], max_km: float = DEFAULT_MAX_KM
) -> str | None:
    """The code of the nearest regency/city (by its seat) within ``max_km``, else ``None``."""
    best: tuple[float, str] | None = None
    for region in regions:
        if region.kind == "province" or region.lat is None or region.lon is None:
            continue
        d = distance_km(lat, lon, region.lat, region.lon)
        if best is None or d < best[0]:
            best = (d, region.code)
    if best is None or best[0] > max_km:
        return None
    return best[1]
