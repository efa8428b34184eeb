from __future__ import annotations

from datetime import UTC, datetime
from xml.etree import ElementTree as ET

import pytest

from lapor_intake.domain import open311, sms
from lapor_intake.domain.credentials import Registry, sha256_hex, sign, signature_valid
from lapor_intake.domain.model import Catalogue
from lapor_intake.domain.repeats import Candidate, best_match, fingerprint, similarity
from lapor_kit.auth import SecretMinter
from lapor_schemas import ComplaintSubmission
from lapor_schemas.reference import categories, regions
from tests import factories


def test_catalogue_locates_a_report_by_coordinates_or_says_why_not() -> None:
    catalogue = Catalogue(categories(), regions())
    base = {
        "title": "Jalan rusak",
        "description": "Jalan rusak parah sekali.",
        "category": "infrastruktur",
        "anonymous": True,
    }
    sub = ComplaintSubmission.model_validate({**base, "location": {"lat": -3.44, "lon": 114.83}})
    assert catalogue.check(sub) == ("63.72", [])
    far = ComplaintSubmission.model_validate({**base, "location": {"lat": 10.0, "lon": 10.0}})
    region, errors = catalogue.check(far)
    assert region is None
    assert errors[0].field == "location"
    assert errors[0].code == "location_unserved"


def test_fingerprints_drop_function_words_and_case() -> None:
    assert fingerprint("Jalan di Pramuka", "YANG rusak, dan berlubang!") == [
        "berlubang",
        "jalan",
        "pramuka",
        "rusak",
    ]


def test_similar_reports_match_and_different_ones_do_not() -> None:
    a = fingerprint("Jalan berlubang di Jalan Pramuka dekat jembatan")
    b = fingerprint("Jalan Pramuka rusak berlubang dekat jembatan, mohon diperbaiki")
    c = fingerprint("Drainase tersumbat di Jalan Ahmad Yani")
    assert similarity(a, b)[0] > 0.5
    assert similarity(a, c)[0] < 0.2
    match = best_match(b, [Candidate("LPR-A", a), Candidate("LPR-C", c)])
    assert match is not None
    assert match.tracking_id == "LPR-A"
    assert best_match(c, [Candidate("LPR-A", a)]) is None
    # a repeat of a repeat links to the root report
    assert best_match(b, [Candidate("LPR-B", a, repeat_of="LPR-ROOT")]) is not None
    root = best_match(b, [Candidate("LPR-B", a, repeat_of="LPR-ROOT")])
    assert root is not None
    assert root.tracking_id == "LPR-ROOT"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "LAPOR jalan depan sekolah rusak parah",
            sms.NewReport("jalan depan sekolah rusak parah", None),
        ),
        ("lapor 63.71 lampu jalan mati semua", sms.NewReport("lampu jalan mati semua", "63.71")),
        # after a follow-up: three answers, anything else is a message (it closes nothing)
        ("#LPR-ABCDEFGHJK SELESAI", sms.Reply("LPR-ABCDEFGHJK", "", "accept")),
        (
            "#lpr-abcdefghjk selesai, terima kasih",
            sms.Reply("LPR-ABCDEFGHJK", "terima kasih", "accept"),
        ),
        (
            "#LPR-ABCDEFGHJK BELUM lubangnya masih ada",
            sms.Reply("LPR-ABCDEFGHJK", "lubangnya masih ada", "dispute"),
        ),
        ("#lpr-abcdefghjk belum", sms.Unreadable("dispute_without_reason")),
        (
            "#LPR-ABCDEFGHJK sudah diperbaiki? kapan diaspal",
            sms.Reply("LPR-ABCDEFGHJK", "sudah diperbaiki? kapan diaspal", "message"),
        ),
        (
            "#LPR-ABCDEFGHJK belumkah ada jadwal?",  # a word that only begins with BELUM
            sms.Reply("LPR-ABCDEFGHJK", "belumkah ada jadwal?", "message"),
        ),
        ("LAPOR rusak", sms.Unreadable("too_short")),
        ("#LPR-ABCDEFGHJK", sms.Unreadable("empty_reply")),
        ("halo apa kabar", sms.Unreadable("unknown_format")),
    ],
)
def test_sms_commands(text: str, expected: object) -> None:
    assert sms.parse(text) == expected


def test_sms_titles_and_phone_numbers() -> None:
    assert sms.title_of("Lampu jalan mati. Sudah seminggu.") == "Lampu jalan mati."
    assert len(sms.title_of("kata " * 40)) <= 81
    assert sms.normalise_phone("+62 812-3456-7890") == sms.normalise_phone("081234567890")


def test_signatures_and_hashed_keys() -> None:
    body = b'{"a":1}'
    assert signature_valid("secret-secret-16", body, sign("secret-secret-16", body))
    assert not signature_valid("secret-secret-16", body + b" ", sign("secret-secret-16", body))
    assert not signature_valid("secret-secret-16", body, None)
    registry = Registry.model_validate(
        {
            "open311_clients": [{"id": "c", "api_key_sha256": sha256_hex("k1"), "tenants": ["63"]}],
        }
    )
    assert registry.open311_client("k1") is not None
    assert registry.open311_client("k2") is None


def test_status_secrets_are_stable_per_report_and_key() -> None:
    minter = SecretMinter(b"key")
    assert minter.mint("LPR-0000000001") == minter.mint("LPR-0000000001")
    assert minter.mint("LPR-0000000001") != minter.mint("LPR-0000000002")
    assert minter.verify("LPR-0000000001", minter.mint("LPR-0000000001"))
    assert not SecretMinter(b"other").verify("LPR-0000000001", minter.mint("LPR-0000000001"))


