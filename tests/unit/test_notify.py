from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lapor_notify.domain.planning import (
    Notice,
    Route,
    agency_routes,
    case_facts,
    delivery_id,
    notices,
    reporter_plan,
    template_names,
)
from lapor_notify.domain.render import Renderer
from lapor_schemas import (
    CaseDispatched,
    ComplaintSubmitted,
)
from tests.factories import dispatched, submitted

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
TID = "LPR-0000000001"
CONTACT = {"_id": TID, "anonymous": False, "name": "Siti", "email": "siti@warga.example"}


def _submitted(*, contactable: bool = True, anonymous: bool = False) -> ComplaintSubmitted:
    return submitted(reporter_contactable=contactable, anonymous=anonymous)


def _dispatched(email: str | None = "pupr.6371@instansi.lapor.example") -> CaseDispatched:
    return dispatched(email=email)


def routes_of(
    event: Any,
    *,
    facts: dict[str, Any] | None = None,
    contact: dict[str, Any] | None = CONTACT,
    entry: dict[str, Any] | None = None,
) -> list[tuple[Notice, Route]]:
    """What the service plans for ``event`` (the inbox first for reporters)."""
    out = []
    for notice in notices(event, facts):
        if notice.role == "agency":
            routes = agency_routes(notice, entry)
        else:
            routes = [Route("inbox", "reporter", None), *reporter_plan(contact, facts)[1]]
        out.extend((notice, r) for r in routes)
    return out


def test_submission_acknowledges_the_reporter_once_per_channel() -> None:
    event = _submitted()
    planned = routes_of(event)
    assert [(n.role, r.channel, r.address) for n, r in planned] == [
        ("reporter", "inbox", None),
        ("reporter", "email", "siti@warga.example"),
    ]
    ids = [delivery_id(n, r) for n, r in planned]
    assert ids == [f"{event.id}:reporter:inbox", f"{event.id}:reporter:email"]
    assert [delivery_id(n, r) for n, r in routes_of(event)] == ids  # same event, same ids


def test_reporter_channels_follow_their_choice_and_their_addresses() -> None:
    phone = {"_id": TID, "anonymous": True, "phone": "+6281234567890"}
    both = {**CONTACT, "phone": "+6281234567890"}
    wa = {**both, "channels": ["whatsapp"]}
    assert reporter_plan(phone, None) == ("routes", [Route("sms", "reporter", "+6281234567890")])
    assert [r.channel for r in reporter_plan(both, None)[1]] == ["email", "sms"]
    assert reporter_plan(wa, None) == (
        "routes",
        [Route("whatsapp", "reporter", "+6281234567890")],
    )
    # no contact yet: wait for it, unless the report says there is none to wait for
    assert reporter_plan(None, {"reporter_contactable": True}) == ("wait", [])
    assert reporter_plan(None, None) == ("wait", [])
    assert reporter_plan(None, {"reporter_contactable": False}) == ("inbox_only", [])


