from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lapor_notify.domain.planning import case_facts, plan
from lapor_notify.domain.render import Renderer
from lapor_schemas import (
    CaseDispatched,
    ComplaintSubmitted,
)
from tests.factories import dispatched, submitted

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
TID = "LPR-0000000001"


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
    reporter, delivery = plan(event, NOW)
    assert (reporter.role, reporter.template) == ("reporter", "case.dispatched.reporter.email")
    assert delivery.role == "agency"
    assert delivery.address == "pupr.6371@instansi.lapor.example"
    assert delivery.id == f"{event.id}:63.71.pupr:email"
    assert [d.role for d in plan(_dispatched(email=None), NOW)] == ["reporter"]


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


def _lifecycle_events() -> list[Any]:
    from lapor_schemas import (
        Actor,
        AgencyRef,
        CaseClosed,
        CaseDisputed,
        CaseEscalated,
        CaseFollowedUp,
        CaseInfoRequested,
        CaseMarkedRepeat,
        CaseRejected,
        CaseReminder,
        EscalationData,
        MarkedRepeatData,
        ReminderData,
        TransitionData,
    )

    system = Actor(kind="system")
    due = NOW + timedelta(days=7)
    base = {"tracking_id": TID, "at": NOW, "actor": system}
    env = {
        "source": "lapor-routing",
        "tenant": "63",
        "subject": TID,
        "correlation_id": TID,
        "time": NOW,
    }
    to = AgencyRef(
        id="63.71.kominfo",
        name="Diskominfo Kota Banjarmasin",
        region_code="63.71",
        email="kominfo.6371@instansi.lapor.example",
    )
    return [
        CaseRejected(**env, data=TransitionData(**base, status="rejected", reason="spam")),
        CaseInfoRequested(
            **env,
            data=TransitionData(**base, status="needs_info", text="Di mana tepatnya?", due_at=due),
        ),
        CaseMarkedRepeat(
            **env, data=MarkedRepeatData(**base, status="marked_repeat", repeat_of="LPR-0000000009")
        ),
        CaseFollowedUp(
            **env,
            data=TransitionData(**base, status="followed_up", text="Sudah ditambal.", due_at=due),
        ),
        CaseDisputed(
            **env,
            data=TransitionData(**base, status="disputed", text="Belum ditambal!", due_at=due),
        ),
        CaseClosed(**env, data=TransitionData(**base, status="closed", reason="no_reply")),
        CaseEscalated(
            **env,
            data=EscalationData(
                **base, status="dispatched", level=1, stage="follow_up", to=to, due_at=due
            ),
        ),
        CaseReminder(
            **env,
            data=ReminderData(
                **base, status="dispatched", stage="follow_up", recipient="agency", due_at=due
            ),
        ),
        CaseReminder(
            **env,
            data=ReminderData(
                **base, status="followed_up", stage="reply", recipient="reporter", due_at=due
            ),
        ),
    ]


def test_every_lifecycle_event_reaches_the_people_it_concerns() -> None:
    told = {
        (e.type, getattr(e.data, "recipient", "")): sorted(d.role for d in plan(e, NOW))
        for e in _lifecycle_events()
    }
    assert told == {
        ("case.rejected", ""): ["reporter"],
        ("case.info_requested", ""): ["reporter"],
        ("case.marked_repeat", ""): ["reporter"],
        ("case.followed_up", ""): ["reporter"],
        ("case.disputed", ""): ["agency"],
        ("case.closed", ""): ["reporter"],
        ("case.escalated", ""): ["agency"],
        ("case.reminder", "agency"): ["agency"],
        ("case.reminder", "reporter"): ["reporter"],
    }
    escalated = next(e for e in _lifecycle_events() if e.type == "case.escalated")
    assert plan(escalated, NOW)[0].address == "kominfo.6371@instansi.lapor.example"


@pytest.mark.parametrize("anonymous", [True, False])
def test_every_template_renders_and_agency_messages_never_name_the_reporter(
    anonymous: bool,
) -> None:
    facts = {
        **case_facts(_submitted(anonymous=anonymous)),
        "agency_name": "Dinas PUPR",
        "agency_email": "pupr@instansi.lapor.example",
    }
    renderer = Renderer()
    events = [_submitted(anonymous=anonymous), _dispatched(), *_lifecycle_events()]
    rendered = 0
    for event in events:
        for delivery in plan(event, NOW):
            context = {**facts, **delivery.context, "tracking_id": TID}
            if delivery.role == "reporter" and not anonymous:
                context["reporter_name"] = "Siti Rahmah"
            text = renderer.render(delivery.template, "id", "63", context)
            assert text.subject.startswith("[LAPOR]")
            assert TID in text.subject + text.body
            assert "(English)" in text.body
            if delivery.role == "agency":
                assert "Siti" not in text.body
            rendered += 1
    assert rendered == 12  # 1 received + 2 dispatched + 9 lifecycle messages
    closed = next(e for e in _lifecycle_events() if e.type == "case.closed")
    body = renderer.render(
        "case.closed.reporter.email",
        "id",
        "63",
        {**facts, **plan(closed, NOW)[0].context, "tracking_id": TID},
    ).body
    assert "tidak ada tanggapan" in body
    assert "penilaian 1 sampai 5" in body.replace("Beri penilaian", "penilaian")


def test_dates_are_written_in_bahasa_indonesia() -> None:
    from lapor_notify.domain.render import tanggal

    assert tanggal(datetime(2026, 11, 30, 15, 59, tzinfo=UTC)) == "30 November 2026"
    assert tanggal("2027-01-05T00:00:00+00:00") == "5 Januari 2027"


def test_reporters_get_one_delivery_per_channel_agencies_email() -> None:
    both = ("email", "sms")
    submitted = plan(_submitted(), NOW, both)
    assert [(d.role, d.channel, d.template) for d in submitted] == [
        ("reporter", "email", "complaint.submitted.reporter.email"),
        ("reporter", "sms", "complaint.submitted.reporter.sms"),
    ]
    assert len({d.id for d in submitted}) == 2
    dispatched = plan(_dispatched(), NOW, both)
    assert sorted((d.role, d.channel) for d in dispatched) == [
        ("agency", "email"),
        ("reporter", "email"),
        ("reporter", "sms"),
    ]


@pytest.mark.parametrize("confidential", [False, True])
def test_sms_texts_are_short_and_carry_no_content_of_confidential_reports(
    confidential: bool,
) -> None:
    facts = {**case_facts(_submitted()), "confidential": confidential, "agency_name": "Dinas PUPR"}
    renderer = Renderer()
    events = [_submitted(), _dispatched(), *_lifecycle_events()]
    texts = []
    for event in events:
        for d in plan(event, NOW, ("email", "sms")):
            if d.channel != "sms":
                continue
            body = renderer.render(
                d.template, "id", "63", {**facts, **d.context, "tracking_id": TID}
            ).body.strip()
            assert body.startswith("LAPOR!")
            assert TID in body
            assert len(body) <= 320  # two SMS at most
            texts.append(body)
    assert len(texts) == 8
    joined = " ".join(texts)
    assert ("Sudah ditambal" in joined) is not confidential
    assert ("spam" in joined) is not confidential
