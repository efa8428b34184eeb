from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Collection, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from lapor_intake.domain.credentials import Registry, sign
from lapor_intake.domain.errors import from_pydantic
from lapor_intake.domain.model import Accepted, Catalogue, accept, new_tracking_id
from lapor_intake.domain.repeats import Candidate, Indexed, RepeatIndex
from lapor_intake.domain.views import view_update, view_updates
from lapor_intake.handlers import decode_external
from lapor_intake.ports import DuplicateExternalIdError, PublicFilter
from lapor_intake.service import ExternalItem, IntakeService, SubmissionRejectedError
from lapor_kit.auth import SecretMinter
from lapor_kit.outbox import OutMessage
from lapor_schemas import (
    Channel,
    ComplaintSubmission,
    ComplaintSubmitted,
    ExternalSubmission,
    topics,
)
from lapor_schemas.reference import categories, regions
from lapor_schemas.status import FINISHED
from tests.factories import dispatched, submitted

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
CATALOGUE = Catalogue(categories(), regions())
BODY: dict[str, Any] = {
    "title": "Jalan berlubang",
    "description": "Jalan Pramuka berlubang besar di dekat jembatan.",
    "category": "infrastruktur",
    "region_code": "63.71",
    "reporter": {"name": "Siti Rahmah", "email": "siti@warga.example", "phone": "+628123456789"},
}


class FakeStore:
    """In-memory stand-in for the Mongo adapter (unit tests only)."""

    def __init__(self) -> None:
        self.complaints: dict[str, dict[str, Any]] = {}
        self.identities: dict[str, dict[str, Any]] = {}
        self.supporters: dict[str, dict[str, Any]] = {}
        self.outbox: list[OutMessage] = []
        self.race: dict[tuple[str, str], str] = {}
        self.asked_open: list[list[str]] = []

    async def external_ids(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], str]:
        by_key = {(c["channel_id"], c["external_id"]): t for t, c in self.complaints.items()}
        return {k: by_key[k] for k in keys if k in by_key}

    async def request_digest(self, key: tuple[str, str]) -> str | None:
        for c in self.complaints.values():
            if (c["channel_id"], c["external_id"]) == key:
                return c.get("request_sha256")
        return None

    async def add(self, accepted: Sequence[Accepted], extra: Sequence[OutMessage]) -> None:
        stored = {(c["channel_id"], c["external_id"]) for c in self.complaints.values()}
        for a in accepted:
            if a.external_key is not None and a.external_key in stored:  # the unique key
                raise DuplicateExternalIdError(str(a.external_key))
            if a.external_key in self.race:  # another writer got there first
                tid = self.race.pop(a.external_key)
                self.complaints[tid] = {**a.complaint, "_id": tid}
                raise DuplicateExternalIdError(str(a.external_key))
        for a in accepted:
            self.complaints[a.tracking_id] = a.complaint
            if a.identity:
                self.identities[a.tracking_id] = a.identity
            self.outbox.append(OutMessage.of(topics.CASES, a.tracking_id, a.submitted))
            if a.contact:
                self.outbox.append(OutMessage.of(topics.CONTACTS, a.tracking_id, a.contact))
        self.outbox.extend(extra)

    async def get(self, tracking_id: str) -> dict[str, Any] | None:
        return self.complaints.get(tracking_id)

    async def identity(self, tracking_id: str) -> dict[str, Any] | None:
        return self.identities.get(tracking_id)

    def _open(self, c: dict[str, Any]) -> bool:
        return c["status"] not in FINISHED and not c.get("confidential")

    async def open_among(self, tracking_ids: Collection[str]) -> set[str]:
        self.asked_open.append(list(tracking_ids))
        return {t for t in tracking_ids if t in self.complaints and self._open(self.complaints[t])}

    async def recent_open(self, since: datetime) -> list[Indexed]:
        found = [
            Indexed(
                Candidate(t, c["fp"], c.get("repeat_of")),
                c["region_code"],
                c["category"],
                c["submitted_at"],
            )
            for t, c in self.complaints.items()
            if self._open(c) and c["submitted_at"] >= since
        ]
        return sorted(found, key=lambda e: e.submitted_at)

    async def add_reply(self, tracking_id: str, entry: dict[str, Any], message: OutMessage) -> None:
        self.complaints[tracking_id]["history"].append(entry)
        self.outbox.append(message)

    async def public_list(
        self, which: PublicFilter, *, limit: int, skip: int = 0
    ) -> list[dict[str, Any]]:
        found = [d for d in self.complaints.values() if which.admits(d)]
        found.sort(key=lambda d: d["submitted_at"], reverse=True)
        return found[skip : skip + limit]

    async def set_public(self, tracking_id: str, hidden: bool, redactions: Sequence[str]) -> None:
        self.complaints[tracking_id].update(hidden=hidden, public_redactions=list(redactions))

    async def add_supporter(
        self,
        tracking_id: str,
        supporter: dict[str, Any],
        messages: Callable[[int], Sequence[OutMessage]],
    ) -> int | None:
        if supporter["_id"] in self.supporters:
            return None
        self.supporters[supporter["_id"]] = supporter
        doc = self.complaints[tracking_id]
        doc["supporters"] = int(doc.get("supporters") or 0) + 1
        self.outbox.extend(messages(doc["supporters"]))
        return int(doc["supporters"])

    async def apply_views(self, updates: Sequence[tuple[dict[str, Any], dict[str, Any]]]) -> None:
        raise NotImplementedError


