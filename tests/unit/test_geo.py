"""Jurisdiction by boundary: a point resolves to the regency whose polygon holds it, near a
coast or the approximate Kepulauan Riau polygons to the nearest (marked), and at sea or
outside the provinces served to nothing."""

from __future__ import annotations

import pytest

from lapor_intake.domain.model import Catalogue
from lapor_schemas import ComplaintSubmission, geo
from lapor_schemas.reference import categories, current_code, region, regions


@pytest.mark.parametrize(
    ("lat", "lon", "code"),
    [
        (-3.3186, 114.5944, "63.71"),  # Banjarmasin
        (-3.4417, 114.8333, "63.72"),  # Banjarbaru
        (-5.1477, 119.4327, "73.71"),  # Makassar
        (-4.0135, 119.6255, "73.72"),  # Parepare
        (-3.4127, 114.8483, "63.03"),  # Martapura, Kabupaten Banjar's seat
    ],
)
def test_a_centre_resolves_to_its_own_regency(lat: float, lon: float, code: str) -> None:
    found = geo.locate(lat, lon)
    assert isinstance(found, geo.Found)
    assert (found.code, found.approximate) == (code, False)


def test_each_side_of_the_banjarmasin_banjar_border() -> None:
    """400 m either side of a point on the border. The nearest seat is Banjarmasin's for
    both: by seat, the eastern point went to the wrong regency."""
    west, east = geo.locate(-3.34051, 114.62608), geo.locate(-3.34051, 114.63408)
    assert isinstance(west, geo.Found)
    assert isinstance(east, geo.Found)
    assert west.code == "63.71"
    assert east.code == "63.03"


@pytest.mark.parametrize(
    ("lat", "lon", "code"),
    [
        (3.22, 106.22, "21.05"),  # the tap at sea near Anambas: inside Natuna's old extent too
        (-2.9686, 119.9003, "73.26"),  # Rantepao, Toraja Utara (also in Tana Toraja's polygon)
        (1.05, 104.46, "21.72"),  # inside Tanjungpinang's polygon (also in Bintan's)
    ],
)
def test_where_an_old_polygon_still_holds_a_newer_regency_the_smaller_one_decides(
    lat: float, lon: float, code: str
) -> None:
    found = geo.locate(lat, lon)
    assert isinstance(found, geo.Found)
    assert (found.code, found.approximate) == (code, False)


def test_a_coastal_point_and_tanjungpinang_resolve_to_the_nearest_marked_approximate() -> None:
    offshore = geo.locate(-4.19822, 114.6813)  # 2 km off Tanah Laut's southern tip
    assert isinstance(offshore, geo.Found)
    assert (offshore.code, offshore.approximate) == ("63.01", True)
    assert 1.5 < offshore.km < 3
    # central Tanjungpinang lies outside every (approximate) polygon: about 7 km from its own
    pinang = geo.locate(0.9186, 104.4554)
    assert isinstance(pinang, geo.Found)
    assert (pinang.code, pinang.approximate) == ("21.72", True)


def test_the_java_sea_and_jakarta_are_refused() -> None:
    sea = geo.locate(-5.0, 112.0)
    assert isinstance(sea, geo.Unserved)
    assert sea.nearest_km is not None
    assert sea.nearest_km > 100
    assert isinstance(geo.locate(-6.2, 106.8), geo.Unserved)
    assert isinstance(geo.locate(-4.35, 114.68), geo.Unserved)  # 19 km out to sea


def test_every_served_regency_has_a_boundary_and_luwu_timur_has_its_decree_code() -> None:
    served = {c for c, r in regions().items() if r.kind != "province"}
    assert set(geo.boundaries().codes) == served
    # Kemendagri's code is 73.24 (73.25 is its statistics office code): stored reports and
    # agencies under the former code stay readable
    assert regions()["73.24"].name == "Kabupaten Luwu Timur"
    assert "73.25" not in regions()
    luwu = region("73.25")
    assert luwu is not None
    assert luwu.code == "73.24"
    assert current_code("73.25.pupr") == "73.24.pupr"
    assert current_code("73.2") == "73.2"
    catalogue = Catalogue(categories(), regions())
    old = ComplaintSubmission.model_validate(
        {
            "title": "Jalan rusak",
            "description": "Jalan rusak parah di Malili.",
            "category": "infrastruktur",
            "region_code": "73.25",
            "anonymous": True,
        }
    )
    assert catalogue.locate(old) == ("73.24", [])


def test_a_report_by_coordinates_lands_in_the_polygon_or_is_refused_in_words() -> None:
    catalogue = Catalogue(categories(), regions())

    def at(lat: float, lon: float) -> ComplaintSubmission:
        return ComplaintSubmission.model_validate(
            {
                "title": "Jalan rusak",
                "description": "Jalan rusak parah dekat perbatasan.",
                "category": "infrastruktur",
                "location": {"lat": lat, "lon": lon},
                "anonymous": True,
            }
        )

    assert catalogue.locate(at(-3.34051, 114.63408)) == ("63.03", [])
    code, errors = catalogue.locate(at(-5.0, 112.0))
    assert code is None
    assert errors[0].field == "location"
    assert "Kalimantan Selatan" in errors[0].message  # names what is served
    assert "lat" not in errors[0].message.split("(")[0]


def _plain(name: str) -> str:
    """The source spells names its own way ("Kab.", "Kota Pare Pare"); compare the words."""
    name = name.replace("Kab. ", "Kabupaten ").replace(" dan ", " ").lower()
    return name.replace(" ", "").replace("-", "")


def test_every_boundary_names_the_region_the_project_knows_by_that_code() -> None:
    """A code whose boundary is one regency and whose name in ``regions.json`` is another
    sends a pinned report to the wrong door. Kepulauan Riau's 21.01 and 21.02 were swapped
    (Bintan and Karimun, BPS order) until this test."""
    import json
    from importlib.resources import files

    for province in geo.PROVINCES:
        text = (
            files("lapor_schemas")
            .joinpath("reference", "geo", f"regencies-{province}.geojson")
            .read_text(encoding="utf-8")
        )
        for feature in json.loads(text)["features"]:
            props = feature["properties"]
            known = regions()[props["code"]]
            assert _plain(known.name) == _plain(props["name"]), props["code"]
    bintan = geo.locate(0.85, 104.6)  # Kijang, on Bintan island
    assert isinstance(bintan, geo.Found)
    assert (bintan.code, bintan.name) == ("21.01", "Kabupaten Bintan")
    karimun = geo.locate(1.0, 103.43)
    assert isinstance(karimun, geo.Found)
    assert (karimun.code, karimun.name) == ("21.02", "Kabupaten Karimun")


def test_distances_and_the_box_that_holds_every_point_within_them() -> None:
    # one minute of latitude is a nautical mile
    assert geo.distance_km(-3.0, 114.0, -3.0 + 1 / 60, 114.0) == pytest.approx(1.852, rel=0.01)
    south, north, west, east = geo.box_around(-3.33, 114.6, 1.0)
    for bearing_lat, bearing_lon in ((1, 0), (-1, 0), (0, 1), (0, -1)):
        lat = -3.33 + bearing_lat * 0.99 / 110.574
        lon = 114.6 + bearing_lon * 0.99 / (111.32 * 0.9983)
        assert geo.distance_km(-3.33, 114.6, lat, lon) < 1.0
        assert south <= lat <= north
        assert west <= lon <= east
