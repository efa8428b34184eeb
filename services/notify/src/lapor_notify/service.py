"""Notify's service layer.

1. **Plan** (``lapor.cases.v1``): each new event becomes notices and deliveries, rendered now
   and stored with the event's id kept (with the case's facts) as handled, and one send job
   per delivery goes to its channel's queue through the outbox, all in one transaction.
   In-app inbox deliveries are delivered right there. A reporter whose contact has not
   arrived yet (it comes on its own topic) has the notice parked until it does.
2. **Send** (``lapor.notify.send.<channel>.v1``): a job is acted on only if its delivery is
   not finished and the job is for the next attempt (so redelivered or duplicated jobs send
   nothing twice). A job redelivered after a crash mid-send repeats the attempt with the
   same delivery id, which providers take as an idempotency key. Nothing is written before
   the send (a ``sending`` mark cost a store command per batch and guarded nothing: the
   attempt count written with the outcome decides whether a job is due). The outcome, the
   next job (to a retry tier) or the dead letter, and the outcome event are written in one
   transaction before the batch is acknowledged.
3. **Wait** (``lapor.notify.retry.<tier>.v1``): a retry job waits until it is due, then goes
   back to its channel's queue.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from lapor_kit.idempotency import first_unseen, is_duplicate_key, optimistically
from lapor_kit.outbox import OutMessage
from lapor_schemas import (
    CaseEvent,
    ComplaintSubmitted,
    Contact,
    NotificationData,
    NotificationEvent,
    ReporterContact,
    SupporterContact,
    topics,
    words,
)

from .domain.jobs import SendJob
from .domain.planning import (
    SUPPORTERS_READ,
    SUPPORTERS_TOLD,
    TOLD,
    Notice,
    Route,
    agency_routes,
    case_facts,
    delivery_id,
    facts_update,
    notices,
    reporter_plan,
    reporter_routes,
    supporter_notice,
    supporter_routes,
    template_names,
    webhook_payload,
)
from .domain.render import Renderer
from .domain.sending import RetryPolicy, TokenBucket
from .domain.stopping import StopCodes
from .ports import FACTS_VERSION, Channel, NotifyStore, Outgoing, PlannedEvent, SendError

log = logging.getLogger("lapor.notify")
LATEST_FOR_SUPPORTERS = "_supporter_news"  # in a case's facts (never in a message: "_")

SOURCE = "lapor-notify"


class ShuttingDownError(Exception):
    """Raised by a retry wait cut short by shutdown: the batch is not acknowledged."""


CAPPED_CHANNELS = frozenset({"email", "sms", "whatsapp"})


class AddressCapError(SendError):
    """A reporter's address got its day's share of messages. Reporter addresses are never
    confirmed, so anyone can file reports naming someone else's address: the cap keeps Lapor
    from being a way to flood a stranger's inbox or phone. Not retried, not a dead letter
    (the reporter's in-app inbox still has the message)."""

    def __init__(self, cap: int) -> None:
        super().__init__(f"address daily limit reached ({cap} messages)", retryable=False)


def address_quota_key(channel: str, address: str, now: datetime) -> str:
    """The address (hashed: the key is no copy of it) and the day (UTC)."""
    digest = hashlib.sha256(f"{channel}|{address.strip().lower()}".encode()).hexdigest()[:32]
    return f"{digest}:{now.date().isoformat()}"


def supporter_about(person: Mapping[str, Any]) -> dict[str, Any]:
    """What a supporter's message may use of their contact: their language, and their id for
    the stop code (never the address; and no name: supporters are never named)."""
    return {
        "language": person.get("language"),
        "anonymous": True,
        "supporter_id": person.get("supporter_id"),
    }


class NotifyService:
    def __init__(
        self,
        store: NotifyStore,
        channels: Mapping[str, Channel],
        renderer: Renderer,
        clock: Callable[[], datetime],
        *,
        policy: RetryPolicy | None = None,
        rates: Mapping[str, float] | None = None,
        concurrency: int = 32,
        send_timeout: float = 30.0,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        address_daily_cap: int = 20,
        agency_ttl: float = 2.0,
        facts_kept: int = 10_000,
        on_outcome: Callable[[str, str, bool], None] | None = None,
        stop_codes: StopCodes | None = None,
    ) -> None:
        self.stop_codes = stop_codes
        self.on_outcome = on_outcome or (lambda channel, status, dead: None)
        self.facts_kept = facts_kept
        self._facts: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self.address_daily_cap = address_daily_cap
        self.store = store
        self.channels = dict(channels)
        self.renderer = renderer
        self.clock = clock
        self.policy = policy or RetryPolicy()
        self.rates = dict(rates or {})
        self.buckets: dict[str, TokenBucket] = {}
        self.slots = asyncio.Semaphore(concurrency)
        self.send_timeout = send_timeout
        self.monotonic = monotonic
        self.sleep = sleep
        self.agency_ttl = agency_ttl
        self._agencies: dict[str, dict[str, Any]] = {}
        self._agencies_version: int | None = None
        self._agencies_checked: float | None = None

    # -- 1. planning ------------------------------------------------------------------------

    async def handle_events(self, events: Sequence[CaseEvent]) -> int:
        """Plan and record the deliveries of the events not seen before; returns how many.
        An event that tells no one (case.verified, a reporter's reply ...) is not recorded at
        all: handling it again would do nothing either."""
        telling = [e for e in events if e.type in TOLD or e.type in SUPPORTERS_TOLD]
        if not telling:
            return 0
        return await optimistically(lambda assume_new: self._plan(telling, assume_new))

    async def _plan(self, events: Sequence[CaseEvent], assume_new: bool) -> int:
        fresh = (
            {e.id for e in events}
            if assume_new
            else await self.store.unseen({e.id: e.subject for e in events})
        )
        todo = first_unseen(events, fresh)
        # A case whose event was handled before may still have its reporter's notice parked:
        # the contact arrived while that plan was being stored, and the process died before
        # the expansion below, so the contacts consumer (done already) will not try again.
        # The careful way is taken only for a batch seen before, so this read is rare.
        recheck: list[str] = [] if assume_new else [e.subject for e in events if e.id not in fresh]
        if not todo:
            await self._expand(recheck)
            return 0
        tids = list(dict.fromkeys(e.subject for e in todo))
        if not assume_new:  # the careful way trusts nothing kept in memory
            for t in tids:
                self._facts.pop(t, None)
        # What the batch's own submissions say need not be read back, nor what this process
        # planned for the case lately; a contact is asked for only where the reporter may be
        # reachable.
        submitted = {e.subject: case_facts(e) for e in todo if isinstance(e, ComplaintSubmitted)}
        kept = {t: dict(self._facts[t]) for t in tids if t in self._facts}
        facts, _ = await self.store.facts_and_contacts(
            [t for t in tids if t not in kept and (t not in submitted or not assume_new)],
            contact_ids=[],
        )
        facts |= kept
        known = facts | submitted
        _, contacts = await self.store.facts_and_contacts(
            [],
            contact_ids=[
                t for t in tids if t not in known or known[t].get("reporter_contactable", True)
            ],
        )
        # the version of each case's facts the plan is based on (0: none stored yet)
        versions = {t: int(facts.get(t, {}).get(FACTS_VERSION) or 0) for t in tids}
        planned: list[PlannedEvent] = []
        told: list[Notice] = []
        for event in todo:
            sets: dict[str, Any] = {}
            if isinstance(event, ComplaintSubmitted):
                f = submitted[event.subject]
                sets.update((k, v) for k, v in f.items() if k != "_id")
                facts[event.subject] = dict(f)
            told.extend(notices(event, facts.get(event.subject)))
            backing_notice = supporter_notice(event)
            if backing_notice is not None:
                # kept with the case: a supporter whose contact comes after this event (the
                # contacts topic may lag the case log) still hears of it, once
                sets[LATEST_FOR_SUPPORTERS] = {**asdict(backing_notice), "at": event.time}
            update = facts_update(event)
            if update is not None:
                sets.update(update)
                facts.setdefault(event.subject, {"_id": event.subject}).update(update)
            planned.append(PlannedEvent(event.subject, event.id, sets, versions[event.subject]))
            versions[event.subject] += 1
        agencies = await self._agency_entries({n.agency_id for n in told if n.agency_id})
        deliveries: list[dict[str, Any]] = []
        messages: list[OutMessage] = []
        waiting: list[dict[str, Any]] = []
        for notice in told:
            case = facts.get(notice.tracking_id) or {}
            contact = None
            if notice.role == "agency":
                routes = agency_routes(notice, agencies.get(notice.agency_id or ""))
            else:
                contact = contacts.get(notice.tracking_id)
                kind, found = reporter_plan(contact, facts.get(notice.tracking_id))
                routes = [Route("inbox", "reporter", None), *found]
                if kind == "wait":
                    waiting.append(
                        {
                            "_id": notice.key,
                            "tracking_id": notice.tracking_id,
                            "notice": asdict(notice),
                            "created_at": self.clock(),
                        }
                    )
            self._build(notice, routes, case, contact, deliveries, messages)
        # people who joined a report: one read, only for a batch with events they hear of
        backing = [n for e in todo if (n := supporter_notice(e)) is not None]
        supporters: dict[str, list[dict[str, Any]]] = {}
        if backing:
            supporters = await self.store.supporters_of(
                list(dict.fromkeys(n.tracking_id for n in backing))
            )
            for notice in backing:
                case = facts.get(notice.tracking_id) or {}
                for person in supporters.get(notice.tracking_id, ()):
                    about = supporter_about(person)
                    routes = supporter_routes(person)
                    self._build(notice, routes, case, about, deliveries, messages)
        try:
            await self.store.record_plan(
                events=planned,
                deliveries=deliveries,
                waiting=waiting,
                messages=messages,
            )
        except BaseException:
            for t in tids:
                self._facts.pop(t, None)
            raise
        self._keep_facts({t: facts.get(t, {"_id": t}) | {FACTS_VERSION: versions[t]} for t in tids})
        # the contact may have come in while we planned
        await self._expand(recheck + [w["tracking_id"] for w in waiting])
        if backing:
            times = {e.id: e.time for e in todo}
            await self._joined_meanwhile(backing, supporters, facts, times)
        return len(deliveries)

    async def _joined_meanwhile(
        self,
        backing: Sequence[Notice],
        known: Mapping[str, Sequence[Mapping[str, Any]]],
        facts: Mapping[str, Mapping[str, Any]],
        times: Mapping[str, datetime],
    ) -> int:
        """People whose contact was saved after this plan read the supporters and before it
        recorded the news as the report's latest: their own catch-up read the older news
        and skipped it, and this plan did not know them. Read again now that the plan is
        recorded (a contact saved after this read catches up itself); news from before they
        joined is not theirs, and a delivery already made is not made twice."""
        again = await self.store.supporters_of(list(dict.fromkeys(n.tracking_id for n in backing)))
        late: list[tuple[Notice, Mapping[str, Any], Mapping[str, Any]]] = []
        for notice in backing:
            told = {p["supporter_id"] for p in known.get(notice.tracking_id, ())}
            case = facts.get(notice.tracking_id) or {}
            for person in again.get(notice.tracking_id, ()):
                joined = person.get("joined_at")
                happened = times.get(notice.cause_event_id)
                if person["supporter_id"] in told or (joined and happened and happened < joined):
                    continue
                late.append((notice, case, person))
        return await self._tell_late(late)

    def _keep_facts(self, planned: Mapping[str, dict[str, Any]]) -> None:
        """Keep the facts a plan stored, with their version, for the case's next events
        (its dispatch comes about 80 ms after its submission, on the same partition, so to
        the same process). A plan based on them writes only if the stored version is still
        the same: facts another process changed meanwhile (after a rebalance) refuse the
        write, and the batch is planned again from the store."""
        for t, f in planned.items():
            self._facts.pop(t, None)
            self._facts[t] = f
        while len(self._facts) > self.facts_kept:
            self._facts.popitem(last=False)

    async def handle_contacts(self, contacts: Sequence[Contact]) -> int:
        """Reporters' contacts (a parked notice may now be sent) and supporters' (heard from
        the report's next change on)."""
        docs = [
            {
                "_id": c.data.tracking_id,
                "tenant": c.tenant,
                **c.data.model_dump(exclude={"tracking_id"}),
            }
            for c in contacts
            if isinstance(c, ReporterContact)
        ]
        backers = [
            {
                "_id": f"{c.data.tracking_id}:{c.data.supporter_id}",
                "tenant": c.tenant,
                "joined_at": c.time,
                **c.data.model_dump(),
            }
            for c in contacts
            if isinstance(c, SupporterContact)
        ]
        await self.store.save_supporters(backers)
        caught_up = await self._catch_up([c for c in contacts if isinstance(c, SupporterContact)])
        if not docs:
            return caught_up
        await self.store.save_contacts(docs)
        return await self._expand([d["_id"] for d in docs])

    async def _catch_up(self, joined: Sequence[SupporterContact]) -> int:
        """The report's latest news for people whose contact came after it (they joined
        before it happened): once, never twice for the same event and person."""
        if not joined:
            return 0
        facts, _ = await self.store.facts_and_contacts(
            list(dict.fromkeys(c.data.tracking_id for c in joined)), contact_ids=[]
        )
        late: list[tuple[Notice, Mapping[str, Any], Mapping[str, Any]]] = []
        for c in joined:
            case = facts.get(c.data.tracking_id) or {}
            kept = case.get(LATEST_FOR_SUPPORTERS)
            if not kept or kept["at"] < c.time:
                continue  # nothing yet, or news from before they joined
            notice = Notice(**{k: v for k, v in kept.items() if k != "at"})
            late.append((notice, case, c.data.model_dump()))
        return await self._tell_late(late)

    async def _tell_late(
        self, late: Sequence[tuple[Notice, Mapping[str, Any], Mapping[str, Any]]]
    ) -> int:
        """News for supporters its plan did not include (:meth:`_catch_up`,
        :meth:`_joined_meanwhile`): a person's deliveries already made are not made again
        (one read for all of them), and the same news recorded at once by the other path is
        left to that one."""
        built: list[tuple[list[dict[str, Any]], list[OutMessage]]] = []
        for notice, case, person in late:
            mine: list[dict[str, Any]] = []
            jobs: list[OutMessage] = []
            about = supporter_about(person)
            self._build(notice, supporter_routes(person), case, about, mine, jobs)
            if mine:
                built.append((mine, jobs))
        if not built:
            return 0
        made = await self.store.deliveries([d["_id"] for mine, _ in built for d in mine])
        deliveries: list[dict[str, Any]] = []
        messages: list[OutMessage] = []
        for mine, jobs in built:
            if not any(d["_id"] in made for d in mine):
                deliveries.extend(mine)
                messages.extend(jobs)
        if not deliveries:
            return 0
        try:
            await self.store.record_plan(
                events=[], deliveries=deliveries, waiting=[], messages=messages
            )
        except Exception as exc:
            if is_duplicate_key(exc):
                return 0  # handled at once elsewhere: sent by that one
            raise
        return len(deliveries)

    async def _expand(self, tracking_ids: Sequence[str]) -> int:
        """Turn parked reporter notices whose contact is now known into deliveries (no
        store read for no cases)."""
        if not tracking_ids:
            return 0
        waits = await self.store.waiting_for(list(dict.fromkeys(tracking_ids)))
        if not waits:
            return 0
        facts, contacts = await self.store.facts_and_contacts(
            list({w["tracking_id"] for w in waits})
        )
        expansions: dict[str, tuple[list[dict[str, Any]], list[OutMessage]]] = {}
        for w in waits:
            contact = contacts.get(w["tracking_id"])
            if contact is None:
                continue
            notice = Notice(**w["notice"])
            deliveries: list[dict[str, Any]] = []
            messages: list[OutMessage] = []
            case = facts.get(notice.tracking_id) or {}
            self._build(notice, reporter_routes(contact), case, contact, deliveries, messages)
            expansions[w["_id"]] = (deliveries, messages)
        if not expansions:
            return 0
        return await self.store.expand_waiting(expansions)

    def _build(
        self,
        notice: Notice,
        routes: Iterable[Route],
        facts: Mapping[str, Any],
        contact: Mapping[str, Any] | None,
        deliveries: list[dict[str, Any]],
        messages: list[OutMessage],
    ) -> None:
        now = self.clock()
        texts: dict[tuple[str, ...], Any] = {}  # email, inbox and webhook share one text
        built = {d["_id"] for d in deliveries}
        for route in routes:
            if route.channel != "inbox" and route.channel not in self.channels:
                continue  # e.g. no SMS gateway configured here
            did = delivery_id(notice, route)
            if did in built:
                # the same delivery twice in one plan (a channel named twice) would make the
                # plan's insert fail for ever, and the case log stop behind it: once is enough
                continue
            built.add(did)
            names = tuple(template_names(notice, route.channel))
            try:
                if names not in texts:
                    texts[names] = self._render(notice, names, facts, contact)
                rendered = texts[names]
            except Exception as exc:  # a broken or missing template must not stop the rest
                log.error("cannot render %s for %s: %r", route.channel, did, exc)
                continue
            doc: dict[str, Any] = {
                "_id": did,
                "cause_event_id": notice.cause_event_id,
                "cause_event_type": notice.cause_event_type,
                "tracking_id": notice.tracking_id,
                "tenant": notice.tenant,
                "role": notice.role,
                "agency_id": notice.agency_id,
                "recipient": route.recipient,
                "channel": route.channel,
                "address": route.address,
                "subject": rendered.subject,
                "body": rendered.body,
                "attempts": 0,
                "created_at": now,
                "sent_at": None,
                "last_error": None,
            }
            if route.channel == "webhook":
                doc["payload"] = webhook_payload(
                    notice, facts, rendered.subject, rendered.body, did
                )
            if route.channel == "inbox":
                # Stored is delivered: no provider, nothing to retry, so no outcome event
                # (it would cost an outbox round trip and a metrics write per message).
                doc.update(status="delivered", sent_at=now)
            else:
                doc["status"] = "queued"
                messages.append(self._job(doc, attempt=1))
            deliveries.append(doc)

    def _render(
        self,
        notice: Notice,
        names: Sequence[str],
        facts: Mapping[str, Any],
        contact: Mapping[str, Any] | None,
    ) -> Any:
        context: dict[str, Any] = {k: v for k, v in facts.items() if not k.startswith("_")}
        context.update(notice.context)
        context["tracking_id"] = notice.tracking_id
        lang = "id"
        if notice.role == "agency":
            context.setdefault("agency_name", notice.agency_name)
        elif notice.role == "supporter":
            lang = str((contact or {}).get("language") or "id")
            supporter_id = (contact or {}).get("supporter_id")
            if self.stop_codes is not None and supporter_id:
                context["stop_code"] = self.stop_codes.mint(str(supporter_id))
            context["kabar"] = words.supporter_notice(notice.cause_event_type, lang)
            said = SUPPORTERS_READ.get(notice.cause_event_type, ())
            for key in ("text", "reason"):
                if key not in said:
                    context.pop(key, None)
        elif contact is not None:
            lang = str(contact.get("language") or "id")
            if not contact.get("anonymous"):
                context["reporter_name"] = contact.get("name")
        return self.renderer.render(names, lang, notice.tenant, context)

    # -- 2. sending -------------------------------------------------------------------------

    async def handle_jobs(self, channel: str, jobs: Sequence[SendJob]) -> int:
        """Attempt the jobs' deliveries; returns how many were attempted."""
        latest: dict[str, SendJob] = {}
        for job in jobs:
            if job.delivery_id not in latest or job.attempt > latest[job.delivery_id].attempt:
                latest[job.delivery_id] = job
        docs = await self.store.due_deliveries({i: j.attempt for i, j in latest.items()})
        todo = [(job, docs[i]) for i, job in latest.items() if i in docs]
        if not todo:
            return 0
        entries: dict[str, dict[str, Any]] = {}
        if channel == "webhook":
            entries = await self.store.agency_entries(
                list({d["agency_id"] for _, d in todo if d.get("agency_id")})
            )
        over_cap = await self._over_cap(channel, [d for _, d in todo])
        errors = await asyncio.gather(
            *(
                self._attempt(channel, doc, entries.get(doc.get("agency_id") or ""), over_cap)
                for _, doc in todo
            )
        )
        now = self.clock()
        updates: list[tuple[str, dict[str, Any]]] = []
        messages: list[OutMessage] = []
        outcomes: list[tuple[str, str, bool]] = []
        for (job, doc), error in zip(todo, errors, strict=True):
            retryable = not isinstance(error, SendError) or error.retryable
            decision = self.policy.after(job.attempt, error, retryable=retryable)
            reason = None if error is None else _reason(error)
            sets: dict[str, Any] = {
                "status": decision.status,
                "attempts": job.attempt,
                "last_error": reason,
            }
            if decision.status == "sent":
                sets["sent_at"] = now
            elif decision.status == "retrying":
                assert decision.tier is not None
                assert decision.delay is not None
                due = now + timedelta(seconds=decision.delay)
                sets["next_attempt_at"] = due
                messages.append(
                    self._job(doc, attempt=job.attempt + 1, tier=decision.tier, due_at=due)
                )
                log.warning(
                    "delivery %s attempt %d failed, retrying in %.0fs: %s",
                    doc["_id"],
                    job.attempt,
                    decision.delay,
                    reason,
                )
            elif isinstance(error, AddressCapError):
                log.warning("delivery %s not sent: %s", doc["_id"], reason)
            else:
                messages.append(self._dead_letter(job, reason or decision.status))
                log.error("delivery %s %s: %s", doc["_id"], decision.status, reason)
            dead = decision.status not in ("sent", "retrying") and not isinstance(
                error, AddressCapError
            )
            outcomes.append((job.channel, decision.status, dead))
            messages.append(self._outcome(doc, decision.status, job.attempt, reason))
            updates.append((doc["_id"], sets))
        await self.store.settle(updates, messages)
        for channel, status, dead in outcomes:  # counted once the outcome is stored
            self.on_outcome(channel, status, dead)
        return len(todo)

    async def _over_cap(self, channel: str, docs: Sequence[Mapping[str, Any]]) -> set[str]:
        """The reporter deliveries of a batch whose address already had its day's share:
        one claim for the whole batch (not a store round trip per send)."""
        if channel not in CAPPED_CHANNELS:
            return set()
        now = self.clock()
        claims = [
            (address_quota_key(channel, str(d["address"]), now), str(d["_id"]))
            for d in docs
            if d.get("role") == "reporter"
        ]
        allowed = await self.store.claim_address_quotas(claims, self.address_daily_cap)
        return {d for _, d in claims if d not in allowed}

    async def _attempt(
        self,
        channel: str,
        doc: Mapping[str, Any],
        entry: Mapping[str, Any] | None,
        over_cap: set[str],
    ) -> Exception | None:
        adapter = self.channels.get(channel)
        if adapter is None:
            return SendError(f"channel {channel} is not configured", retryable=True)
        if doc["_id"] in over_cap:
            return AddressCapError(self.address_daily_cap)
        secret = None
        if channel == "webhook":
            webhook = (entry or {}).get("webhook") or {}
            if webhook.get("url") != doc.get("address"):
                return SendError("the agency's webhook is no longer registered", retryable=False)
            secret = str(webhook["secret"])
        message = Outgoing(
            id=doc["_id"],
            tracking_id=doc["tracking_id"],
            address=str(doc["address"]),
            subject=doc["subject"],
            body=doc["body"],
            payload=doc.get("payload"),
            secret=secret,
        )
        async with self.slots:
            await self._throttle(channel, message.address)
            try:
                await asyncio.wait_for(adapter.send(message), self.send_timeout)
            except Exception as exc:
                return exc
        return None

    async def _throttle(self, channel: str, address: str) -> None:
        """Wait for the provider's rate limit (webhooks: per receiving host)."""
        key = channel
        if channel == "webhook":
            key = f"webhook:{urlsplit(address).netloc}"
        rate = self.rates.get(key, self.rates.get(channel))
        if not rate:
            return
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = self.buckets[key] = TokenBucket(rate, max(1.0, rate))
        wait = bucket.reserve(self.monotonic())
        if wait > 0:
            await self.sleep(wait)

    # -- 3. waiting -------------------------------------------------------------------------

    async def handle_retries(
        self, jobs: Sequence[SendJob], stopping: asyncio.Event | None = None
    ) -> int:
        """Wait until the batch is due (a tier's delay is fixed, so its jobs come due in
        order), then put the jobs back on their channels' queues."""
        if not jobs:
            return 0
        now = self.clock()
        due = max((j.due_at or now) for j in jobs)
        wait = (due - now).total_seconds()
        if wait > 0:
            if stopping is None:
                await self.sleep(wait)
            else:
                try:
                    await asyncio.wait_for(stopping.wait(), wait)
                except TimeoutError:
                    pass
                else:
                    raise ShuttingDownError("retry wait interrupted by shutdown")
        await self.store.requeue(
            [
                OutMessage.of(
                    topics.NOTIFY_SEND[j.channel],
                    j.tracking_id,
                    j.model_copy(update={"due_at": None}),
                )
                for j in jobs
            ]
        )
        return len(jobs)

    # -- messages -----------------------------------------------------------------------------

    def _job(
        self,
        doc: Mapping[str, Any],
        *,
        attempt: int,
        tier: int | None = None,
        due_at: datetime | None = None,
    ) -> OutMessage:
        job = SendJob(
            delivery_id=doc["_id"],
            tracking_id=doc["tracking_id"],
            tenant=doc["tenant"],
            channel=doc["channel"],
            attempt=attempt,
            due_at=due_at,
        )
        topic = topics.NOTIFY_SEND[job.channel] if tier is None else topics.NOTIFY_RETRY[tier]
        return OutMessage.of(topic, job.tracking_id, job)

    def _dead_letter(self, job: SendJob, reason: str) -> OutMessage:
        message = OutMessage.of(topics.DLQ, job.tracking_id, job)
        message.headers.update(
            {
                topics.DLQ_REASON: reason[:2000],
                topics.DLQ_SOURCE_TOPIC: topics.NOTIFY_SEND[job.channel],
                topics.DLQ_SERVICE: SOURCE,
                topics.DLQ_TIME: self.clock().isoformat(),
            }
        )
        return message

    def _outcome(
        self, doc: Mapping[str, Any], status: str, attempts: int, reason: str | None
    ) -> OutMessage:
        now = self.clock()
        event = NotificationEvent(
            source=SOURCE,
            tenant=doc["tenant"],
            subject=doc["tracking_id"],
            correlation_id=doc["tracking_id"],
            time=now,
            data=NotificationData(
                notification_id=doc["_id"],
                tracking_id=doc["tracking_id"],
                cause_event_id=doc["cause_event_id"],
                cause_event_type=doc["cause_event_type"],
                channel=doc["channel"],
                recipient_role=doc["role"],
                agency_id=doc.get("agency_id"),
                status=status,
                attempts=max(attempts, 1),
                reason=reason,
                at=now,
            ),
        )
        return OutMessage.of(topics.NOTIFICATIONS, doc["tracking_id"], event)

    # -- queries and agency settings ---------------------------------------------------------

    async def for_case(self, tracking_id: str, *, reporter_only: bool) -> list[dict[str, Any]]:
        query: dict[str, Any] = {"tracking_id": tracking_id}
        if reporter_only:
            query["role"] = "reporter"
        return await self.store.list_deliveries(query, 500)

    async def for_agency(self, agency_id: str, limit: int = 200) -> list[dict[str, Any]]:
        return await self.store.list_deliveries(
            {"agency_id": agency_id, "role": "agency"}, limit, newest_first=True
        )

    async def agency_settings(self, agency_id: str) -> dict[str, Any]:
        return await self.store.agency_entry(agency_id) or {"_id": agency_id}

    async def _agency_entries(self, agency_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Agencies' registered contacts and webhooks for planning. All entries are kept in
        memory (one per agency that registered any: a small collection) and checked at most
        every ``agency_ttl`` seconds against the store's version of them, one small read; they
        are read again only when that version moved. So a change through this process is
        seen at once, through another within the TTL. Sending reads the webhook afresh."""
        wanted = list(dict.fromkeys(agency_ids))
        if not wanted:
            return {}
        now = self.monotonic()
        if self._agencies_checked is None or now - self._agencies_checked > self.agency_ttl:
            version, entries = await self.store.agency_entries_since(self._agencies_version)
            if entries is not None:
                self._agencies = entries
            self._agencies_version, self._agencies_checked = version, now
        return {a: e for a in wanted if (e := self._agencies.get(a))}

    def _agencies_changed(self) -> None:
        self._agencies_version = self._agencies_checked = None

    async def register_webhook(self, agency_id: str, url: str) -> str:
        """Register (or replace) the agency's webhook; returns its new signing secret."""
        secret = secrets.token_urlsafe(32)
        await self.store.save_agency_entry(
            agency_id,
            {"webhook": {"url": url, "secret": secret, "registered_at": self.clock()}},
        )
        self._agencies_changed()
        return secret

    async def remove_webhook(self, agency_id: str) -> None:
        await self.store.save_agency_entry(agency_id, {"webhook": None})
        self._agencies_changed()

    async def set_contacts(self, agency_id: str, contacts: Sequence[Mapping[str, Any]]) -> None:
        await self.store.save_agency_entry(agency_id, {"contacts": [dict(c) for c in contacts]})
        self._agencies_changed()


def _reason(error: Exception) -> str:
    text = str(error) if isinstance(error, SendError) else repr(error)
    return text[:500] or type(error).__name__