REGISTRY = Registry.model_validate(
    {
        "channels": [
            {"id": "baruga-sulsel", "tenants": ["73"], "secret": "s" * 20},
            {"id": "kanal-kalsel", "tenants": ["63"], "secret": "k" * 20},
        ]
    }
)


def _service(store: FakeStore) -> IntakeService:
    counter = itertools.count()
    return IntakeService(
        store,
        CATALOGUE,
        clock=lambda: NOW,
        registry=REGISTRY,
        minter=SecretMinter(b"k"),
        tracking_ids=lambda: f"LPR-{next(counter):010d}",
    )


def test_tracking_ids_are_unambiguous_and_match_the_contract() -> None:
    ids = {new_tracking_id() for _ in range(200)}
    assert len(ids) == 200
    for tid in ids:
        assert tid.startswith("LPR-")
        assert len(tid) == 14
        assert not set(tid[4:]) & set("ILOU")


def test_accept_keeps_identity_off_the_case_log() -> None:
    sub = ComplaintSubmission.model_validate(BODY)
    a = accept(sub, channel=Channel.WEB, now=NOW, tracking_id="LPR-0000000001", region_code="63.71")
    case_log = a.submitted.model_dump_json()
    for secret in ("Siti", "siti@warga.example", "628123456789"):
        assert secret not in case_log
        assert secret not in json.dumps(a.complaint, default=str)
    assert a.identity is not None
    assert a.identity["email"] == "siti@warga.example"
    assert a.contact is not None
    assert a.contact.data.name == "Siti Rahmah"
    assert a.submitted.tenant == "63"
    assert a.submitted.data.reporter_contactable is True


def test_anonymous_contact_carries_no_name() -> None:
    sub = ComplaintSubmission.model_validate({**BODY, "anonymous": True})
    a = accept(sub, channel=Channel.WEB, now=NOW, tracking_id="LPR-0000000001", region_code="63.71")
    assert a.contact is not None
    assert a.contact.data.name is None
    assert a.contact.data.anonymous is True


def test_anonymous_without_contact_publishes_no_contact() -> None:
    sub = ComplaintSubmission.model_validate({**BODY, "anonymous": True, "reporter": None})
    a = accept(sub, channel=Channel.WEB, now=NOW, tracking_id="LPR-0000000001", region_code="63.71")
    assert a.contact is None
    assert a.identity is None
    assert a.submitted.data.reporter_contactable is False


def test_catalogue_refuses_unknown_category_and_region_in_both_languages() -> None:
    sub = ComplaintSubmission.model_validate({**BODY, "category": "sihir", "region_code": "99.99"})
    region, found = CATALOGUE.check(sub)
    assert region is None
    errors = {e.field: e for e in found}
    assert errors["category"].code == "unknown_category"
    assert "sihir" in errors["category"].message
    assert "katalog" in errors["category"].message
    assert "catalogue" in errors["category"].message_en
    assert errors["region_code"].code == "unknown_region"


