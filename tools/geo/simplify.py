"""``make geo``: the regency boundaries for the browser, simplified from the full ones
(``schemas/src/lapor_schemas/reference/geo``, which the server's lookup keeps at full
detail) into one small file the portal serves (``lapor_portal/static/geo/regencies.json``).

Each regency is simplified with shapely (topology kept, tolerance :data:`TOLERANCE` degrees,
about 800 m), island parts smaller than :data:`MIN_AREA` are dropped (the map shows where a
regency is; the lookup, not the drawing, decides where a pin lands), and coordinates are
rounded to 3 decimals (about 100 m). The output is committed; ``make test`` checks that it
is what this script makes from the shipped data.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from shapely.geometry import MultiPolygon, Polygon, mapping, shape

from lapor_schemas.reference import region

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "schemas/src/lapor_schemas/reference/geo"
TARGET = ROOT / "services/portal/src/lapor_portal/static/geo/regencies.json"
PROVINCES = ("63", "21", "73")
TOLERANCE = 0.008
MIN_AREA = 0.0004  # square degrees, about 5 km2


def _round(coords: object) -> object:
    if isinstance(coords, (list, tuple)) and coords and isinstance(coords[0], (int, float)):
        return [round(float(coords[0]), 3), round(float(coords[1]), 3)]
    return [_round(c) for c in coords]  # type: ignore[attr-defined]


def simplified(feature: dict[str, Any]) -> dict[str, object] | None:
    geometry = shape(feature["geometry"])
    parts: list[Polygon] = (
        list(geometry.geoms) if isinstance(geometry, MultiPolygon) else [geometry]  # type: ignore[list-item]
    )
    kept = [p for p in parts if p.area >= MIN_AREA] or [max(parts, key=lambda p: p.area)]
    small = MultiPolygon(kept).simplify(TOLERANCE, preserve_topology=True)
    polygons = list(small.geoms) if isinstance(small, MultiPolygon) else [small]
    polygons = [p for p in polygons if isinstance(p, Polygon) and not p.is_empty]
    props = feature["properties"]
    assert isinstance(props, dict)
    known = region(props["code"])
    largest = max(kept, key=lambda p: p.area).representative_point()
    return {
        "type": "Feature",
        "properties": {
            "code": props["code"],
            "province": props["province"],
            # the project's name for the code (regions.json), and where its label goes: a
            # point inside its largest part (a centroid can fall in the sea)
            "name": known.name if known is not None else props["name"],
            "label": [round(largest.y, 3), round(largest.x, 3)],
        },
        "geometry": {
            "type": "MultiPolygon",
            "coordinates": _round([mapping(p)["coordinates"] for p in polygons]),
        },
    }


def build() -> str:
    features = []
    for province in PROVINCES:
        data = json.loads((SOURCE / f"regencies-{province}.geojson").read_text(encoding="utf-8"))
        for feature in data["features"]:
            found = simplified(feature)
            if found is not None:
                features.append(found)
    collection = {
        "type": "FeatureCollection",
        "source": "laravel-nusa (MIT), simplified by tools/geo/simplify.py",
        "features": features,
    }
    return json.dumps(collection, separators=(",", ":")) + "\n"


def main() -> None:
    text = build()
    if "--check" in sys.argv:
        if not TARGET.exists() or TARGET.read_text(encoding="utf-8") != text:
            sys.exit(f"{TARGET} is not what tools/geo/simplify.py makes: run make geo")
        return
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    TARGET.write_text(text, encoding="utf-8")
    print(f"{TARGET.relative_to(ROOT)}: {len(text):,} bytes")


if __name__ == "__main__":
    main()
