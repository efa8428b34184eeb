from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from lapor_schemas import (
    ComplaintSubmission,
    ComplaintSubmitted,
    ExternalSubmission,
    parse_case_event,
)
from lapor_schemas.export import CONTRACTS, check, export, render
from lapor_schemas.reference import categories, province_of, regions
from tests.factories import submitted

BASE = {
    "title": "Jalan rusak parah",
    "description": "Jalan di depan pasar rusak parah sejak bulan lalu.",
    "category": "infrastruktur",
    "region_code": "63.71",
}


def test_checked_in_json_schemas_match_the_models() -> None:
    assert check(Path(__file__).resolve().parents[2] / "schemas" / "json") == []


def test_check_reports_a_stale_schema(tmp_path: Path) -> None:
    export(tmp_path)
    target = tmp_path / "intake-receipt.v1.schema.json"
    target.write_text(target.read_text().replace('"accepted"', '"maybe"'))
    problems = check(tmp_path)
    assert len(problems) == 1
    assert "intake-receipt.v1" in problems[0]


def test_every_contract_renders_valid_json_with_its_topic() -> None:
    for stem in CONTRACTS:
        schema = json.loads(render(stem))
        assert schema["$id"] == f"lapor:{stem}"
        assert schema["x-lapor-topic"]


def test_named_reporter_needs_a_way_to_be_reached() -> None:
    with pytest.raises(ValidationError) as err:
        ComplaintSubmission.model_validate({**BASE, "reporter": {"name": "Siti"}})
    assert err.value.errors()[0]["type"] == "reporter_contact_required"


def test_anonymous_report_needs_no_reporter() -> None:
    sub = ComplaintSubmission.model_validate({**BASE, "anonymous": True})
    assert sub.reporter is None
    assert sub.type.value == "pengaduan"


def test_unknown_fields_and_bad_region_codes_are_refused() -> None:
    with pytest.raises(ValidationError) as err:
        ComplaintSubmission.model_validate(
            {**BASE, "anonymous": True, "region_code": "6371", "colour": "red"}
        )
    types = {(e["loc"][0], e["type"]) for e in err.value.errors()}
    assert ("region_code", "string_pattern_mismatch") in types
    assert ("colour", "extra_forbidden") in types


def test_external_submission_requires_channel_and_external_id() -> None:
    with pytest.raises(ValidationError) as err:
        ExternalSubmission.model_validate({**BASE, "anonymous": True})
    assert {e["loc"][0] for e in err.value.errors()} == {"channel", "external_id"}


def _submitted() -> ComplaintSubmitted:
    return submitted("LPR-0123456789")


def test_case_event_round_trips_through_json() -> None:
    event = _submitted()
    parsed = parse_case_event(event.model_dump_json())
    assert parsed == event


def test_unknown_case_event_types_are_skipped_not_refused() -> None:
    raw = json.dumps({"type": "case.future_thing", "id": "x"})
    assert parse_case_event(raw) is None


def test_malformed_known_case_event_is_refused() -> None:
    raw = json.loads(_submitted().model_dump_json())
    del raw["data"]["region_code"]
    with pytest.raises(ValidationError):
        parse_case_event(json.dumps(raw))


def test_reference_data_has_kalsel_with_its_13_regencies_and_cities() -> None:
    kalsel = [r for r in regions().values() if r.province_code == "63" and r.kind != "province"]
    assert len(kalsel) == 13
    assert regions()["63.71"].name == "Kota Banjarmasin"
    assert regions()["21.72"].name == "Kota Tanjungpinang"
    assert province_of("63.71") == "63"
    assert {
        "infrastruktur",
        "kesehatan",
        "pendidikan",
        "kependudukan",
        "air-bersih",
        "persampahan",
        "perizinan",
        "bansos",
    } <= set(categories())


def test_text_hygiene_at_the_door() -> None:
    import pytest
    from pydantic import ValidationError

    from lapor_schemas import ComplaintSubmission

    base = {
        "title": "Jalan rusak parah",
        "description": "Jalan di depan pasar rusak parah.\nMohon segera diperbaiki.",
        "category": "infrastruktur",
        "region_code": "63.71",
        "reporter": {"name": "Siti", "email": "siti@warga.example"},
    }
    ok = ComplaintSubmission.model_validate({**base, "title": "Jalan rusak\r\n  parah\tsekali"})
    assert ok.title == "Jalan rusak parah sekali"
    assert "\n" in ok.description
    for field, value in (
        ("title", "Jalan\x00 rusak parah"),
        ("description", "Jalan rusak parah sekali\x07 di sini."),
    ):
        with pytest.raises(ValidationError) as err:
            ComplaintSubmission.model_validate({**base, field: value})
        assert err.value.errors()[0]["type"] == "control_characters"
        assert err.value.errors()[0]["loc"] == (field,)
    with pytest.raises(ValidationError) as err:
        ComplaintSubmission.model_validate(
            {**base, "reporter": {"name": "Siti", "email": "siti@wärga.example"}}
        )
    assert err.value.errors()[0]["type"] == "email_not_ascii"
    with pytest.raises(ValidationError):
        ComplaintSubmission.model_validate(
            {**base, "reporter": {"name": "Si\x00ti", "phone": "+6281234567"}}
        )


def test_every_case_event_says_the_status_it_leads_to_in_one_place() -> None:
    from typing import get_args

    from lapor_schemas import events
    from lapor_schemas.events import STATUS_SET_BY, STATUS_UNCHANGED, status_after
    from lapor_schemas.status import ALL
    from tests import factories

    for member in get_args(get_args(events.CaseEvent)[0]):
        kind = member.model_fields["type"].default
        carries = "status" in member.model_fields["data"].annotation.model_fields
        ways = [
            kind in STATUS_SET_BY,
            kind in STATUS_UNCHANGED,
            carries and kind not in STATUS_UNCHANGED,
        ]
        assert sum(ways) == 1, kind  # exactly one way to know the status after it
    for status in STATUS_SET_BY.values():
        assert status in ALL
    assert status_after(factories.dispatched()) == "dispatched"
    assert status_after(factories.submitted()) == "submitted"