def test_pydantic_errors_are_translated_with_field_paths() -> None:
    with pytest.raises(ValidationError) as err:
        ComplaintSubmission.model_validate(
            {**BODY, "title": "abc", "reporter": {"name": "X", "email": "not-an-email"}}
        )
    errors = {e.field: e for e in from_pydantic(err.value.errors())}
    assert errors["title"].message == "terlalu pendek (minimal 5 karakter)"
    assert errors["title"].message_en == "is too short (at least 5 characters)"
    assert errors["reporter.email"].code == "invalid_email"


async def test_submit_stores_complaint_identity_and_events_together() -> None:
    store = FakeStore()
    result = await _service(store).submit(
        ComplaintSubmission.model_validate(BODY), channel=Channel.WEB
    )
    tid = result.tracking_id
    assert result.secret == SecretMinter(b"k").mint(tid)
    assert tid in store.complaints
    assert store.identities[tid]["name"] == "Siti Rahmah"
    assert [m.topic for m in store.outbox] == [topics.CASES, topics.CONTACTS]
    assert all(m.key == tid for m in store.outbox)


async def test_submit_refuses_unknown_category_without_storing() -> None:
    store = FakeStore()
    with pytest.raises(SubmissionRejectedError) as err:
        await _service(store).submit(
            ComplaintSubmission.model_validate({**BODY, "category": "sihir"}), channel=Channel.WEB
        )
    assert err.value.errors[0].field == "category"
    assert store.complaints == {}
    assert store.outbox == []


def _ext(external_id: str, **extra: Any) -> ExternalItem:
    return ExternalItem(
        ExternalSubmission.model_validate(
            {**BODY, "channel": "kanal-kalsel", "external_id": external_id, **extra}
        ),
        [],
    )


async def test_external_batch_answers_every_item_and_dedupes() -> None:
    store = FakeStore()
    service = _service(store)
    first = await service.submit_external([_ext("A1")])
    items = [
        _ext("A1"),  # already stored
        _ext("B2"),
        _ext("B2"),  # twice in the same batch
        decode_external(b"{broken", None, REGISTRY),
        _ext("C3", category="sihir"),
    ]
    outcome = await service.submit_external(items)
    r = outcome.receipts
    assert r[0].tracking_id == first.receipts[0].tracking_id
    assert r[0].duplicate is True
    assert r[1].status == "accepted"
    assert r[1].duplicate is False
    assert r[2].tracking_id == r[1].tracking_id
    assert r[2].duplicate is True
    assert r[3].status == "rejected"
    assert r[3].errors[0].code == "unknown_channel"
    assert r[4].status == "rejected"
    assert r[4].external_id == "C3"
    assert outcome.rejected == [3, 4]
    assert len(store.complaints) == 2
    receipts = [m for m in store.outbox if m.topic == topics.INTAKE_RECEIPTS]
    assert len(receipts) == 6


async def test_external_batch_retries_when_a_concurrent_writer_wins() -> None:
    store = FakeStore()
    store.race[("kanal-kalsel", "R1")] = "LPR-WINNER0000"
    outcome = await _service(store).submit_external([_ext("R1")])
    assert outcome.receipts[0].tracking_id == "LPR-WINNER0000"
    assert outcome.receipts[0].duplicate is True


def test_decode_external_reads_ids_from_an_invalid_message() -> None:
    raw = b'{"channel": "baruga-sulsel", "external_id": "Z9", "title": 1}'
    item = decode_external(raw, sign("s" * 20, raw), REGISTRY)
    assert item.submission is None
    assert (item.channel, item.external_id) == ("baruga-sulsel", "Z9")
    assert {e.field for e in item.errors} >= {"title", "description", "category"}


def test_view_update_is_conditional_on_the_event_not_being_applied_yet() -> None:
    event = dispatched()
    update = view_update(event)
    assert update is not None
    flt, change = update
    assert flt == {"_id": "LPR-0000000001", "history.event_id": {"$ne": event.id}}
    assert change["$set"]["status"] == "dispatched"
    assert change["$set"]["agency"]["id"] == "63.71.pupr"


