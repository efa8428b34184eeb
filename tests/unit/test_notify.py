from __future__ import annotations

from datetime import UTC, datetime

from lapor_notify.domain.planning import case_facts, plan
from lapor_notify.domain.render import Renderer
from lapor_schemas import (
    CaseDispatched,
    ComplaintSubmitted,
)
from tests.factories import dispatched, submitted

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _submitted(*, contactable: bool = True, anonymous: bool = False) -> ComplaintSubmitted:
    return submitted(reporter_contactable=contactable, anonymous=anonymous)


def _dispatched(email: str | None = "pupr.6371@instansi.lapor.example") -> CaseDispatched:
    return dispatched(email=email)


def test_submission_acknowledges_the_reporter_once_per_event() -> None:
    event = _submitted()
    deliveries = plan(event, NOW)
    assert [(d.role, d.channel) for d in deliveries] == [("reporter", "email")]
    assert deliveries[0].id == f"{event.id}:reporter:email"
    assert plan(event, NOW)[0].id == deliveries[0].id


def test_no_reporter_notification_without_a_contact() -> None:
    assert plan(_submitted(contactable=False), NOW) == []


def test_dispatch_notifies_the_agency_at_its_directory_address() -> None:
    event = _dispatched()
    [delivery] = plan(event, NOW)
    assert delivery.role == "agency"
    assert delivery.address == "pupr.6371@instansi.lapor.example"
    assert delivery.id == f"{event.id}:63.71.pupr:email"
    assert plan(_dispatched(email=None), NOW) == []


def test_reporter_acknowledgement_is_in_bahasa_indonesia_with_english_alongside() -> None:
    facts = case_facts(_submitted())
    text = Renderer().render(
        "complaint.submitted.reporter.email",
        "id",
        "63",
        {**facts, "tracking_id": "LPR-0000000001", "reporter_name": "Siti"},
    )
    assert text.subject == "[LAPOR] Laporan Anda diterima - LPR-0000000001"
    assert "Yth. Siti" in text.body
    assert "3 hari kerja" in text.body
    assert "Infrastruktur dan Pekerjaan Umum" in text.body
    assert "Kota Banjarmasin" in text.body
    assert "(English)" in text.body


def test_agency_notice_for_an_anonymous_report_says_anonymous_and_names_nobody() -> None:
    facts = case_facts(_submitted(anonymous=True))
    assert "reporter_name" not in facts
    text = Renderer().render(
        "case.dispatched.agency.email",
        "id",
        "63",
        {
            **facts,
            "tracking_id": "LPR-0000000001",
            "agency_name": "Dinas PUPR",
            "rule": "region-category",
        },
    )
    assert "Anonim (identitas dirahasiakan)" in text.body
    assert "Jalan Pramuka berlubang besar." in text.body
    assert "kewenangan wilayah dan kategori layanan" in text.body


def test_a_province_can_override_a_template(tmp_path: object) -> None:
    from pathlib import Path

    folder = Path(str(tmp_path)) / "63" / "id"
    folder.mkdir(parents=True)
    (folder / "complaint.submitted.reporter.email.j2").write_text(
        "Kalsel: {{ tracking_id }}\n---\nHalo dari Banua.\n"
    )
    renderer = Renderer(Path(str(tmp_path)))
    ctx = {**case_facts(_submitted()), "tracking_id": "LPR-0000000001"}
    assert renderer.render("complaint.submitted.reporter.email", "id", "63", ctx).subject == (
        "Kalsel: LPR-0000000001"
    )
    other = renderer.render("complaint.submitted.reporter.email", "id", "73", ctx)
    assert other.subject.startswith("[LAPOR]")
