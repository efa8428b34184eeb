"""Notify's service layer against an in-memory store and fake channels (no broker, no store):
planning, the once-only rule for send jobs, retries, dead letters, rate limits."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lapor_kit.idempotency import AlreadyStoredError
from lapor_kit.outbox import OutMessage
from lapor_notify.domain.jobs import SendJob
from lapor_notify.domain.render import Renderer
from lapor_notify.domain.sending import RetryPolicy, TokenBucket, due_attempt, parse_rates
from lapor_notify.domain.stopping import StopCodes
from lapor_notify.ports import Outgoing, PlannedEvent, SendError
from lapor_notify.service import NotifyService
from lapor_schemas import (
    CaseEvent,
    CaseFollowedUp,
    ContactData,
    ReporterContact,
    topics,
)
from lapor_schemas.events import Actor, TransitionData
from tests.factories import TID, dispatched, submitted

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@dataclass
class FakeStore:
    facts: dict[str, dict[str, Any]] = field(default_factory=dict)
    contacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    supporters: dict[str, dict[str, Any]] = field(default_factory=dict)
    supporter_reads: int = 0
    docs: dict[str, dict[str, Any]] = field(default_factory=dict)
    waiting: dict[str, dict[str, Any]] = field(default_factory=dict)
    agencies: dict[str, dict[str, Any]] = field(default_factory=dict)
    processed: set[str] = field(default_factory=set)
    outbox: list[OutMessage] = field(default_factory=list)
    quota: dict[str, list[str]] = field(default_factory=dict)
    asked: list[tuple[list[str], list[str]]] = field(default_factory=list)
    agency_reads: int = 0
    agency_checks: int = 0
    agency_version: int = 0

    async def unseen(self, events: Mapping[str, str]) -> set[str]:
        return set(events) - self.processed

    async def claim_address_quotas(self, claims: Sequence[tuple[str, str]], cap: int) -> set[str]:
        for key, delivery_id in claims:
            ids = self.quota.setdefault(key, [])
            if delivery_id not in ids:
                ids.append(delivery_id)
        return {d for key, d in claims if d in self.quota[key][:cap]}

    async def facts_and_contacts(
        self, tracking_ids: Sequence[str], contact_ids: Sequence[str] | None = None
    ) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
        wanted = tracking_ids if contact_ids is None else contact_ids
        self.asked.append((list(tracking_ids), list(wanted)))
        return (
            {t: dict(self.facts[t]) for t in tracking_ids if t in self.facts},
            {t: dict(self.contacts[t]) for t in wanted if t in self.contacts},
        )

    async def agency_entries(self, agency_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        return {a: dict(self.agencies[a]) for a in agency_ids if a in self.agencies}

    async def agency_entries_since(
        self, version: int | None
    ) -> tuple[int, dict[str, dict[str, Any]] | None]:
        self.agency_checks += 1
        if version == self.agency_version:
            return version, None
        self.agency_reads += 1
        return self.agency_version, {a: dict(e) for a, e in self.agencies.items()}

    async def record_plan(self, **kw: Any) -> None:
        events: list[PlannedEvent] = kw["events"]
        if self.processed & {e.event_id for e in events}:
            raise AlreadyStoredError("case_facts")
        versions = {
            e.tracking_id: self.facts.get(e.tracking_id, {}).get("_version", 0) for e in events
        }
        for e in events:
            if versions[e.tracking_id] != e.version:
                raise AlreadyStoredError("case_facts")  # changed since the plan read them
            versions[e.tracking_id] += 1
        self.processed.update(e.event_id for e in events)
        for e in events:
            doc = self.facts.setdefault(e.tracking_id, {"_id": e.tracking_id})
            doc.update(e.facts)
            doc["_version"] = doc.get("_version", 0) + 1
        for d in kw["deliveries"]:
            assert d["_id"] not in self.docs, "a delivery was planned twice"
            self.docs[d["_id"]] = dict(d)
        for w in kw["waiting"]:
            self.waiting[w["_id"]] = w
        self.outbox.extend(kw["messages"])

    async def save_contacts(self, contacts: Sequence[dict[str, Any]]) -> None:
        for c in contacts:
            self.contacts[c["_id"]] = c

    async def save_supporters(self, supporters: Sequence[dict[str, Any]]) -> None:
        for c in supporters:
            kept = self.supporters.get(c["_id"], {})
            self.supporters[c["_id"]] = {**c, "stopped": kept.get("stopped", False)}

    async def stop_supporter(self, supporter_id: str) -> str | None:
        for doc in self.supporters.values():
            if doc["supporter_id"] == supporter_id:
                doc["stopped"] = True
                return str(doc["tracking_id"])
        return None

    async def supporters_of(self, tracking_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        self.supporter_reads += 1
        found: dict[str, list[dict[str, Any]]] = {}
        for key in sorted(self.supporters):
            doc = self.supporters[key]
            if doc["tracking_id"] in tracking_ids and not doc.get("stopped"):
                found.setdefault(doc["tracking_id"], []).append(doc)
        return found

    async def waiting_for(self, tracking_ids: Sequence[str]) -> list[dict[str, Any]]:
        return [w for w in self.waiting.values() if w["tracking_id"] in tracking_ids]

    async def expand_waiting(self, expansions: Mapping[str, Any]) -> int:
        count = 0
        for key, (deliveries, messages) in expansions.items():
            self.waiting.pop(key)
            for d in deliveries:
                self.docs[d["_id"]] = dict(d)
            self.outbox.extend(messages)
            count += len(deliveries)
        return count

    async def deliveries(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        return {i: dict(self.docs[i]) for i in ids if i in self.docs}

    async def due_deliveries(self, wanted: Mapping[str, int]) -> dict[str, dict[str, Any]]:
        return {
            i: dict(self.docs[i])
            for i, attempt in wanted.items()
            if i in self.docs and due_attempt(self.docs[i], attempt)
        }

    async def settle(self, updates: Any, messages: Sequence[OutMessage]) -> None:
        for i, sets in updates:
            self.docs[i].update(sets)
        self.outbox.extend(messages)

    async def requeue(self, messages: Sequence[OutMessage]) -> None:
        self.outbox.extend(messages)

    async def list_deliveries(self, query: Mapping[str, Any], limit: int, **_: Any) -> Any:
        return [d for d in self.docs.values() if all(d.get(k) == v for k, v in query.items())]

    async def agency_entry(self, agency_id: str) -> dict[str, Any] | None:
        return self.agencies.get(agency_id)

    async def save_agency_entry(self, agency_id: str, changes: Mapping[str, Any]) -> None:
        self.agencies.setdefault(agency_id, {"_id": agency_id}).update(changes)
        self.agency_version += 1

    def taken(self, topic: str) -> list[dict[str, Any]]:
        """Messages for ``topic`` (decoded), and forget them."""
        found = [m for m in self.outbox if m.topic == topic]
        self.outbox = [m for m in self.outbox if m.topic != topic]
        return [json.loads(m.value) | {"_headers": m.headers} for m in found]


@dataclass
class FakeChannel:
    failures: list[Exception] = field(default_factory=list)
    sent: list[Outgoing] = field(default_factory=list)

    async def send(self, message: Outgoing) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(message)


STOP_CODES = StopCodes(b"kunci-uji")


def make(store: FakeStore, **channels: FakeChannel) -> tuple[NotifyService, dict[str, FakeChannel]]:
    chans = {"email": FakeChannel(), "sms": FakeChannel(), "webhook": FakeChannel(), **channels}
    service = NotifyService(
        store,
        chans,
        Renderer(),
        clock=lambda: NOW,
        policy=RetryPolicy(3, (1.0, 4.0)),
        stop_codes=STOP_CODES,
    )
    return service, chans


def contact(**data: Any) -> ReporterContact:
    return ReporterContact(
        source="lapor-intake",
        tenant="63",
        subject=TID,
        correlation_id=TID,
        data=ContactData(tracking_id=TID, **{"anonymous": False, **data}),
    )


def jobs(store: FakeStore, channel: str) -> list[SendJob]:
    return [
        SendJob.model_validate({k: v for k, v in m.items() if k != "_headers"})
        for m in store.taken(topics.NOTIFY_SEND[channel])
    ]


async def test_an_event_is_planned_once_and_each_job_sends_once() -> None:
    store = FakeStore()
    service, chans = make(store)
    await service.handle_contacts([contact(name="Siti", email="siti@warga.example")])
    event = submitted(reporter_contactable=True)
    assert await service.handle_events([event, event]) == 2  # inbox + email
    assert await service.handle_events([event]) == 0
    [job] = jobs(store, "email")
    assert await service.handle_jobs("email", [job, job]) == 1
    assert await service.handle_jobs("email", [job]) == 0  # redelivered after the commit
    [mail] = chans["email"].sent
    assert mail.address == "siti@warga.example"
    assert "Yth. Siti" in mail.body
    statuses = {d["channel"]: d["status"] for d in store.docs.values()}
    assert statuses == {"inbox": "delivered", "email": "sent"}
    outcomes = [m["data"]["status"] for m in store.taken(topics.NOTIFICATIONS)]
    assert outcomes == ["sent"]  # the inbox copy is delivered by being stored


async def test_a_job_redelivered_after_a_crash_mid_send_repeats_the_same_delivery() -> None:
    store = FakeStore()
    service, chans = make(store)
    await service.handle_contacts([contact(phone="+6281234567890")])
    await service.handle_events([submitted(reporter_contactable=True)])
    [job] = jobs(store, "sms")
    settle = store.settle

    async def crash(*_: Any) -> None:
        raise ConnectionError("the process died before the outcome was recorded")

    store.settle = crash  # type: ignore[method-assign]
    with pytest.raises(ConnectionError):
        await service.handle_jobs("sms", [job])
    store.settle = settle  # type: ignore[method-assign]
    assert await service.handle_jobs("sms", [job]) == 1  # the job comes again
    first, again = chans["sms"].sent
    assert first.id == again.id == job.delivery_id  # providers drop a repeat by this key
    assert store.docs[job.delivery_id]["status"] == "sent"
    assert await service.handle_jobs("sms", [job]) == 0  # now settled: nothing sent again


async def test_the_contact_may_come_after_the_event() -> None:
    store = FakeStore()
    service, chans = make(store)
    await service.handle_events([submitted(reporter_contactable=True)])
    assert [d["channel"] for d in store.docs.values()] == ["inbox"]
    assert len(store.waiting) == 1
    assert await service.handle_contacts([contact(email="late@warga.example")]) == 1
    assert store.waiting == {}
    [job] = jobs(store, "email")
    await service.handle_jobs("email", [job])
    assert [m.address for m in chans["email"].sent] == ["late@warga.example"]


async def test_a_contact_that_came_during_a_plan_cut_short_is_used_on_redelivery() -> None:
    """The contact arrives while the plan is being stored (the contacts consumer finds no
    parked notice yet and is done), then the process dies before the plan's own expansion:
    the redelivered batch, already handled, still turns the parked notice into its SMS."""
    store = FakeStore()
    service, _ = make(store)
    event = submitted(reporter_contactable=True)
    record_plan, waiting_for = store.record_plan, store.waiting_for

    async def contact_arrives_meanwhile(**kw: Any) -> None:
        assert await service.handle_contacts([contact(phone="+6281234567890")]) == 0
        await record_plan(**kw)
        store.waiting_for = dies  # type: ignore[method-assign]

    async def dies(tracking_ids: Sequence[str]) -> list[dict[str, Any]]:
        raise ConnectionError("the process died after storing the plan")

    store.record_plan = contact_arrives_meanwhile  # type: ignore[method-assign]
    with pytest.raises(ConnectionError):
        await service.handle_events([event])
    store.record_plan, store.waiting_for = record_plan, waiting_for  # type: ignore[method-assign]
    assert len(store.waiting) == 1
    fresh, chans = make(store)  # the restarted process
    assert await fresh.handle_events([event]) == 0  # nothing planned again ...
    assert store.waiting == {}  # ... but the parked notice is expanded
    [job] = jobs(store, "sms")
    assert await fresh.handle_jobs("sms", [job]) == 1
    assert [m.address for m in chans["sms"].sent] == ["+6281234567890"]


async def test_no_contact_no_wait_and_the_inbox_still_has_it() -> None:
    store = FakeStore()
    service, _ = make(store)
    await service.handle_events([submitted(reporter_contactable=False, anonymous=True)])
    assert store.waiting == {}
    [inbox] = store.docs.values()
    assert inbox["channel"] == "inbox"
    assert "diterima" in inbox["subject"]


async def test_planning_reads_back_only_what_the_batch_does_not_say() -> None:
    store = FakeStore()
    service, _ = make(store)
    new = submitted(reporter_contactable=False, anonymous=True)
    await service.handle_events([new, dispatched(email="pupr@banjarmasin.example")])
    assert store.asked == [([], []), ([], [])]  # facts from the event, no contact to ask for
    assert {d["role"] for d in store.docs.values()} == {"reporter", "agency"}
    store.asked.clear()
    other = submitted("LPR-0000000002", reporter_contactable=True)
    await service.handle_events([other, dispatched("LPR-0000000002")])
    assert store.asked[:2] == [([], []), ([], ["LPR-0000000002"])]  # (then: still waiting?)
    store.asked.clear()
    await service.handle_events([dispatched(agency_id="63.pupr", agency_name="PUPR Kalsel")])
    assert store.asked == [([], []), ([], [])]  # facts this process planned are kept
    restarted, _ = make(store)
    store.asked.clear()
    await restarted.handle_events([dispatched(agency_id="63.71.pupr")])
    assert store.asked == [([TID], []), ([], [])]  # a case it does not know: facts are read


def followed_up(tid: str = TID) -> CaseEvent:
    return CaseFollowedUp(
        source="lapor-routing",
        tenant="63",
        subject=tid,
        correlation_id=tid,
        data=TransitionData(
            tracking_id=tid, status="followed_up", at=NOW, actor=Actor(kind="system")
        ),
    )


async def test_facts_kept_in_memory_that_another_process_changed_are_read_again() -> None:
    store = FakeStore()
    here, _ = make(store)
    there, _ = make(store)  # another notify process, after a rebalance
    await here.handle_events([submitted(), dispatched(agency_name="Dinas PUPR Kota Banjarmasin")])
    await there.handle_events([dispatched(agency_id="63.71.dpkp", agency_name="Dinas Perkim")])
    store.asked.clear()
    await here.handle_events([followed_up()])  # its kept facts name the first agency
    assert store.asked[0][0] == []  # planned from the kept facts first
    assert ([TID], []) in store.asked[1:]  # refused (their version moved), then read again
    [note] = [d for d in store.docs.values() if d["cause_event_type"] == "case.followed_up"]
    assert "Dinas Perkim" in note["body"]
    assert "Banjarmasin" not in note["body"]


async def test_an_event_that_tells_no_one_is_neither_planned_nor_recorded() -> None:
    from lapor_schemas import CaseVerified
    from lapor_schemas.events import Actor, TransitionData

    store = FakeStore()
    service, _ = make(store)
    verified = CaseVerified(
        source="lapor-routing",
        tenant="63",
        subject=TID,
        correlation_id=TID,
        data=TransitionData(tracking_id=TID, status="verified", at=NOW, actor=Actor(kind="system")),
    )
    assert await service.handle_events([verified]) == 0
    assert store.asked == []
    assert store.processed == set()


async def test_agency_entries_are_kept_and_reread_only_when_their_version_moves() -> None:
    store = FakeStore()
    clock = [100.0]
    service = NotifyService(store, {"email": FakeChannel()}, Renderer(), clock=lambda: NOW)
    service.monotonic = lambda: clock[0]
    for n in range(3):
        tid = f"LPR-000000010{n}"
        await service.handle_events([submitted(tid), dispatched(tid)])
    assert (store.agency_checks, store.agency_reads) == (1, 1)  # three dispatches, one read
    await service.set_contacts("63.71.pupr", [{"role": "operator", "email": "op@pupr.example"}])
    await service.handle_events([submitted("LPR-0000000200"), dispatched("LPR-0000000200")])
    assert store.agency_reads == 2  # a change through this process is seen at once
    assert any(d["address"] == "op@pupr.example" for d in store.docs.values())
    clock[0] += 3.0  # past the TTL: the version is checked, it has not moved, nothing is read
    await service.handle_events([submitted("LPR-0000000300"), dispatched("LPR-0000000300")])
    assert (store.agency_checks, store.agency_reads) == (3, 2)
    # another process changes the agency's contacts: seen after the TTL, not before
    store.agencies["63.71.pupr"]["contacts"] = [{"role": "operator", "email": "new@pupr.example"}]
    store.agency_version += 1
    await service.handle_events([submitted("LPR-0000000400"), dispatched("LPR-0000000400")])
    assert not any(d["address"] == "new@pupr.example" for d in store.docs.values())
    clock[0] += 3.0
    await service.handle_events([submitted("LPR-0000000500"), dispatched("LPR-0000000500")])
    assert store.agency_reads == 3
    assert any(d["address"] == "new@pupr.example" for d in store.docs.values())


async def test_a_failed_send_waits_in_growing_retry_tiers_then_is_dead_lettered() -> None:
    store = FakeStore()
    down = FakeChannel(failures=[SendError("503", retryable=True)] * 3)
    service, _ = make(store, email=down)
    await service.handle_contacts([contact(email="siti@warga.example")])
    await service.handle_events([submitted(reporter_contactable=True)])
    [job] = jobs(store, "email")
    waits = []
    for attempt in (1, 2):
        await service.handle_jobs("email", [job])
        [retry] = store.taken(topics.NOTIFY_RETRY[attempt - 1])
        job = SendJob.model_validate({k: v for k, v in retry.items() if k != "_headers"})
        assert job.attempt == attempt + 1
        assert job.due_at is not None
        waits.append((job.due_at - NOW).total_seconds())
    assert waits == [1.0, 4.0]
    await service.handle_jobs("email", [job])
    [dead] = store.taken(topics.DLQ)
    assert dead["delivery_id"] == job.delivery_id
    assert dead["_headers"][topics.DLQ_REASON] == "503"
    assert dead["_headers"][topics.DLQ_SOURCE_TOPIC] == topics.NOTIFY_SEND["email"]
    [doc] = [d for d in store.docs.values() if d["channel"] == "email"]
    assert (doc["status"], doc["attempts"]) == ("dead_lettered", 3)
    outcomes = [
        m["data"]["status"]
        for m in store.taken(topics.NOTIFICATIONS)
        if m["data"]["channel"] == "email"
    ]
    assert outcomes == ["retrying", "retrying", "dead_lettered"]
    assert await service.handle_jobs("email", [job]) == 0  # a finished delivery stays finished


async def test_every_outcome_is_counted_and_a_dead_letter_through_the_outbox_too() -> None:
    """Found: 13 minutes of a stopped SMTP server dead-lettered 20 e-mails and no counter
    moved (notify's dead letters leave through its outbox, not the kit's dead-letter path)."""
    store = FakeStore()
    seen: list[tuple[str, str, bool]] = []
    down = FakeChannel(failures=[SendError("503", retryable=True)] * 2)
    service, _ = make(store, email=down)
    service.on_outcome = lambda channel, status, dead: seen.append((channel, status, dead))
    service.policy = RetryPolicy(2, (1.0,))
    await service.handle_contacts([contact(email="siti@warga.example")])
    await service.handle_events([submitted(reporter_contactable=True)])
    [job] = jobs(store, "email")
    await service.handle_jobs("email", [job])
    [retry] = store.taken(topics.NOTIFY_RETRY[0])
    job = SendJob.model_validate({k: v for k, v in retry.items() if k != "_headers"})
    await service.handle_jobs("email", [job])
    assert seen == [("email", "retrying", False), ("email", "dead_lettered", True)]


async def test_a_refusal_is_not_retried() -> None:
    store = FakeStore()
    refusing = FakeChannel(failures=[SendError("400 bad number", retryable=False)])
    service, _ = make(store, sms=refusing)
    await service.handle_contacts([contact(phone="+6281234567890")])
    await service.handle_events([submitted(reporter_contactable=True)])
    [job] = jobs(store, "sms")
    await service.handle_jobs("sms", [job])
    assert all(store.taken(t) == [] for t in topics.NOTIFY_RETRY)
    [dead] = store.taken(topics.DLQ)
    assert "400" in dead["_headers"][topics.DLQ_REASON]
    assert store.docs[job.delivery_id]["status"] == "failed"


async def test_retry_tiers_requeue_jobs_when_due() -> None:
    store = FakeStore()
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    service = NotifyService(store, {}, Renderer(), clock=lambda: NOW, sleep=sleep)
    due = SendJob(
        delivery_id="e:reporter:sms",
        tracking_id=TID,
        tenant="63",
        channel="sms",
        attempt=2,
        due_at=NOW + timedelta(seconds=7),
    )
    assert await service.handle_retries([due]) == 1
    assert slept == [7.0]
    [back] = store.taken(topics.NOTIFY_SEND["sms"])
    assert back["attempt"] == 2
    assert back["due_at"] is None


async def test_agency_webhook_payload_is_signed_with_its_secret_and_names_nobody() -> None:
    store = FakeStore()
    service, chans = make(store)
    secret = await service.register_webhook("63.71.pupr", "https://pupr.example/hook")
    await service.handle_contacts([contact(name="Siti Rahmah", email="siti@warga.example")])
    await service.handle_events(
        [submitted(reporter_contactable=True, anonymous=True), dispatched(email="a@b.example")]
    )
    [job] = jobs(store, "webhook")
    await service.handle_jobs("webhook", [job])
    [hook] = chans["webhook"].sent
    assert hook.secret == secret
    assert hook.address == "https://pupr.example/hook"
    assert hook.payload is not None
    assert hook.payload["case"]["anonymous"] is True
    text = json.dumps(hook.payload)
    assert "Siti" not in text
    assert "siti@warga.example" not in text
    assert hook.payload["event"]["type"] == "case.dispatched"
    # a webhook removed after planning is not called
    await service.register_webhook("63.71.pupr", "https://pupr.example/hook")
    await service.handle_events([dispatched(email="a@b.example", time=NOW + timedelta(hours=1))])
    await service.remove_webhook("63.71.pupr")
    [job2] = jobs(store, "webhook")
    await service.handle_jobs("webhook", [job2])
    assert len(chans["webhook"].sent) == 1
    assert store.docs[job2.delivery_id]["status"] == "failed"


def test_retry_policy_and_rates() -> None:
    policy = RetryPolicy(4, (5.0, 25.0, 125.0))
    decisions = [policy.after(a, RuntimeError("x")) for a in (1, 2, 3, 4)]
    assert [(d.status, d.delay) for d in decisions] == [
        ("retrying", 5.0),
        ("retrying", 25.0),
        ("retrying", 125.0),
        ("dead_lettered", None),
    ]
    assert policy.after(1, None).status == "sent"
    assert policy.after(1, RuntimeError("x"), retryable=False).status == "failed"
    bucket = TokenBucket(rate=2.0, burst=2.0)
    assert [bucket.reserve(0.0) for _ in range(4)] == [0.0, 0.0, 0.5, 1.0]
    assert bucket.reserve(10.0) == 0.0  # refilled (up to the burst)
    assert parse_rates("email=50, sms=2.5,") == {"email": 50.0, "sms": 2.5}
    with pytest.raises(ValueError, match="rate"):
        TokenBucket(rate=0, burst=1)


async def test_sends_to_one_provider_are_paced_by_its_rate_limit() -> None:
    store = FakeStore()
    clock = [0.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += seconds

    chans = {"sms": FakeChannel(), "email": FakeChannel()}
    service = NotifyService(
        store,
        chans,
        Renderer(),
        clock=lambda: NOW,
        rates={"sms": 2.0},
        monotonic=lambda: clock[0],
        sleep=sleep,
        concurrency=1,
    )
    for i in range(4):
        tid = f"LPR-00000000{i:02d}"
        await service.handle_contacts(
            [
                ReporterContact(
                    source="lapor-intake",
                    tenant="63",
                    subject=tid,
                    correlation_id=tid,
                    data=ContactData(
                        tracking_id=tid,
                        anonymous=True,
                        phone="+6281234567890",
                        email="x@warga.example",
                    ),
                )
            ]
        )
        await service.handle_events([submitted(tid, reporter_contactable=True)])
    assert await service.handle_jobs("sms", jobs(store, "sms")) == 4
    assert await service.handle_jobs("email", jobs(store, "email")) == 4
    assert len(chans["sms"].sent) == 4
    assert len(chans["email"].sent) == 4
    assert sum(slept) == pytest.approx(1.0)  # 4 SMS at 2/s, burst 2; email unlimited


async def test_one_unconfirmed_address_gets_at_most_its_daily_cap_of_messages() -> None:
    """Reports naming a stranger's address, 25 times: 20 messages reach it (the cap), the
    rest are not sent, not retried and not dead letters; another address is unaffected."""
    store = FakeStore()
    service, chans = make(store)
    service.address_daily_cap = 20
    victim = "korban@warga.example"
    for n in range(25):
        tid = f"LPR-{n:010d}"
        await service.handle_contacts(
            [
                ReporterContact(
                    source="lapor-intake",
                    tenant="63",
                    subject=tid,
                    correlation_id=tid,
                    data=ContactData(tracking_id=tid, anonymous=True, email=victim),
                )
            ]
        )
        await service.handle_events([submitted(tid, reporter_contactable=True)])
    email_jobs = jobs(store, "email")
    assert len(email_jobs) == 25
    await service.handle_jobs("email", email_jobs)
    assert [m.address for m in chans["email"].sent] == [victim] * 20
    capped = [d for d in store.docs.values() if d["channel"] == "email" and d["status"] == "failed"]
    assert len(capped) == 5
    assert all("daily limit" in d["last_error"] for d in capped)
    assert store.taken(topics.DLQ) == []
    assert all(store.taken(t) == [] for t in topics.NOTIFY_RETRY)
    # a repeated attempt of a delivery that was allowed counts once
    from lapor_notify.service import address_quota_key

    key = address_quota_key("email", victim, NOW)
    assert len(store.quota[key]) == 25