def test_a_batchs_events_become_one_view_update_per_case_without_the_applied_ones() -> None:
    first = dispatched(agency_id="63.71.dinkes", agency_name="Dinas Kesehatan")
    moved = dispatched(agency_id="63.71.pupr", time=datetime(2026, 11, 24, 9, 0, tzinfo=UTC))
    other = dispatched("LPR-0000000002")
    events = [submitted(), first, other, moved, first]  # a repeated copy, a submission
    updates = view_updates(events, {})
    assert [f["_id"] for f, _ in updates] == ["LPR-0000000001", "LPR-0000000002"]
    flt, change = updates[0]
    assert flt["history.event_id"] == {"$nin": [first.id, moved.id]}
    entries = change["$push"]["history"]["$each"]
    assert [e["event_id"] for e in entries] == [first.id, moved.id]
    assert change["$set"]["agency"]["id"] == "63.71.pupr"  # the later event wins
    assert change["$set"]["updated_at"] == moved.time
    # after a crash half-way, only what the view does not have yet is pushed
    again = view_updates(events, {"LPR-0000000001": {first.id}, "LPR-0000000002": {other.id}})
    assert len(again) == 1
    assert again[0][0] == {"_id": "LPR-0000000001", "history.event_id": {"$ne": moved.id}}
    assert again[0][1]["$push"]["history"]["event_id"] == moved.id


def test_decode_external_refuses_unknown_channels_and_bad_signatures() -> None:
    raw = json.dumps(
        {**BODY, "channel": "baruga-sulsel", "external_id": "S1", "region_code": "73.71"}
    ).encode()
    ok = decode_external(raw, sign("s" * 20, raw), REGISTRY)
    assert ok.submission is not None
    forged = decode_external(raw, sign("x" * 20, raw), REGISTRY)
    assert forged.submission is None
    assert forged.reason_class == "unauthenticated"
    assert forged.errors[0].code == "bad_signature"
    unsigned = decode_external(raw, None, REGISTRY)
    assert unsigned.errors[0].code == "bad_signature"
    stranger = json.dumps({**BODY, "channel": "nobody", "external_id": "S1"}).encode()
    unknown = decode_external(stranger, sign("s" * 20, stranger), REGISTRY)
    assert unknown.errors[0].code == "unknown_channel"
    assert (unknown.channel, unknown.external_id) == ("nobody", "S1")


async def test_a_channel_may_only_submit_for_its_own_provinces() -> None:
    store = FakeStore()
    item = _ext("T1")  # kanal-kalsel is registered for 63 only
    other = ExternalItem(
        ExternalSubmission.model_validate(
            {**BODY, "channel": "kanal-kalsel", "external_id": "T2", "region_code": "73.71"}
        ),
        [],
    )
    outcome = await _service(store).submit_external([item, other])
    assert outcome.receipts[0].status == "accepted"
    assert outcome.receipts[1].status == "rejected"
    assert outcome.receipts[1].errors[0].code == "channel_not_allowed"


async def test_a_report_with_the_same_substance_is_linked_as_a_repeat() -> None:
    store = FakeStore()
    service = _service(store)
    first = await service.submit(ComplaintSubmission.model_validate(BODY), channel=Channel.WEB)
    again = {
        **BODY,
        "title": "Jalan Pramuka berlubang lagi",
        "description": "Lubang besar di Jalan Pramuka dekat jembatan belum diperbaiki.",
    }
    second = await service.submit(ComplaintSubmission.model_validate(again), channel=Channel.WEB)
    other = {
        **BODY,
        "title": "Drainase tersumbat",
        "description": "Saluran drainase di Jalan Ahmad Yani tersumbat sampah.",
    }
    third = await service.submit(ComplaintSubmission.model_validate(other), channel=Channel.WEB)
    assert second.repeat_of == first.tracking_id
    assert third.repeat_of is None
    stored = store.complaints[second.tracking_id]
    assert stored["repeat_of"] == first.tracking_id
    assert 0.5 <= stored["repeat_score"] <= 1
    store.complaints[first.tracking_id]["status"] = "closed"  # closed cases are not repeated
    fourth = await service.submit(ComplaintSubmission.model_validate(again), channel=Channel.WEB)
    assert fourth.repeat_of == first.tracking_id  # via the still-open second report's root


async def test_idempotent_resubmission_returns_the_first_id_and_the_same_secret() -> None:
    store = FakeStore()
    service = _service(store)
    sub = ComplaintSubmission.model_validate(BODY)
    a = await service.submit(sub, channel=Channel.WEB, channel_id="web", external_id="K1")
    b = await service.submit(sub, channel=Channel.WEB, channel_id="web", external_id="K1")
    assert (b.tracking_id, b.secret, b.duplicate) == (a.tracking_id, a.secret, True)
    assert len(store.complaints) == 1