def test_dispatch_tells_the_agency_by_email_and_inbox_and_its_webhook_if_registered() -> None:
    event = _dispatched()
    planned = [(n.role, r.channel, r.recipient, r.address) for n, r in routes_of(event)]
    assert ("agency", "email", "63.71.pupr", "pupr.6371@instansi.lapor.example") in planned
    assert ("agency", "inbox", "63.71.pupr", None) in planned
    assert not any(c == "webhook" for _, c, _, _ in planned)
    entry = {
        "webhook": {"url": "https://pupr.example/hook", "secret": "s"},
        "contacts": [
            {"role": "operator", "email": "desk@pupr.example"},
            {"role": "pimpinan", "email": "kadis@pupr.example"},
        ],
    }
    agency = [
        (r.channel, r.address) for n, r in routes_of(event, entry=entry) if n.role == "agency"
    ]
    # the registered operator replaces the directory address; the head is not told of a dispatch
    assert agency == [
        ("email", "desk@pupr.example"),
        ("webhook", "https://pupr.example/hook"),
        ("inbox", None),
    ]
    no_email = [r.channel for n, r in routes_of(_dispatched(email=None)) if n.role == "agency"]
    assert no_email == ["inbox"]


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
    facts = {"agency_id": "63.71.pupr", "agency_name": "Dinas PUPR", "agency_email": "a@b.example"}
    told = {
        (e.type, getattr(e.data, "recipient", "")): sorted(n.role for n in notices(e, facts))
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
    [notice] = notices(escalated, facts)
    assert notice.fallback_email == "kominfo.6371@instansi.lapor.example"
    disputed = next(e for e in _lifecycle_events() if e.type == "case.disputed")
    assert notices(disputed, facts)[0].agency_id == "63.71.pupr"  # the agency in charge
    assert notices(disputed, {}) == []  # nobody in charge yet: nobody to tell


@pytest.mark.parametrize("anonymous", [True, False])
def test_every_template_renders_and_agency_messages_never_name_the_reporter(
    anonymous: bool,
) -> None:
    facts = {
        **case_facts(_submitted(anonymous=anonymous)),
        "agency_id": "63.71.pupr",
        "agency_name": "Dinas PUPR",
        "agency_email": "pupr@instansi.lapor.example",
    }
    renderer = Renderer()
    events = [_submitted(anonymous=anonymous), _dispatched(), *_lifecycle_events()]
    rendered = 0
    for event in events:
        for notice in notices(event, facts):
            context = {**facts, **notice.context, "tracking_id": TID}
            if notice.role == "reporter" and not anonymous:
                context["reporter_name"] = "Siti Rahmah"
            for channel in ("email", "inbox", "webhook") if notice.role == "agency" else ("email",):
                text = renderer.render(template_names(notice, channel), "id", "63", context)
                assert text.subject.startswith("[LAPOR]")
                assert TID in text.subject + text.body
                assert "(English)" in text.body
                if notice.role == "agency":
                    assert "Siti" not in text.body
                rendered += 1
    assert rendered == 1 + 1 + 3 + 6 + 3 * 3  # received, dispatched (both), lifecycle
    closed = next(e for e in _lifecycle_events() if e.type == "case.closed")
    body = renderer.render(
        "case.closed.reporter.email",
        "id",
        "63",
        {**facts, **notices(closed, facts)[0].context, "tracking_id": TID},
    ).body
    assert "tidak ada tanggapan" in body
    assert "penilaian 1 sampai 5" in body.replace("Beri penilaian", "penilaian")


def test_the_coordinator_is_reminded_to_verify() -> None:
    from lapor_schemas import Actor, AgencyRef, CaseReminder, ReminderData

    due = NOW + timedelta(days=3)
    coordinator = AgencyRef(
        id="63.71.kominfo",
        name="Diskominfo Kota Banjarmasin",
        region_code="63.71",
        email="kominfo.6371@instansi.lapor.example",
    )
    event = CaseReminder(
        source="lapor-routing",
        tenant="63",
        subject=TID,
        correlation_id=TID,
        data=ReminderData(
            tracking_id=TID,
            status="submitted",
            at=NOW,
            actor=Actor(kind="system", id="lapor-routing"),
            stage="verify",
            recipient="coordinator",
            due_at=due,
            agency=coordinator,
        ),
    )
    [notice] = notices(event, {})
    assert (notice.role, notice.agency_id) == ("agency", "63.71.kominfo")
    [email, _inbox] = agency_routes(notice, None)
    assert email.address == "kominfo.6371@instansi.lapor.example"
    facts = case_facts(_submitted())
    text = Renderer().render(
        template_names(notice, "email"),
        "id",
        "63",
        {**facts, **notice.context, "agency_name": coordinator.name, "tracking_id": TID},
    )
    assert "verifikasi" in text.body
    assert "26 November 2026" in text.body


def test_dates_are_written_in_bahasa_indonesia() -> None:
    from lapor_notify.domain.render import tanggal

    assert tanggal(datetime(2026, 11, 30, 15, 59, tzinfo=UTC)) == "30 November 2026"
    assert tanggal("2027-01-05T00:00:00+00:00") == "5 Januari 2027"


@pytest.mark.parametrize("channel", ["sms", "whatsapp"])
@pytest.mark.parametrize("confidential", [False, True])
def test_text_messages_are_short_and_carry_no_content_of_confidential_reports(
    confidential: bool, channel: str
) -> None:
    facts = {
        **case_facts(_submitted()),
        "confidential": confidential,
        "agency_id": "63.71.pupr",
        "agency_name": "Dinas PUPR",
    }
    renderer = Renderer()
    events = [_submitted(), _dispatched(), *_lifecycle_events()]
    texts = []
    for event in events:
        for notice in notices(event, facts):
            if notice.role != "reporter":
                continue
            body = renderer.render(
                template_names(notice, channel),  # type: ignore[arg-type]
                "id",
                "63",
                {**facts, **notice.context, "tracking_id": TID},
            ).body.strip()
            assert body.startswith("LAPOR!")
            assert TID in body
            assert len(body) <= 320  # two SMS at most
            texts.append(body)
    assert len(texts) == 8
    joined = " ".join(texts)
    assert ("Sudah ditambal" in joined) is not confidential
    assert ("spam" in joined) is not confidential


def test_english_when_the_reporter_asked_for_it_else_bahasa_indonesia() -> None:
    facts = {**case_facts(_submitted()), "agency_name": "Dinas PUPR"}
    renderer = Renderer()
    [notice] = [n for n in notices(_dispatched(), facts) if n.role == "reporter"]
    ctx = {**facts, **notice.context, "tracking_id": TID}
    english = renderer.render(template_names(notice, "email"), "en", "63", ctx)
    indonesian = renderer.render(template_names(notice, "email"), "id", "63", ctx)
    assert "forwarded" in english.body
    assert "diteruskan" in indonesian.body
    assert english.subject != indonesian.subject
    # a template that exists only in Bahasa Indonesia is used for English readers too
    [marked] = [e for e in _lifecycle_events() if e.type == "case.marked_repeat"]
    [n] = notices(marked, facts)
    text = renderer.render(
        template_names(n, "email"), "en", "63", {**facts, **n.context, "tracking_id": TID}
    )
    assert text.subject.startswith("[LAPOR]")


def test_an_email_never_carries_a_line_break_in_a_header_and_bad_addresses_are_permanent() -> None:
    import pytest

    from lapor_notify.adapters.smtp import SmtpChannel
    from lapor_notify.ports import Outgoing, SendError
    from lapor_notify.settings import NotifySettings

    channel = SmtpChannel(NotifySettings())
    msg = channel.build(
        Outgoing(
            id="e:1:agency:email",
            tracking_id="LPR-ABCDEFGHJK",
            address="pupr@instansi.example",
            subject="Laporan baru: Jalan\r\nBcc: victim@example.com rusak",
            body="isi",
        )
    )
    assert "\n" not in msg["Subject"]
    assert msg["Bcc"] is None
    assert msg["Subject"].startswith("Laporan baru: Jalan Bcc:")
    for address in ("pupr@instansi.exämple", "bukan alamat", "a@b\r\nBcc: x@y.z"):
        with pytest.raises(SendError) as err:
            channel.build(
                Outgoing(id="e:2", tracking_id="LPR-1", address=address, subject="s", body="b")
            )
        assert err.value.retryable is False


async def test_webhook_targets_must_be_public_and_https_in_production() -> None:
    import pytest

    from lapor_notify.domain.targets import TargetRefusedError, check_target

    table = {
        "hooks.example.org": ["93.184.216.34"],
        "rebound.example.org": ["93.184.216.34", "10.1.2.3"],
        "v6.example.org": ["2606:4700::1111"],
    }

    async def resolve(host: str, port: int) -> list[str]:
        if host in table:
            return table[host]
        try:
            import ipaddress

            return [str(ipaddress.ip_address(host.strip("[]")))]
        except ValueError as exc:
            raise OSError("no such host") from exc

    await check_target("https://hooks.example.org/x", production=True, resolve=resolve)
    await check_target("https://v6.example.org/x", production=True, resolve=resolve)
    await check_target("http://hooks.example.org/x", production=False, resolve=resolve)
    await check_target(
        "http://127.0.0.1:8026/send", production=False, resolve=resolve, allowed=["127.0.0.1:8026"]
    )
    for url, production in (
        ("http://hooks.example.org/x", True),
        ("https://rebound.example.org/x", True),
        ("https://127.0.0.1/x", False),
        ("https://100.64.0.1/x", False),
        ("https://169.254.169.254/x", False),
        ("https://[fe80::1]/x", False),
        ("https://[::ffff:10.0.0.1]/x", False),
        ("https://nowhere.invalid/x", False),
        ("ftp://hooks.example.org/x", False),
        ("http://127.0.0.1:8027/send", False),
    ):
        with pytest.raises(TargetRefusedError):
            await check_target(
                url, production=production, resolve=resolve, allowed=["127.0.0.1:8026"]
            )


async def test_a_webhook_is_checked_again_at_send_time_and_refused_for_good() -> None:
    import pytest

    from lapor_notify.adapters.gateway import WebhookSender
    from lapor_notify.ports import SendError

    async def now_private(host: str, port: int) -> list[str]:
        return ["10.0.0.7"]  # the name was re-pointed after registration

    sender = WebhookSender(resolve=now_private, production=True)
    try:
        with pytest.raises(SendError) as err:
            await sender.send(
                url="https://hooks.example.org/x", secret="s", payload={}, delivery_id="d"
            )
    finally:
        await sender.close()
    assert err.value.retryable is False
    assert "non-public" in str(err.value)


async def test_a_webhook_host_that_does_not_resolve_in_time_is_refused_not_a_hang() -> None:
    import asyncio

    import pytest

    from lapor_notify.domain.targets import TargetRefusedError, check_target

    async def stuck(host: str, port: int) -> list[str]:
        await asyncio.sleep(30)  # no DNS answer (as on an offline machine)
        return []

    with pytest.raises(TargetRefusedError, match="does not resolve"):
        await check_target("https://0.com/x", production=True, resolve=stuck, resolve_timeout=0.1)


@pytest.mark.parametrize("lang", ["id", "en"])
def test_every_message_to_the_reporter_links_back_to_the_report_never_with_the_secret(
    lang: str,
) -> None:
    """Notices lead back: e-mail, SMS and WhatsApp carry the follow page with the tracking
    id filled in; the secret (which would open a confidential report) never travels."""
    from lapor_kit.auth import SecretMinter

    secret = SecretMinter(b"k" * 32).mint(TID)
    facts = {**case_facts(_submitted()), "agency_id": "63.71.pupr", "agency_name": "Dinas PUPR"}
    renderer = Renderer(portal_url="https://lapor.example/")
    link = f"https://lapor.example/lacak?nomor={TID}"
    seen = 0
    for event in [_submitted(), _dispatched(), *_lifecycle_events()]:
        for notice in notices(event, facts):
            if notice.role != "reporter":
                continue
            for channel in ("email", "sms", "whatsapp"):
                text = renderer.render(
                    template_names(notice, channel),  # type: ignore[arg-type]
                    lang,
                    "63",
                    {**facts, **notice.context, "tracking_id": TID},
                )
                assert link in text.body, (notice.cause_event_type, channel)
                assert secret not in text.subject + text.body
                assert "case." not in text.subject  # a subject in words, never a code
                seen += 1
    assert seen == 8 * 3


def test_a_message_from_the_reporter_reaches_the_agency_in_charge() -> None:
    from lapor_schemas import ReplyData, ReporterMessaged

    facts = {
        **case_facts(_submitted()),
        "agency_id": "63.71.pupr",
        "agency_name": "Dinas PUPR",
        "agency_email": "pupr.6371@instansi.lapor.example",
    }
    event = ReporterMessaged(
        source="lapor-intake",
        tenant="63",
        subject=TID,
        correlation_id=TID,
        data=ReplyData(tracking_id=TID, text="Kapan diaspal?", channel="web", replied_at=NOW),
    )
    [notice] = notices(event, facts)
    assert (notice.role, notice.agency_id) == ("agency", "63.71.pupr")
    assert [r.channel for r in agency_routes(notice, None)] == ["email", "inbox"]
    text = Renderer().render(
        template_names(notice, "email"), "id", "63", {**facts, **notice.context, "tracking_id": TID}
    )
    assert "Kapan diaspal?" in text.body
    assert "tetap terbuka" in text.body
    assert notices(event, {}) == []  # no agency in charge yet: the verifier reads the history
