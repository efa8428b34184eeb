from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from lapor_routing.domain.directory import (
    Agency,
    Directory,
    NoAgencyError,
    directory_from,
    load_seed_files,
)
from lapor_schemas.reference import categories, regions

DIRECTORY = directory_from(load_seed_files())
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

TECHNICAL = {
    "infrastruktur": "pupr",
    "kesehatan": "dinkes",
    "pendidikan": "disdik",
    "kependudukan": "disdukcapil",
    "persampahan": "dlh",
    "perizinan": "dpmptsp",
    "bansos": "dinsos",
    "air-bersih": "pdam",
}


@pytest.mark.parametrize("province", ["63", "21", "73"])
def test_every_seeded_regency_routes_each_category_to_its_own_opd(province: str) -> None:
    regencies = [
        r for r in regions().values() if r.province_code == province and r.kind != "province"
    ]
    assert regencies
    for region in regencies:
        for category, opd in TECHNICAL.items():
            decision = DIRECTORY.resolve(region.code, category)
            assert decision.agency.id == f"{region.code}.{opd}"
            assert decision.agency.region_code == region.code
            assert decision.rule == "region-category"


def test_banjarmasin_roads_go_to_its_public_works_office() -> None:
    decision = DIRECTORY.resolve("63.71", "infrastruktur")
    assert decision.agency.name == "Dinas Pekerjaan Umum dan Penataan Ruang Kota Banjarmasin"


def test_category_without_technical_agency_falls_back_to_the_region_coordinator() -> None:
    decision = DIRECTORY.resolve("63.72", "lainnya")
    assert decision.agency.id == "63.72.kominfo"
    assert decision.rule == "region-coordinator"


def test_province_level_report_goes_to_the_province_opd_or_coordinator() -> None:
    assert DIRECTORY.resolve("63", "pendidikan").agency.id == "63.disdik"
    assert DIRECTORY.resolve("63", "kependudukan").agency.id == "63.kominfo"


def test_region_without_agencies_falls_back_to_the_province_coordinator() -> None:
    only_province = Directory(
        [
            Agency(
                id="63.kominfo",
                name="Kominfo Kalsel",
                region_code="63",
                level="province",
                role="coordinator",
            ),
        ]
    )
    decision = only_province.resolve("63.05", "kesehatan")
    assert decision.agency.id == "63.kominfo"
    assert decision.rule == "province-coordinator"


def test_unknown_province_has_no_agency() -> None:
    with pytest.raises(NoAgencyError):
        DIRECTORY.resolve("99.01", "kesehatan")


def test_every_seeded_agency_has_a_known_region_and_category() -> None:
    for agency in DIRECTORY.by_id.values():
        assert agency.region_code in regions() or agency.level == "national"
        assert set(agency.categories) <= set(categories())
        if agency.coordinator_id:
            assert DIRECTORY.by_id[agency.coordinator_id].role == "coordinator"


def test_keyword_hints_route_uncategorised_reports_and_offer_next_candidates() -> None:
    sms = DIRECTORY.candidates("63.71", "lainnya", "Air PDAM tidak mengalir tiga hari")
    assert (sms[0].agency.id, sms[0].rule) == ("63.71.pdam", "keyword:63-air")
    roads = DIRECTORY.candidates("63.71", "infrastruktur", "jalan rusak dan air pdam mati")
    assert [(c.agency.id, c.rule) for c in roads] == [
        ("63.71.pupr", "region-category"),
        ("63.71.pdam", "keyword:63-air"),
        ("63.71.kominfo", "region-coordinator"),
        ("63.kominfo", "province-coordinator"),
    ]
    assert DIRECTORY.candidates("73.71", "lainnya", "PDAM")[0].agency.id == "73.71.pdam"


def test_directory_problems_name_every_missing_coordinator_and_target() -> None:
    from lapor_routing.domain.directory import RoutingRule, directory_problems

    files = {f.tenant: f for f in load_seed_files()}
    kalsel = files["63"]
    ok = directory_problems(
        kalsel, regions=regions(), categories=categories(), national=files["00"]
    )
    assert ok == []
    broken = kalsel.model_copy(
        update={
            "agencies": [
                a
                for a in kalsel.agencies
                if not (a.role == "coordinator" and a.region_code in ("63", "63.71"))
            ]
            + [
                Agency(
                    id="73.71.x",
                    name="Elsewhere",
                    region_code="73.71",
                    level="city",
                    role="opd",
                    categories=("sihir",),
                    coordinator_id="63.nobody",
                )
            ],
            "rules": [RoutingRule(id="r", keywords=("air",), opd="tidakada", regions=("99.1",))],
        }
    )
    found = directory_problems(
        broken, regions=regions(), categories=categories(), national=files["00"]
    )
    text = " | ".join(p.message_en for p in found)
    assert "Region 63 has no coordinator" in text
    assert "Region 63.71 has no coordinator" in text
    assert "Region 63.72 has no coordinator" not in text
    assert "Region 73.71 is not part of tenant 63" in text
    assert "Unknown category sihir" in text
    assert "Coordinator 63.nobody" in text
    assert "Region 99.1 is not part of tenant 63" in text
    assert "No 'tidakada' agency" in text
    empty = kalsel.model_copy(update={"agencies": []})
    assert len(directory_problems(empty, regions=regions(), categories=categories())) >= 14


class _CountingStore:
    """Records which store methods the service calls; answers as an empty store."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        async def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            if name == "unseen":
                return set(args[0])
            return set() if name == "existing" else None

        return call


async def test_a_batch_of_routings_own_events_costs_no_store_round_trip() -> None:
    from lapor_routing.service import RoutingService
    from tests.factories import dispatched, submitted

    store = _CountingStore()
    service = RoutingService(store, DIRECTORY, clock=lambda: NOW)  # type: ignore[arg-type]
    assert await service.handle([dispatched("LPR-0000000001"), dispatched("LPR-0000000002")]) == 0
    assert store.calls == []
    assert await service.handle([dispatched("LPR-0000000003"), submitted("LPR-0000000004")]) == 1
    # a new report: the directory's stamp (every few seconds), then nothing read first
    assert [c for c in store.calls if not c.startswith("directory")] == [
        "open_many",
        "mark_processed",
    ]