async def test_status_needs_the_secret_for_confidential_reports() -> None:
    store = FakeStore()
    service = _service(store)
    secret_case = await service.submit(
        ComplaintSubmission.model_validate({**BODY, "confidential": True}), channel=Channel.WEB
    )
    public_case = await service.submit(
        ComplaintSubmission.model_validate(BODY), channel=Channel.WEB
    )
    assert await service.status(secret_case.tracking_id) is None
    assert await service.status(secret_case.tracking_id, "wrong") is None
    owner = await service.status(secret_case.tracking_id, secret_case.secret)
    assert owner is not None
    assert owner[1] is True
    assert owner[0]["reporter"]["email"] == "siti@warga.example"
    assert await service.status(public_case.tracking_id) is None  # not verified yet
    store.complaints[public_case.tracking_id]["verified"] = True
    public = await service.status(public_case.tracking_id)
    assert public is not None
    assert public[1] is False
    assert "reporter" not in public[0]
    assert "fp" not in public[0]


async def test_messages_need_the_secret_or_the_reporters_phone() -> None:
    store = FakeStore()
    service = _service(store)
    case = await service.submit(ComplaintSubmission.model_validate(BODY), channel=Channel.WEB)
    tid = case.tracking_id
    assert await service.message(tid, "halo", channel=Channel.WEB, secret="nope") == "unknown"
    assert await service.message(tid, "halo", channel=Channel.SMS, phone="+6289999999") == (
        "unknown"
    )
    assert await service.reply(tid, "sudah diperbaiki?", channel=Channel.SMS, phone="0812-3456-789")
    ok = await service.message(tid, "terima kasih", channel=Channel.WEB, secret=case.secret)
    assert ok == "ok"
    sent = [m for m in store.outbox if b"case.reporter_messaged" in m.value]
    assert len(sent) == 2  # a reply is a message now: it closes nothing
    assert all(m.key == tid for m in sent)
    assert [h["type"] for h in store.complaints[tid]["history"]][-2:] == [
        "case.reporter_messaged",
        "case.reporter_messaged",
    ]
    assert store.complaints[tid]["history"][-1]["actor"] == {"kind": "reporter"}


async def test_the_reporters_answers_are_taken_only_when_the_case_allows_them() -> None:
    """Accepting, disputing and rating are refused at once (nothing published) until the
    case is at the stage for them: the reporter is told instead of routing refusing it
    later, unseen."""
    store = FakeStore()
    service = _service(store)
    case = await service.submit(ComplaintSubmission.model_validate(BODY), channel=Channel.WEB)
    tid = case.tracking_id
    assert await service.dispute(tid, "Belum beres", secret="salah") == "unknown"
    assert await service.rate(tid, 5, "", secret="salah") == "unknown"
    assert await service.accept(tid, channel=Channel.WEB, secret=case.secret) == "not_now"
    assert await service.dispute(tid, "Belum beres", secret=case.secret) == "not_now"
    published = len(store.outbox)
    store.complaints[tid]["status"] = "followed_up"
    assert await service.dispute(tid, "Belum beres", secret=case.secret) == "ok"
    assert await service.accept(tid, channel=Channel.WEB, secret=case.secret) == "ok"
    assert await service.rate(tid, 4, "Lumayan cepat", secret=case.secret) == "not_now"
    store.complaints[tid]["status"] = "closed"
    assert await service.rate(tid, 4, "Lumayan cepat", secret=case.secret) == "ok"
    events = [json.loads(m.value) for m in store.outbox[published:]]
    assert [(e["type"], e["data"].get("score")) for e in events] == [
        ("case.reporter_disputed", None),
        ("case.reporter_accepted", None),
        ("case.reporter_rated", 4),
    ]
    assert events[2]["data"]["text"] == "Lumayan cepat"
    assert store.complaints[tid]["history"][-1]["score"] == 4


# -- the repeat index ------------------------------------------------------------------------

AGAIN = {
    **BODY,
    "title": "Jalan Pramuka berlubang lagi",
    "description": "Lubang besar di Jalan Pramuka dekat jembatan belum diperbaiki.",
}


