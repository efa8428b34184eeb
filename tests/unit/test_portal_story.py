"""A report's story in words (no I/O): who said what, the notices and how they were sent,
what the reporter may answer now, what happens next in working days, and every problem of a
form at once — never a code."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from lapor_portal import story
from lapor_schemas import words
from lapor_schemas.events import CASE_EVENT_TYPES
from lapor_schemas.status import ALL

CODES = re.compile(r"\b(case|complaint)\.[a-z_]+|reporter_[a-z]+|_id\b|region_code")
AT = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)  # a Friday, 10:00 WITA

CASE = {
    "tracking_id": "LPR-0123456789",
    "status": "closed",
    "region_code": "63.71",
    "submitted_at": AT,
    "history": [
        {"type": "complaint.submitted", "status": "submitted", "at": AT},
        {
            "type": "case.dispatched",
            "status": "dispatched",
            "at": AT,
            "agency_name": "Dinas PUPR Kota Banjarmasin",
        },
        {
            "type": "case.followed_up",
            "status": "followed_up",
            "at": AT,
            "text": "Sudah ditambal.",
            "actor": {"kind": "staff", "role": "agency_staff"},
            "agency_name": "Dinas PUPR Kota Banjarmasin",
        },
        {
            "type": "case.reporter_messaged",
            "status": "followed_up",
            "at": AT,
            "text": "Sisi kiri juga?",
            "actor": {"kind": "reporter"},
        },
        {
            "type": "case.reporter_accepted",
            "status": "followed_up",
            "at": AT,
            "actor": {"kind": "reporter"},
        },
        {
            "type": "case.closed",
            "status": "closed",
            "at": AT,
            "reason": "reporter_accepted",
            "actor": {"kind": "reporter"},
        },
        {
            "type": "case.reporter_rated",
            "status": "closed",
            "at": AT,
            "score": 4,
            "text": "Cepat",
            "actor": {"kind": "reporter"},
        },
        {
            "type": "case.rated",
            "status": "rated",
            "at": AT,
            "score": 4,
            "text": "Cepat",
            "actor": {"kind": "reporter"},
        },
    ],
}


def test_the_history_says_who_did_what_in_words() -> None:
    lines = story.history(CASE, "reporter", "id")
    said = [(line["who"], line["what"]) for line in lines]
    assert said == [
        ("Anda", "Laporan diterima"),
        ("Sistem LAPOR!", "Laporan diteruskan ke instansi: Dinas PUPR Kota Banjarmasin"),
        ("Dinas PUPR Kota Banjarmasin", "Menindaklanjuti laporan"),
        ("Anda", "Mengirim pesan"),
        ("Anda", "Menyatakan masalahnya sudah selesai"),
        ("Sistem LAPOR!", "Laporan selesai"),  # what the answer caused, said once
        ("Anda", "Memberi penilaian"),  # the rating is not listed twice
    ]
    assert lines[5]["reason"] == "Pelapor menyatakan masalahnya sudah selesai."
    assert lines[6]["score"] == "4 dari 5"
    public = story.history(CASE, "public", "en")
    assert public[3]["who"] == "The reporter"
    for line in [*lines, *public]:
        assert not CODES.search(" ".join(str(v) for v in line.values() if v)), line


def test_every_status_and_event_has_words_in_both_languages() -> None:
    for key in ALL:
        for lang in ("id", "en"):
            assert not CODES.search(words.status(key, lang))
            assert words.status(key, lang) != key
    for kind in CASE_EVENT_TYPES:
        for lang in ("id", "en"):
            assert not CODES.search(words.event(kind, lang))
            assert not CODES.search(words.notice(kind, lang))
    assert words.event("case.something_new", "id") == "Perubahan pada laporan"


def test_notices_are_one_line_per_event_with_every_way_they_were_sent() -> None:
    sent = [  # as notify's inbox answers them: the delivery id names the event
        {
            "id": f"e1:reporter:{c}",
            "cause_event_type": "complaint.submitted",
            "channel": c,
            "created_at": AT,
        }
        for c in ("inbox", "email", "sms")
    ]
    [line] = story.notices(sent, "id")
    assert line["what"] == "Laporan Anda diterima"
    assert line["how"] == ["Kotak masuk LAPOR!", "Email", "SMS"]
    assert story.notices(sent, "en")[0]["what"] == "Your report was received"


def test_the_reporters_answers_follow_the_status() -> None:
    followed = {**CASE, "status": "followed_up"}
    assert story.answers(followed, owner=True) == {
        "message": True,
        "accept": True,
        "dispute": True,
        "rate": False,
    }
    assert not any(story.answers(followed, owner=False).values())
    assert story.answers({**CASE, "status": "closed"}, owner=True)["rate"]
    asked = {
        **CASE,
        "status": "needs_info",
        "history": [{"type": "case.info_requested", "text": "Di mana tepatnya?"}],
    }
    assert story.question(asked) == "Di mana tepatnya?"


def test_what_happens_next_in_working_days() -> None:
    steps = story.next_steps(CASE, ["email", "sms"], "id")
    # filed on a Friday: three working days later is the Wednesday
    assert steps[0] == (
        "Petugas memverifikasi laporan Anda paling lambat Rabu, 9 Desember 2026 (3 hari kerja)."
    )
    assert "lewat Email, SMS" in steps[2]
    assert "Wednesday 9 December 2026" in story.next_steps(CASE, [], "en")[0]


def test_an_empty_form_is_answered_with_every_problem_at_once_in_words() -> None:
    problems = story.form_problems({}, ["infrastruktur"], "id")
    assert list(problems) == ["title", "description", "category", "region_code", "name", "email"]
    assert problems["category"] == "Pilih kategori laporan."
    for message in problems.values():
        assert not CODES.search(message)
        assert "karakter)" not in message  # no "too short (at least 2 characters)" for a list
    anonymous = story.form_problems(
        {
            "title": "Jalan rusak",
            "description": "Jalan rusak parah di depan sekolah.",
            "category": "infrastruktur",
            "lat": "utara",
            "lon": "114.6",
            "anonymous": True,
            "notify_via": ["sms"],
        },
        ["infrastruktur"],
        "en",
    )
    assert list(anonymous) == ["location", "phone"]
    assert anonymous["phone"] == "News by SMS or WhatsApp needs a phone number."
    located = story.form_problems(
        {
            "title": "Jalan rusak",
            "description": "Jalan rusak parah di depan sekolah.",
            "category": "infrastruktur",
            "lat": "-3.32",
            "lon": "114.59",
            "name": "Siti",
            "email": "siti@warga",
        },
        ["infrastruktur"],
        "id",
    )
    assert list(located) == ["email"]  # a spot on the map is enough for the place
