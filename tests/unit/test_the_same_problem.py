"""Similar reports before filing and the people who join one ("Ini masalah yang sama"):
intake finds only public reports near the spot and counts each person once; routing keeps
the count for the staff; notify tells them the agency's answer (never a coordinator's note
or the reporter's own words); words for every event they hear of."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from lapor_intake.domain.model import public_view
from lapor_notify.domain.planning import SUPPORTERS_TOLD, supporter_routes
from lapor_notify.domain.render import Renderer
from lapor_notify.domain.sending import RetryPolicy
from lapor_notify.domain.stopping import StopCodes
from lapor_notify.service import NotifyService
from lapor_schemas import (
    CaseFollowedUp,
    CaseSupported,
    Channel,
    SupportData,
    SupporterContact,
    SupporterContactData,
    topics,
    words,
)
from lapor_schemas.events import CASE_EVENT_TYPES, Actor, TransitionData
from tests import factories
from tests.unit.test_intake import NOW as INTAKE_NOW
from tests.unit.test_intake import FakeStore as IntakeStore
from tests.unit.test_intake import _service
from tests.unit.test_lifecycle import NOW as ROUTING_NOW
from tests.unit.test_lifecycle import machine, opened
from tests.unit.test_notify_service import NOW as NOTIFY_NOW
from tests.unit.test_notify_service import FakeChannel, make
from tests.unit.test_notify_service import FakeStore as NotifyStore

TID = factories.TID


def _stored(tid: str, lat: float, lon: float, **extra: Any) -> dict[str, Any]:
    return {
        "_id": tid,
        "tenant": "63",
        "title": f"Lampu mati {tid}",
        "description": "Lampu jalan mati.",
        "category": "infrastruktur",
        "region_code": "63.71",
        "status": "dispatched",
        "confidential": False,
        "verified": True,
        "location": {"lat": lat, "lon": lon},
        "submitted_at": INTAKE_NOW - timedelta(days=3),
        "history": [],
        **extra,
    }


def _intake() -> tuple[IntakeStore, Any]:
    store = IntakeStore()
    for doc in (
        _stored("LPR-000000000A", -3.3300, 114.6000),  # 0 m
        _stored("LPR-000000000B", -3.3320, 114.6000),  # 220 m
        _stored("LPR-000000000C", -3.3400, 114.6000),  # 1.1 km: outside 1 km
        _stored("LPR-000000000D", -3.3300, 114.6000, confidential=True),
        _stored("LPR-000000000E", -3.3300, 114.6000, verified=False),
        _stored("LPR-000000000F", -3.3300, 114.6000, hidden=True),
        _stored("LPR-000000000G", -3.3300, 114.6000, category="kesehatan"),
        _stored("LPR-000000000H", -3.3300, 114.6000, submitted_at=INTAKE_NOW - timedelta(days=90)),
        _stored("LPR-000000000J", -3.3301, 114.6001, status="closed"),
    ):
        store.complaints[doc["_id"]] = doc
    return store, _service(store)


async def test_similar_reports_are_public_recent_same_category_and_nearest_first() -> None:
    _, service = _intake()
    found = await service.similar(category="infrastruktur", lat=-3.3300, lon=114.6000, km=1.0)
    assert [(r["_id"], r["distance_m"]) for r in found] == [
        ("LPR-000000000A", 0),
        ("LPR-000000000J", 16),
        ("LPR-000000000B", 222),
    ]
    by_region = await service.similar(category="infrastruktur", region_code="63.71", limit=20)
    ids = {r["_id"] for r in by_region}
    assert ids == {"LPR-000000000A", "LPR-000000000B", "LPR-000000000C", "LPR-000000000J"}
    assert await service.similar(category="infrastruktur") == []  # no place: nothing


async def test_a_supporter_is_counted_once_and_only_a_contact_goes_to_notify() -> None:
    store, service = _intake()
    tid = "LPR-000000000A"
    outcome = await service.support(
        tid, key="k" * 32, email="Dukung@Warga.example", channels=["email"]
    )
    assert outcome == ("ok", 1)
    again = await service.support(tid, key="x" * 32, email="dukung@warga.example")
    assert again == ("already", 1)  # the same address, another form: counted once
    nobody = await service.support(tid, key="n" * 32)
    assert nobody == ("ok", 2)
    assert await service.support(tid, key="n" * 32) == ("already", 2)
    kinds = [(m.topic, json.loads(m.value)["type"]) for m in store.outbox]
    assert kinds == [
        (topics.CASES, "case.supported"),
        (topics.CONTACTS, "supporter.contact"),
        (topics.CASES, "case.supported"),  # no contact: nobody to tell, still counted
    ]
    counts = [json.loads(m.value)["data"].get("supporters") for m in store.outbox]
    assert counts == [1, None, 2]
    assert b"Dukung@Warga" not in store.outbox[0].value  # the case log names nobody
    for hidden in ("LPR-000000000D", "LPR-000000000E", "LPR-000000000F", "LPR-0000000099"):
        assert await service.support(hidden, key="k" * 32) == ("unknown", 0)
    assert await service.support("LPR-000000000J", key="k" * 32) == ("not_now", 0)
    assert public_view(store.complaints[tid])["supporters"] == 2


def test_a_public_spot_is_rounded_to_about_100_m() -> None:
    view = public_view(_stored(TID, -3.331234, 114.598765))
    assert view["location"] == {"lat": -3.331, "lon": 114.599}


def _supported(n: int) -> CaseSupported:
    return CaseSupported(
        source="lapor-intake",
        tenant="63",
        subject=TID,
        correlation_id=TID,
        time=ROUTING_NOW,
        data=SupportData(
            tracking_id=TID, supporters=n, channel=Channel.WEB, supported_at=ROUTING_NOW
        ),
    )


def test_routing_keeps_the_largest_count_and_changes_nothing_else() -> None:
    lc = machine()
    case = opened(lc)
    effects = lc.reporter_event(case, _supported(3), ROUTING_NOW)
    assert effects.sets == {"supporters": 3}
    assert effects.history == []
    assert effects.events == []
    after = effects.applied_to(case)
    late = lc.reporter_event(after, _supported(2), ROUTING_NOW)  # an older count, late
    assert late.sets == {"supporters": 3}
    assert after["status"] == case["status"]


def _supporter(email: str | None, phone: str | None, sid: str, **extra: Any) -> SupporterContact:
    return SupporterContact(
        source="lapor-intake",
        tenant="63",
        subject=TID,
        correlation_id=TID,
        data=SupporterContactData(
            tracking_id=TID, supporter_id=sid, email=email, phone=phone, **extra
        ),
    )


def _followed_up(text: str) -> CaseFollowedUp:
    return CaseFollowedUp(
        source="lapor-routing",
        tenant="63",
        subject=TID,
        correlation_id=TID,
        time=NOTIFY_NOW,
        data=TransitionData(
            tracking_id=TID,
            status="followed_up",
            at=NOTIFY_NOW,
            actor=Actor(kind="staff", role="agency_staff"),
            text=text,
        ),
    )


async def test_supporters_hear_the_agencys_answer_but_not_a_dispatch_note() -> None:
    store = NotifyStore()
    service, chans = make(store)
    await service.handle_contacts(
        [
            _supporter("dukung@warga.example", None, "a" * 16, channels=["email"]),
            _supporter(None, "+628111", "b" * 16, language="en"),
        ]
    )
    await service.handle_events([factories.submitted(), factories.dispatched()])
    await service.handle_events([_followed_up("Lampu sudah diganti hari ini.")])
    supporters = [d for d in store.docs.values() if d["role"] == "supporter"]
    by = {(d["cause_event_type"], d["recipient"], d["channel"]) for d in supporters}
    assert by == {
        ("case.dispatched", "supporter~" + "a" * 16, "email"),
        ("case.dispatched", "supporter~" + "b" * 16, "sms"),
        ("case.followed_up", "supporter~" + "a" * 16, "email"),
        ("case.followed_up", "supporter~" + "b" * 16, "sms"),
    }
    answer = next(
        d
        for d in supporters
        if d["cause_event_type"] == "case.followed_up" and d["channel"] == "email"
    )
    assert "Lampu sudah diganti hari ini." in answer["body"]
    assert answer["subject"].startswith("[LAPOR] Instansi menindaklanjuti laporan yang Anda dukung")
    sms = next(
        d
        for d in supporters
        if d["cause_event_type"] == "case.followed_up" and d["channel"] == "sms"
    )
    assert "the report you joined" in sms["body"]  # in the language they chose
    note = next(
        d
        for d in supporters
        if d["cause_event_type"] == "case.dispatched" and d["channel"] == "email"
    )
    assert "Yth. Bapak/Ibu" in note["body"]
    assert "Pelapor" not in note["subject"]
    assert not any(
        d["role"] == "supporter" and d["channel"] == "inbox" for d in store.docs.values()
    )
    assert chans  # the deliveries go out as send jobs like any other
    assert any(":supporter~" in m["delivery_id"] for m in store.taken(topics.NOTIFY_SEND["email"]))


async def test_a_batch_without_an_event_supporters_hear_of_reads_no_supporters() -> None:
    store = NotifyStore()
    service, _ = make(store)
    await service.handle_events([factories.submitted()])
    assert store.supporter_reads == 0


def test_supporters_have_words_for_each_event_they_hear_of_and_only_real_events() -> None:
    assert SUPPORTERS_TOLD <= CASE_EVENT_TYPES
    for kind in SUPPORTERS_TOLD:
        assert words.supporter_notice(kind, "id") != words.supporter_notice("x", "id")
        assert words.supporter_notice(kind, "en") != words.supporter_notice(kind, "id")
    assert "case.supported" in words.EVENT
    routes = supporter_routes({"supporter_id": "c" * 16, "email": "a@b.example", "channels": []})
    assert [(r.channel, r.recipient) for r in routes] == [("email", "supporter~" + "c" * 16)]


def test_a_renderer_without_portal_still_renders_the_supporters_template() -> None:
    rendered = Renderer().render(
        ["case.closed.supporter.email", "supporter.email"],
        "id",
        "63",
        {"tracking_id": TID, "title": "Lampu", "kabar": "Laporan yang Anda dukung selesai"},
    )
    assert "Laporan yang Anda dukung selesai" in rendered.subject


async def test_a_supporter_whose_contact_comes_after_the_answer_still_hears_it_once() -> None:
    """The contacts topic may lag the case log: someone joins, the agency answers at once,
    and notify plans the answer before it has their contact. The contact's arrival catches
    up on the latest news after they joined; a second arrival sends nothing more."""
    store = NotifyStore()
    service, _ = make(store)
    await service.handle_events([factories.submitted(), factories.dispatched()])
    joined_at = NOTIFY_NOW - timedelta(minutes=1)
    await service.handle_events([_followed_up("Lampu sudah diganti.")])  # at NOTIFY_NOW
    assert not [d for d in store.docs.values() if d["role"] == "supporter"]
    late = _supporter("telat@warga.example", None, "d" * 16, channels=["email"])
    late = late.model_copy(update={"time": joined_at})
    assert await service.handle_contacts([late]) == 1
    [mail] = [d for d in store.docs.values() if d["role"] == "supporter"]
    assert mail["cause_event_type"] == "case.followed_up"
    assert "Lampu sudah diganti." in mail["body"]
    assert await service.handle_contacts([late]) == 0  # redelivered: nothing twice
    after = _supporter("nanti@warga.example", None, "e" * 16, channels=["email"])
    after = after.model_copy(update={"time": NOTIFY_NOW + timedelta(minutes=5)})
    assert await service.handle_contacts([after]) == 0  # the news is older than they are


async def test_a_channel_named_twice_is_one_delivery_and_never_stops_the_case_log() -> None:
    """Found by the fuzzer: a supporter who asked for SMS twice made the plan insert the
    same delivery twice; the insert failed on every retry and notify stopped reading the
    case log behind it. Reporters' channels are read the same way."""
    store = NotifyStore()
    service, chans = make(store)
    await service.handle_contacts(
        [_supporter(None, "+6281327484216", "f" * 16, channels=["whatsapp", "sms", "sms"])]
    )
    from tests.unit.test_notify_service import contact

    await service.handle_contacts(
        [contact(email="siti@warga.example", channels=["email", "email"])]
    )
    await service.handle_events([factories.submitted(reporter_contactable=True)])
    assert await service.handle_events([factories.dispatched()]) > 0
    ids = [d["_id"] for d in store.docs.values()]
    assert len(ids) == len(set(ids))
    mine = [d for d in store.docs.values() if d["recipient"] == "supporter~" + "f" * 16]
    assert sorted(d["channel"] for d in mine) == ["sms"]  # no WhatsApp provider here
    reporter_mail = [
        d for d in store.docs.values() if d["role"] == "reporter" and d["channel"] == "email"
    ]
    assert len(reporter_mail) == 2  # received, dispatched: once each
    assert chans["sms"] is not None