def test_the_repeat_index_is_bounded_per_group_and_by_the_window() -> None:
    index = RepeatIndex(per_group=3)
    day = timedelta(days=1)
    for i in range(5):
        index.add(f"T{i}", "63.71", "infrastruktur", ["jalan", f"w{i}"], NOW + i * day)
    index.add("T4", "63.71", "infrastruktur", ["other"], NOW)  # known: left as it is
    assert len(index) == 3
    assert [c.tracking_id for c in index.candidates("63.71", "infrastruktur", NOW)] == [
        "T4",
        "T3",
        "T2",
    ]
    assert [c.tracking_id for c in index.candidates("63.71", "infrastruktur", NOW + 3 * day)] == [
        "T4",
        "T3",
    ]
    assert index.candidates("63.71", "kesehatan", NOW) == []
    index.add("late", "63.71", "infrastruktur", ["jalan"], NOW + 2 * day + timedelta(hours=1))
    assert [c.tracking_id for c in index.candidates("63.71", "infrastruktur", NOW)] == [
        "T4",
        "T3",
        "late",
    ]
    index.remove("T3")
    assert index.expire(NOW + 4 * day) == 1  # "late"; T4 stays
    assert [c.tracking_id for c in index.candidates("63.71", "infrastruktur", NOW)] == ["T4"]


async def test_another_process_learns_of_a_report_from_the_case_log() -> None:
    store = FakeStore()
    a, b = _service(store), _service(store)
    b.tracking_ids = lambda: f"LPR-B{len(store.complaints):09d}"
    first = await a.submit(ComplaintSubmission.model_validate(BODY), channel=Channel.WEB)
    hidden = {**AGAIN, "confidential": True}  # (never a repeat target itself)
    alone = await b.submit(ComplaintSubmission.model_validate(hidden), channel=Channel.WEB)
    assert alone.repeat_of is None  # b has not seen the case log yet
    submitted = [m for m in store.outbox if m.topic == topics.CASES and m.key == first.tracking_id]
    event = ComplaintSubmitted.model_validate_json(submitted[0].value)
    b.observe([event], [])
    linked = await b.submit(ComplaintSubmission.model_validate(AGAIN), channel=Channel.WEB)
    assert linked.repeat_of == first.tracking_id
    b.observe([], [first.tracking_id, alone.tracking_id, linked.tracking_id])  # finished
    assert (
        await b.submit(ComplaintSubmission.model_validate(AGAIN), channel=Channel.WEB)
    ).repeat_of is None


async def test_a_match_the_store_says_is_finished_is_not_linked_and_is_forgotten() -> None:
    store = FakeStore()
    service = _service(store)
    first = await service.submit(ComplaintSubmission.model_validate(BODY), channel=Channel.WEB)
    store.complaints[first.tracking_id]["status"] = "rejected"  # by another process
    again = await service.submit(ComplaintSubmission.model_validate(AGAIN), channel=Channel.WEB)
    assert again.repeat_of is None
    assert store.asked_open[-1] == [first.tracking_id]
    assert first.tracking_id not in service.repeats


async def test_finding_repeats_reads_nothing_from_the_store_when_nothing_matches() -> None:
    store = FakeStore()
    service = _service(store)
    words = [f"kata{i:04d}" for i in range(4000)]
    for i in range(300):  # many open reports in the store ...
        text = " ".join(words[i * 10 : i * 10 + 10])
        await service.submit(
            ComplaintSubmission.model_validate(
                {**BODY, "title": f"Laporan {i}", "description": text}
            ),
            channel=Channel.WEB,
        )
    fresh = _service(store)
    assert await fresh.load_repeats() == 300  # a new process starts from the store
    store.asked_open.clear()
    items = [
        ExternalItem(
            ExternalSubmission.model_validate(
                {
                    **BODY,
                    "channel": "kanal-kalsel",
                    "external_id": f"N{i}",
                    "title": f"Baru {i}",
                    "description": " ".join(words[3000 + i * 10 : 3010 + i * 10]),
                }
            ),
            [],
        )
        for i in range(50)
    ]
    outcome = await fresh.submit_external(items)
    assert [r.status for r in outcome.receipts] == ["accepted"] * 50
    assert store.asked_open == []  # ... and none matched: no store query for repeats
    copy = ExternalItem(
        ExternalSubmission.model_validate(
            {
                **BODY,
                "channel": "kanal-kalsel",
                "external_id": "C1",
                "title": "Laporan 7",
                "description": " ".join(words[70:80]),
            }
        ),
        [],
    )
    [receipt] = (await fresh.submit_external([copy])).receipts
    assert store.complaints[receipt.tracking_id or ""]["repeat_of"] is not None
    assert len(store.asked_open) == 1  # one question for the batch, about its matches only


