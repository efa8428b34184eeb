"""The portal's pure helpers: times in the province's zone, deadlines in working days, the
form's intake body and intake's field reasons by form field."""

from __future__ import annotations

from datetime import UTC, datetime

from lapor_portal.backend import Answer
from lapor_portal.main import deadline, field_errors, local_time, submission


def test_times_are_shown_in_the_provinces_zone() -> None:
    assert local_time("2026-11-23T01:00:00Z", "63") == "23-11-2026 09:00 WITA"
    assert local_time("2026-11-23T01:00:00Z", "21") == "23-11-2026 08:00 WIB"
    assert local_time(None) == ""


def test_the_agencys_deadline_counts_working_days_left() -> None:
    monday = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    case = {"status": "dispatched", "region_code": "63.71", "due_at": "2026-11-30T01:00:00Z"}
    found = deadline(case, now=monday)
    assert found == {"at": "30-11-2026 09:00 WITA", "working_days": 5}
    assert deadline({**case, "status": "followed_up"}, now=monday) is None
    assert deadline({**case, "due_at": None}, now=monday) is None


def test_the_form_becomes_intakes_body_and_its_reasons_come_back_by_field() -> None:
    body = submission(
        {
            "title": "Jalan rusak",
            "description": "Rusak parah di dekat pasar.",
            "category": "infrastruktur",
            "region_code": "63.71",
            "anonymous": True,
            "notify_via": ["sms"],
            "phone": "+6281234567",
            "lat": "-3.3",
            "lon": "114.6",
        },
        "id",
    )
    assert body["anonymous"] is True
    assert body["reporter"] == {"language": "id", "phone": "+6281234567", "notify_via": ["sms"]}
    assert body["location"] == {"lat": -3.3, "lon": 114.6}
    answer = Answer(
        422,
        {
            "errors": [
                {"field": "title", "message": "terlalu pendek", "message_en": "too short"},
                {"field": "reporter.email", "message": "tidak valid", "message_en": "invalid"},
                {"field": "reporter", "message": "wajib", "message_en": "required"},
            ]
        },
    )
    assert field_errors(answer, "id") == {"title": "terlalu pendek", "email": "tidak valid"}
    assert field_errors(answer, "en")["title"] == "too short"
    assert "" in field_errors(Answer(429, {}), "id")


def test_templates_translate_one_way_a_key_or_the_words_in_place() -> None:
    import pytest

    from lapor_portal.i18n import say

    assert say("id", "write") == "Tulis laporan"
    assert say("en", "write") == "Write a report"
    assert say("id", "Kotak masuk", "Inbox") == "Kotak masuk"
    assert say("en", "Kotak masuk", "Inbox") == "Inbox"
    with pytest.raises(TypeError):
        say("id", "a", "b", "c")
