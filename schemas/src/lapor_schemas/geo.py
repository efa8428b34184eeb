"""Jurisdiction by boundary: which regency/city a point lies in.

A report's coordinates decide the body with authority over it, so a pin near a border must
land in the regency whose boundary holds it — not the one with the nearest seat. The
boundaries are the regencies' polygons shipped in ``reference/geo/`` (MIT, see its README);
the lookup is a pure function over an index built once:

1. the point is projected to kilometres (an equirectangular projection per province, at its
   middle latitude: enough for a few hundred kilometres) and an R-tree (shapely's STRtree,
   bounding boxes first) names the island parts whose boxes hold it, and of the parts that
   contain it the *smallest* decides. The source still draws some regencies with the land
   later carved out of them: Natuna's polygon holds Kepulauan Anambas (made a regency of its
   own in 2008), Tana Toraja's holds Toraja Utara, Bintan's holds most of Tanjungpinang. The
   smaller part is the more specific one; along ordinary borders the polygons overlap by
   slivers of well under 1 km2, and a point on a shared border goes to the smaller regency
   (then the lower code: deterministic);
2. a point in no polygon but within :data:`NEAR_KM` of one (a coast, a harbour, the
   approximate polygons of Kepulauan Riau, where central Tanjungpinang lies about 7 km from
   its polygon) resolves to the nearest, marked *approximate*;
3. anything farther is at sea or outside the provinces served: :class:`Unserved`.

Known defects of the data are coped with, not hidden: Kepulauan Riau's polygons are
approximate (step 2), and Takalar's stray islands far east simply never decide a point on
Sulawesi. The source's codes are Kemendagri's: Luwu Timur is 73.24 (``regions.json`` had
73.25, which stays readable through its ``former_codes``), and in Kepulauan Riau 21.01 is
Bintan and 21.02 Karimun (``regions.json`` had them the other way round, as BPS numbers
them); ``tests/unit/test_geo.py`` fails when the two disagree on a code's name.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from shapely import Point, STRtree, prepare
from shapely.geometry import Polygon

from lapor_schemas.reference import region

PROVINCES = ("63", "21", "73")
NEAR_KM = 12.0
"""How far outside every polygon a point may lie and still resolve (approximately)."""
KM_PER_DEGREE_LAT = 110.574
KM_PER_DEGREE_LON = 111.320


@dataclass(frozen=True, slots=True)
class Found:
    """Where a point lies: its regency/city, and whether that is the nearest boundary
    rather than one that holds it (``approximate``, ``km`` outside it)."""

    code: str
    name: str
    province: str
    approximate: bool = False
    km: float = 0.0


@dataclass(frozen=True, slots=True)
class Unserved:
    """A point in no served regency and not near one: at sea, or in another province."""

    nearest_km: float | None


@dataclass(frozen=True, slots=True)
class _Part:
    code: str
    name: str
    province: str


class Boundaries:
    """The index: every island part of every regency, in kilometres, in one R-tree."""

    def __init__(self, collections: dict[str, dict[str, object]]) -> None:
        parts: list[list[list[list[float]]]] = []  # rings of [lon, lat] per island part
        owners: list[_Part] = []
        latitudes: list[float] = []
        for collection in collections.values():
            for feature in collection["features"]:  # type: ignore[attr-defined]
                geometry = feature["geometry"]
                polygons = (
                    [geometry["coordinates"]]
                    if geometry["type"] == "Polygon"
                    else geometry["coordinates"]
                )
                props = feature["properties"]
                known = region(props["code"])  # the project's name, not the source's spelling
                name = known.name if known is not None else props["name"]
                for polygon in polygons:
                    latitudes.extend(lat for _, lat in polygon[0])
                    owners.append(_Part(props["code"], name, props["province"]))
                    parts.append(polygon)
        # one projection for the whole index: the served provinces lie within a few degrees
        # of the equator, where this equirectangular projection is good to well under 1 %
        self._lat0 = (min(latitudes) + max(latitudes)) / 2
        self._kx = KM_PER_DEGREE_LON * math.cos(math.radians(self._lat0))
        shapes = []
        for polygon in parts:
            shell = [self._xy(lon, lat) for lon, lat in polygon[0]]
            holes = [[self._xy(lon, lat) for lon, lat in ring] for ring in polygon[1:]]
            shape = Polygon(shell, holes)
            prepare(shape)
            shapes.append(shape)
        self._shapes = shapes
        self._areas = [shape.area for shape in shapes]
        self._owners = owners
        self._tree = STRtree(shapes)
        self.codes = sorted({o.code for o in owners})

    def _xy(self, lon: float, lat: float) -> tuple[float, float]:
        return lon * self._kx, lat * KM_PER_DEGREE_LAT

    def locate(self, lat: float, lon: float, near_km: float = NEAR_KM) -> Found | Unserved:
        """The regency/city a point lies in (bounding boxes first, then the polygon), the
        nearest within ``near_km`` (approximate), or :class:`Unserved`."""
        point = Point(self._xy(lon, lat))
        hits = sorted(
            (self._areas[i], self._owners[i].code, int(i))
            for i in self._tree.query(point, predicate="intersects")
        )
        if hits:
            o = self._owners[hits[0][2]]
            return Found(o.code, o.name, o.province)
        nearest = self._tree.query_nearest(point, max_distance=near_km, return_distance=True)
        indexes, distances = nearest
        if len(indexes):
            best = min(range(len(indexes)), key=lambda k: (distances[k], indexes[k]))
            o = self._owners[int(indexes[best])]
            return Found(o.code, o.name, o.province, approximate=True, km=float(distances[best]))
        far = self._tree.query_nearest(point, return_distance=True)
        return Unserved(float(far[1][0]) if len(far[1]) else None)


def _collection(province: str) -> dict[str, object]:
    text = (
        files("lapor_schemas")
        .joinpath("reference", "geo", f"regencies-{province}.geojson")
        .read_text(encoding="utf-8")
    )
    data: dict[str, object] = json.loads(text)
    return data


@cache
def boundaries() -> Boundaries:
    """The index over every served province (built once per process, about a second)."""
    return Boundaries({p: _collection(p) for p in PROVINCES})


def locate(lat: float, lon: float) -> Found | Unserved:
    return boundaries().locate(lat, lon)


EARTH_KM = 6371.0088


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine), in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_KM * math.asin(min(1.0, math.sqrt(h)))


def box_around(lat: float, lon: float, km: float) -> tuple[float, float, float, float]:
    """(south, north, west, east) in degrees holding every point within ``km`` of a point
    (a first cut for a store query; :func:`distance_km` decides)."""
    dlat = km / KM_PER_DEGREE_LAT
    dlon = km / (KM_PER_DEGREE_LON * max(0.01, math.cos(math.radians(lat))))
    return lat - dlat, lat + dlat, lon - dlon, lon + dlon