def test_a_stop_code_names_its_supporter_and_an_altered_one_names_nobody() -> None:
    codes = StopCodes(b"kunci")
    code = codes.mint("a" * 16)
    assert codes.supporter_of(code) == "a" * 16
    assert codes.supporter_of(f"  {code} ") == "a" * 16  # pasted with spaces
    assert codes.supporter_of(codes.mint("b" * 16)) == "b" * 16
    forged = "b" * 16 + code[16:]  # another person's id with this MAC
    altered = code[:-1] + ("A" if code[-1] != "A" else "B")
    for bad in (forged, altered, StopCodes(b"lain").mint("a" * 16), "", "x" * 64, "é" * 33):
        assert codes.supporter_of(bad) is None, bad


async def test_one_who_stopped_hears_nothing_more_even_when_their_contact_comes_again() -> None:
    """The e-mail carries a link with the person's stop code (in the fragment: never sent to
    a server); once stopped, the report's next news goes to the others only, and a
    redelivered contact event does not undo the stop."""
    store = NotifyStore()
    codes = StopCodes(b"kunci")
    service = NotifyService(
        store,
        {"email": FakeChannel(), "sms": FakeChannel()},
        Renderer(portal_url="https://lapor.example"),
        clock=lambda: NOTIFY_NOW,
        policy=RetryPolicy(3, (1.0, 4.0)),
        stop_codes=codes,
    )
    leaving = _supporter("pergi@warga.example", None, "a" * 16, channels=["email"])
    staying = _supporter("tetap@warga.example", None, "b" * 16, channels=["email"])
    await service.handle_contacts([leaving, staying])
    await service.handle_events([factories.submitted(), factories.dispatched()])
    first = next(
        d
        for d in store.docs.values()
        if d["recipient"] == "supporter~" + "a" * 16 and d["channel"] == "email"
    )
    link = f"https://lapor.example/berhenti#{codes.mint('a' * 16)}"
    assert link in first["body"]
    assert f"kode {codes.mint('a' * 16)}" in first["body"]  # to type without the script
    assert "?" not in link  # nothing in the query string, nothing a server logs
    assert await store.stop_supporter(codes.supporter_of(codes.mint("a" * 16)) or "") == TID
    await service.handle_contacts([leaving])  # the same contact event, read again
    await service.handle_events([_followed_up("Lampu sudah diganti.")])
    told = {
        d["recipient"]
        for d in store.docs.values()
        if d["role"] == "supporter" and d["cause_event_type"] == "case.followed_up"
    }
    assert told == {"supporter~" + "b" * 16}