def test_open311_service_list_and_definition_follow_the_spec() -> None:
    items = open311.service_list(categories().values())
    assert {i["service_code"] for i in items} == set(categories())
    assert all(i["type"] == "realtime" and i["metadata"] is True for i in items)
    xml = open311.to_xml("services", "service", items)
    assert xml.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    root = ET.fromstring(xml)
    assert root.tag == "services"
    assert root[0].find("metadata").text == "true"  # type: ignore[union-attr]
    definition = open311.service_definition(categories()["kesehatan"])
    codes = [a["code"] for a in definition["attributes"]]
    assert codes == ["jenis", "anonim", "rahasia"]


def test_open311_request_view_maps_statuses_and_never_identity() -> None:
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    doc = {
        "_id": "LPR-0000000001",
        "status": "dispatched",
        "category": "infrastruktur",
        "description": "Jalan rusak.",
        "submitted_at": now,
        "updated_at": now,
        "agency": {"name": "Dinas PUPR Kota Banjarmasin"},
        "location": {"lat": -3.3, "lon": 114.6, "address": "Jl. Pramuka"},
    }
    view = open311.request_view(doc, categories())
    assert view["status"] == "open"
    assert view["status_notes"] == "Laporan diteruskan kepada Dinas PUPR Kota Banjarmasin."
    assert view["requested_datetime"] == "2026-11-23T09:00:00Z"
    assert view["long"] == 114.6
    assert open311.request_view({**doc, "status": "rejected"}, categories())["status"] == ("closed")


def test_a_chosen_channel_needs_its_address_and_the_refusal_says_it_in_words() -> None:
    from pydantic import ValidationError

    from lapor_intake.domain.errors import from_pydantic
    from lapor_schemas import ComplaintSubmission

    body = {
        "title": "Jalan rusak parah",
        "description": "Jalan berlubang di depan pasar sejak sebulan.",
        "category": "infrastruktur",
        "region_code": "63.71",
        "reporter": {"name": "Siti", "email": "siti@warga.example", "notify_via": ["whatsapp"]},
    }
    try:
        ComplaintSubmission.model_validate(body)
    except ValidationError as exc:
        [err] = from_pydantic(exc.errors())
    else:
        raise AssertionError("a WhatsApp preference without a phone was accepted")
    assert err.code == "channel_without_address"
    assert "nomor telepon" in err.message  # in words: the field stays in err.field
    assert "reporter." not in err.message
    assert "whatsapp" in err.message_en
    body["reporter"] = {**body["reporter"], "phone": "+6281234567890"}  # type: ignore[dict-item]
    assert ComplaintSubmission.model_validate(body).reporter.notify_via == ["whatsapp"]  # type: ignore[union-attr]


def test_every_finished_status_reads_closed_in_open311() -> None:
    from lapor_intake.domain.open311 import public_status
    from lapor_schemas.status import FINISHED, OPEN

    assert {public_status(s) for s in FINISHED} == {"closed"}
    assert {public_status(s) for s in OPEN} == {"open"}
    assert public_status("rated") == "closed"
    assert public_status("marked_repeat") == "closed"


def test_a_dispatch_ends_an_escalation_in_the_view_as_in_routings_case() -> None:
    """Found: the Ombudsman kept reading a report in intake after routing had sent the case
    on to an agency (routing forgets the escalation on dispatch; intake did not)."""
    from lapor_intake.domain.views import view_change
    from lapor_schemas import AgencyRef, CaseEscalated
    from lapor_schemas.events import Actor, EscalationData

    escalated = CaseEscalated(
        source="lapor-routing",
        tenant="63",
        subject=factories.TID,
        correlation_id=factories.TID,
        time=factories.NOW,
        data=EscalationData(
            tracking_id=factories.TID,
            status="dispatched",
            at=factories.NOW,
            actor=Actor(kind="system"),
            level=3,
            stage="follow_up",
            to=AgencyRef(id="00.ombudsman", name="Ombudsman RI", region_code="00"),
        ),
    )
    up = view_change(escalated)
    assert up is not None
    assert up[2]["escalated_to"] == "00.ombudsman"
    down = view_change(factories.dispatched())
    assert down is not None
    assert down[2]["escalated_to"] is None


def test_a_sure_suggestion_of_another_category_rides_on_the_submission_as_a_flag() -> None:
    from lapor_intake import triage
    from lapor_intake.domain.model import accept
    from lapor_schemas import Channel

    sub = ComplaintSubmission.model_validate(
        {
            "type": "pengaduan",
            "title": "Air mati",
            "description": "air pdam ga ngalir udh 3 hari di kompleks kami",
            "category": "infrastruktur",
            "region_code": "63.71",
            "anonymous": True,
        }
    )
    triage.default()  # built (the service builds it at start, beside the requests)
    flagged = triage.flag(sub.title, sub.description)
    assert flagged is not None
    assert flagged[0] == "air-bersih"
    made = accept(
        sub,
        channel=Channel.WEB,
        now=factories.NOW,
        tracking_id=factories.TID,
        region_code="63.71",
        suggested=flagged,
    )
    assert made.submitted.data.suggested_category == "air-bersih"
    agreeing = accept(
        sub.model_copy(update={"category": "air-bersih"}),
        channel=Channel.WEB,
        now=factories.NOW,
        tracking_id=factories.TID,
        region_code="63.71",
        suggested=flagged,
    )
    assert agreeing.submitted.data.suggested_category is None  # nothing to flag