def test_the_repeat_feed_skips_a_poisoned_record_and_takes_the_ones_behind_it() -> None:
    from lapor_intake.handlers import repeat_feed

    service = _service(FakeStore())
    good = submitted(
        "LPR-0000000077", title="Jembatan retak", description="Jembatan desa retak parah"
    )
    bad_shape = {"type": "complaint.submitted", "data": {"tracking_id": 5}}
    not_a_case = {"type": "case.closed", "data": "x", "subject": None}
    feed = repeat_feed(service)
    feed([bad_shape, not_a_case, json.loads(good.model_dump_json())])
    assert "LPR-0000000077" in service.repeats
    feed([{"type": "case.closed", "subject": "LPR-0000000077", "data": {"status": "closed"}}])
    assert "LPR-0000000077" not in service.repeats


async def test_public_means_chosen_verified_and_not_hidden() -> None:
    """A report is listed and shown publicly only once verified; the reporter's own later
    words only if the reporter chose so; a coordinator may hide it or redact a passage, and
    the original stays for staff and the reporter."""
    from lapor_kit.auth import Principal

    store = FakeStore()
    service = _service(store)
    quiet = await service.submit(ComplaintSubmission.model_validate(BODY), channel=Channel.WEB)
    shared = await service.submit(
        ComplaintSubmission.model_validate(
            {**BODY, "title": "Lampu jalan padam", "public_replies": True}
        ),
        channel=Channel.WEB,
    )
    assert await service.public_reports() == []  # nothing before verification
    assert await service.status(quiet.tracking_id) is None
    for tid in (quiet.tracking_id, shared.tracking_id):
        store.complaints[tid].update(verified=True, status="followed_up")
        store.complaints[tid]["history"].append(
            {
                "event_id": "e1",
                "type": "case.followed_up",
                "status": "followed_up",
                "at": NOW,
                "text": "Sudah kami perbaiki.",
                "actor": {"kind": "staff", "role": "agency_staff"},
            }
        )
        assert (
            await service.message(
                tid,
                "Masih gelap di ujung gang, nomor rumah 7.",
                channel=Channel.WEB,
                secret=service.minter.mint(tid),
            )
            == "ok"
        )
    listed = {v["_id"]: v for v in await service.public_reports()}
    assert set(listed) == {quiet.tracking_id, shared.tracking_id}

    def texts(view: dict[str, Any]) -> list[str]:
        return [h.get("text") for h in view["history"] if h.get("text")]

    assert texts(listed[quiet.tracking_id]) == ["Sudah kami perbaiki."]
    assert "Masih gelap di ujung gang, nomor rumah 7." in texts(listed[shared.tracking_id])
    # the reporter still reads their own words
    own = await service.status(quiet.tracking_id, service.minter.mint(quiet.tracking_id))
    assert own is not None
    assert "Masih gelap di ujung gang, nomor rumah 7." in texts(own[0])
    # a coordinator redacts a passage, then hides the report
    who = Principal(subject="k-63", role="province_coordinator", tenant="63")
    agency = Principal(subject="p", role="agency_staff", tenant="63", agency_id="63.71.pupr")
    assert await service.moderate(shared.tracking_id, agency, True, []) is None
    assert await service.moderate(shared.tracking_id, who, False, ["nomor rumah 7"])
    public = await service.status(shared.tracking_id)
    assert public is not None
    assert "nomor rumah 7" not in str(public[0])
    assert "[disamarkan]" in str(public[0])
    staff = await service.staff_report(shared.tracking_id, who)
    assert staff is not None
    assert "nomor rumah 7" in str(staff["history"])
    await service.moderate(shared.tracking_id, who, True, [])
    assert await service.status(shared.tracking_id) is None
    assert [v["_id"] for v in await service.public_reports()] == [quiet.tracking_id]
    assert (
        PublicFilter(ids=(shared.tracking_id,)).admits(store.complaints[shared.tracking_id])
        is False
    )