async def test_one_who_joins_while_the_news_is_being_planned_still_hears_it_once() -> None:
    """Found by the browser test in CI: a contact saved after the plan read the supporters
    but before it recorded the news as the latest got nothing (its own catch-up saw the
    older news, the plan did not know it). The plan reads the supporters again after
    recording; the person hears the news once."""
    store = NotifyStore()
    service, _ = make(store)
    await service.handle_events([factories.submitted(), factories.dispatched()])
    late = _supporter("sela@warga.example", None, "e" * 16, channels=["email"])
    late = late.model_copy(update={"time": NOTIFY_NOW + timedelta(minutes=1)})  # after dispatch
    record = store.record_plan
    joined: list[int] = []

    async def record_after_a_join(**kw: Any) -> None:
        if kw["events"] and not joined:  # the contact lands between the read and the record
            joined.append(await service.handle_contacts([late]))
        await record(**kw)

    store.record_plan = record_after_a_join  # type: ignore[method-assign]
    answer = _followed_up("Lampu sudah diganti.")
    await service.handle_events([answer.model_copy(update={"time": NOTIFY_NOW + timedelta(2)})])
    assert joined == [0]  # its own catch-up found only older news
    told = [
        d
        for d in store.docs.values()
        if d["recipient"] == "supporter~" + "e" * 16 and d["cause_event_type"] == "case.followed_up"
    ]
    assert len(told) == 1
    assert await service.handle_contacts([late]) == 0  # the same contact again: nothing more
