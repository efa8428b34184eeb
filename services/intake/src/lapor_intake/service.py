"""Intake's service layer: one code path for every channel."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from lapor_kit.auth import Principal, SecretMinter
from lapor_kit.outbox import OutMessage
from lapor_kit.uploads import UploadHandles
from lapor_schemas import (
    AcceptData,
    Attachment,
    AttachmentClaim,
    CaseDispatched,
    CaseEvent,
    CaseRecategorised,
    CaseSupported,
    Channel,
    ComplaintSubmission,
    ComplaintSubmitted,
    ExternalSubmission,
    FieldError,
    IntakeReceipt,
    ReplyData,
    ReporterAccepted,
    ReporterDisputed,
    ReporterMessaged,
    ReporterRated,
    ReporterRatingData,
    SubmissionCore,
    SupportData,
    SupporterContact,
    SupporterContactData,
    geo,
    topics,
    words,
)
from lapor_schemas import status as case_status
from lapor_schemas.reference import current_code, province_of

from . import triage
from .domain import staff as staff_access
from .domain.credentials import Registry
from .domain.errors import field_error
from .domain.model import (
    SOURCE,
    Accepted,
    Catalogue,
    accept,
    new_tracking_id,
    public_view,
    report_view,
)
from .domain.repeats import Candidate, Match, RepeatIndex, fingerprint, matches
from .domain.sms import normalise_phone
from .domain.views import changes_view, view_updates
from .ports import Box, ComplaintStore, DuplicateExternalIdError, PublicFilter

REPEAT_WINDOW = timedelta(days=90)
SIMILAR_CANDIDATES = 60  # public reports in the box around a spot, before distances decide
SupportOutcome = Literal["ok", "already", "unknown", "not_now"]
MAX_CONFIRMED = 20  # a report's best index matches whose status the store confirms

log = logging.getLogger("lapor.intake")


class Outcomes(Protocol):
    """Counts what became of submissions (a Prometheus counter in production)."""

    def count(self, channel: str, outcome: str, n: int = 1) -> None: ...


class _NoCounts:
    def count(self, channel: str, outcome: str, n: int = 1) -> None:
        return None


ReporterOutcome = Literal["ok", "unknown", "not_now"]


class SubmissionRejectedError(Exception):
    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message_en}" for e in errors))
        self.errors = errors


class IdempotencyConflictError(Exception):
    """The idempotency key was used before with a different request."""


def request_digest(sub: SubmissionCore) -> str:
    """SHA-256 of the validated submission (canonical JSON): what an idempotency key is
    bound to."""
    return hashlib.sha256(sub.model_dump_json().encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Submitted:
    tracking_id: str
    secret: str  # lets the reporter see a confidential report's status and reply
    duplicate: bool = False
    repeat_of: str | None = None


@dataclass(frozen=True, slots=True)
class ExternalItem:
    """One record from ``lapor.intake.v1``: a parsed, authenticated submission or errors."""

    submission: ExternalSubmission | None
    errors: list[FieldError]
    channel: str | None = None
    external_id: str | None = None
    reason_class: str = "invalid"


@dataclass(frozen=True, slots=True)
class ExternalOutcome:
    receipts: list[IntakeReceipt]
    rejected: list[int]  # indexes of items that were refused (they go to the dead-letter topic)
    reason_classes: dict[int, str] = field(default_factory=dict)


def events_of(a: Accepted) -> list[OutMessage]:
    messages = [OutMessage.of(topics.CASES, a.tracking_id, a.submitted)]
    if a.contact is not None:
        messages.append(OutMessage.of(topics.CONTACTS, a.tracking_id, a.contact))
    return messages


class IntakeService:
    def __init__(
        self,
        store: ComplaintStore,
        catalogue: Catalogue,
        clock: Callable[[], datetime],
        registry: Registry | None = None,
        minter: SecretMinter | None = None,
        tracking_ids: Callable[[], str] = new_tracking_id,
        outcomes: Outcomes | None = None,
        repeats: RepeatIndex | None = None,
        uploads: UploadHandles | None = None,
    ) -> None:
        self.store = store
        self.uploads = uploads
        self.repeats = repeats if repeats is not None else RepeatIndex()
        self.triage_models: dict[str, triage.Suggester] = {}
        self._expired_at: datetime | None = None
        self.catalogue = catalogue
        self.clock = clock
        self.registry = registry or Registry()
        self.tracking_ids = tracking_ids
        self.minter = minter or SecretMinter(b"lapor-dev-secret-change-me")
        self.outcomes: Outcomes = outcomes or _NoCounts()

    # -- submissions ---------------------------------------------------------------------

    def _validate(
        self, sub: SubmissionCore, allowed_tenants: Collection[str] | None
    ) -> tuple[str, list[FieldError]]:
        region, errors = self.catalogue.check(sub)
        if (
            region is not None
            and allowed_tenants is not None
            and (province_of(region) not in allowed_tenants)
        ):
            errors.append(
                field_error("region_code", "channel_not_allowed", value=province_of(region))
            )
        return region or "", errors

    # -- repeats -----------------------------------------------------------------------------

    def _index_matches(
        self, fp: Sequence[str], region: str, category: str
    ) -> list[tuple[str, Match]]:
        since = self.clock() - REPEAT_WINDOW
        return matches(fp, self.repeats.candidates(region, category, since))[:MAX_CONFIRMED]

    async def _still_open(self, ranked: Sequence[Sequence[tuple[str, Match]]]) -> set[str]:
        """Which of the index's matches the store says are open (one query for a batch, none
        when nothing matched); the others are dropped from the index."""
        asked = list(dict.fromkeys(tid for r in ranked for tid, _ in r))
        if not asked:
            return set()
        found = await self.store.open_among(asked)
        for tid in asked:
            if tid not in found:
                self.repeats.remove(tid)
        return found

    def _remember(self, accepted: Sequence[Accepted]) -> None:
        for a in accepted:
            data = a.submitted.data
            if not data.confidential:
                self.repeats.add(
                    a.tracking_id,
                    data.region_code,
                    data.category,
                    a.complaint.get("fp") or (),
                    data.submitted_at,
                    data.repeat_of,
                )

    async def load_repeats(self) -> int:
        """Fill the repeat index with the reports open now (at start-up, before following the
        case log from the offsets taken just before); returns how many it holds."""
        for entry in await self.store.recent_open(self.clock() - REPEAT_WINDOW):
            c = entry.candidate
            self.repeats.add(
                c.tracking_id,
                entry.region_code,
                entry.category,
                c.fingerprint,
                entry.submitted_at,
                c.repeat_of,
            )
        return len(self.repeats)

    def observe(self, submitted: Sequence[ComplaintSubmitted], finished: Sequence[str]) -> None:
        """The case log as the repeat index needs it: every process's new reports, and the
        cases that finished (never repeat targets again)."""
        for event in submitted:
            data = event.data
            if not data.confidential:
                self.repeats.add(
                    data.tracking_id,
                    data.region_code,
                    data.category,
                    fingerprint(data.title, data.description),
                    data.submitted_at,
                    data.repeat_of,
                )
        for tracking_id in finished:
            self.repeats.remove(tracking_id)
        now = self.clock()
        if self._expired_at is None or now - self._expired_at > timedelta(hours=1):
            self._expired_at = now
            self.repeats.expire(now - REPEAT_WINDOW)

    def resolve_attachments(
        self, claims: Sequence[AttachmentClaim], binding: str | None
    ) -> tuple[list[Attachment], list[FieldError]]:
        """The files a report attaches, from the handles its client's uploads answered. A
        handle that is forged, expired, or was issued to another upload session (another
        browser's form, another staff member) is refused by its position, as if unknown:
        a report can never name a file it did not upload itself."""
        found: list[Attachment] = []
        errors: list[FieldError] = []
        seen: set[str] = set()
        for index, claim in enumerate(claims):
            ticket = (
                self.uploads.open(claim.handle, binding)
                if self.uploads is not None and binding is not None
                else None
            )
            if ticket is None:
                errors.append(field_error(f"attachments.{index}", "attachment_unknown"))
            elif ticket.object_id not in seen:
                seen.add(ticket.object_id)
                found.append(ticket.attachment())
        return found, errors

    async def submit(
        self,
        sub: ComplaintSubmission,
        *,
        channel: Channel,
        entered_by: str | None = None,
        channel_id: str | None = None,
        external_id: str | None = None,
        allowed_tenants: Collection[str] | None = None,
        upload_binding: str | None = None,
    ) -> Submitted:
        """Validate, detect repeats, store durably (with the outbox); return the tracking id
        and the reporter's secret.

        A known (channel_id, external_id) returns the first report's id and secret only for
        the same request (a retry): the key is bound to the submission's digest, so the same
        key with another body is refused (:class:`IdempotencyConflictError`) and never hands
        over someone else's report. The key is looked up first, so a retry is answered even
        after its uploads' handles expired. Attachments are the handles of files uploaded in
        the same upload session (``upload_binding``)."""
        key = (channel_id, external_id) if channel_id and external_id else None
        digest = request_digest(sub) if key is not None else None
        if key is not None:
            known = await self.store.external_ids([key])
            if key in known:
                return await self._known(key, known[key], digest, channel)
        region, errors = self._validate(sub, allowed_tenants)
        attachments, refused = self.resolve_attachments(sub.attachments, upload_binding)
        errors += refused
        if errors:
            self.outcomes.count(channel.value, "rejected")
            raise SubmissionRejectedError(errors)
        fp = fingerprint(sub.title, sub.description)
        ranked = self._index_matches(fp, region, sub.category)
        still_open = await self._still_open([ranked])
        repeat = next((m for tid, m in ranked if tid in still_open), None)
        accepted = accept(
            sub,
            channel=channel,
            now=self.clock(),
            tracking_id=self.tracking_ids(),
            region_code=region,
            attachments=attachments,
            public_replies=sub.public_replies,
            fingerprint=fp,
            repeat=repeat,
            channel_id=channel_id,
            external_id=external_id,
            entered_by=entered_by,
            suggested=triage.top(
                sub.title, sub.description, self.triage_models.get(province_of(region))
            ),
        )
        if digest is not None:
            accepted.complaint["request_sha256"] = digest
        try:
            await self.store.add([accepted], [])
        except DuplicateExternalIdError:
            assert key is not None
            known = await self.store.external_ids([key])
            return await self._known(key, known[key], digest, channel)
        self._remember([accepted])
        self.outcomes.count(channel.value, "accepted")
        tid = accepted.tracking_id
        return Submitted(
            tid, self.minter.mint(tid), repeat_of=repeat.tracking_id if repeat else None
        )

    async def _known(
        self, key: tuple[str, str], tracking_id: str, digest: str | None, channel: Channel
    ) -> Submitted:
        """A retry of a stored submission gets its tracking id and secret again, but only
        when it is the same request: a web ``Idempotency-Key`` is shared by every client, and
        a slip number by everyone at one office, so the same key with another body is refused
        instead of handing over someone else's report and secret."""
        if digest is not None and await self.store.request_digest(key) != digest:
            self.outcomes.count(channel.value, "key_conflict")
            raise IdempotencyConflictError(key[1])
        self.outcomes.count(channel.value, "duplicate")
        return Submitted(tracking_id, self.minter.mint(tracking_id), duplicate=True)

    async def submit_external(
        self, items: Sequence[ExternalItem], attempts: int = 3
    ) -> ExternalOutcome:
        """Store a batch from ``lapor.intake.v1``; every item gets a receipt (in the outbox,
        in the same transaction). The same (channel, external_id) always yields the same
        tracking id: known keys are answered from the store, and a concurrent writer's win
        makes the whole batch retry."""
        for attempt in range(attempts):
            try:
                # first as if every key were new (a known key makes the write refuse the
                # whole batch), then asking the store which keys it knows
                outcome = await self._submit_external_once(items, look_up=attempt > 0)
            except DuplicateExternalIdError:
                if attempt == attempts - 1:
                    raise
                continue
            for index, receipt in enumerate(outcome.receipts):
                kind = outcome.reason_classes.get(index) or (
                    "duplicate" if receipt.duplicate else receipt.status
                )
                self.outcomes.count(Channel.EXTERNAL.value, kind)
            return outcome
        raise AssertionError("unreachable")

    async def _submit_external_once(
        self, items: Sequence[ExternalItem], *, look_up: bool
    ) -> ExternalOutcome:
        now = self.clock()
        keys = [
            (i.submission.channel, i.submission.external_id)
            for i in items
            if i.submission is not None
        ]
        known = await self.store.external_ids(keys) if look_up else {}
        accepted: list[Accepted] = []
        receipts: list[IntakeReceipt] = []
        rejected: list[int] = []
        reasons: dict[int, str] = {}
        fresh: dict[tuple[str, str], str] = {}
        # Repeat candidates come from the in-memory index; the store is asked only whether
        # the reports that matched are still open (one query for the batch, none if none).
        ranked: dict[int, list[tuple[str, Match]]] = {}
        prints: dict[int, list[str]] = {}  # each report's fingerprint, computed once
        for index, item in enumerate(items):
            if item.submission is not None and not item.errors:
                located, _ = self.catalogue.locate(item.submission)
                if located is not None:
                    fp = fingerprint(item.submission.title, item.submission.description)
                    prints[index] = fp
                    ranked[index] = self._index_matches(fp, located, item.submission.category)
        still_open = await self._still_open(list(ranked.values()))
        batch: dict[tuple[str, str], list[Candidate]] = {}  # accepted in this batch
        for index, item in enumerate(items):
            sub = item.submission
            errors, region = item.errors, ""
            if sub is not None:
                credential = self.registry.channel(sub.channel)
                allowed = credential.tenants if credential else ()
                region, errors = self._validate(sub, allowed)
            if sub is None or errors:
                rejected.append(index)
                reasons[index] = item.reason_class if sub is None else "invalid"
                receipts.append(
                    IntakeReceipt(
                        channel=sub.channel if sub else item.channel,
                        external_id=sub.external_id if sub else item.external_id,
                        status="rejected",
                        errors=errors,
                        received_at=now,
                    )
                )
                continue
            key = (sub.channel, sub.external_id)
            existing = known.get(key) or fresh.get(key)
            if existing is not None:
                receipts.append(
                    IntakeReceipt(
                        channel=sub.channel,
                        external_id=sub.external_id,
                        status="accepted",
                        tracking_id=existing,
                        duplicate=True,
                        received_at=now,
                    )
                )
                continue
            core = SubmissionCore.model_validate(
                sub.model_dump(exclude={"channel", "external_id", "attachments"})
            )
            group = (region, sub.category)
            fp = prints.get(index) or fingerprint(sub.title, sub.description)
            # this batch's own reports are newer than the index's: first among equals
            mine = matches(fp, reversed(batch.get(group, ())))
            from_index = [(t, m) for t, m in ranked.get(index, ()) if t in still_open]
            best = sorted([*mine, *from_index], key=lambda tm: -tm[1].score)
            repeat = best[0][1] if best else None
            a = accept(
                core,
                channel=Channel.EXTERNAL,
                now=now,
                tracking_id=self.tracking_ids(),
                region_code=region,
                # links into the channel's own store (https only, by the contract)
                attachments=[Attachment.model_validate(x.model_dump()) for x in sub.attachments],
                fingerprint=fp,
                repeat=repeat,
                channel_id=sub.channel,
                external_id=sub.external_id,
                suggested=triage.top(
                    sub.title, sub.description, self.triage_models.get(province_of(region))
                ),
            )
            batch.setdefault(group, []).append(
                Candidate(a.tracking_id, fp, a.submitted.data.repeat_of)
            )
            fresh[key] = a.tracking_id
            accepted.append(a)
            receipts.append(
                IntakeReceipt(
                    channel=sub.channel,
                    external_id=sub.external_id,
                    status="accepted",
                    tracking_id=a.tracking_id,
                    received_at=now,
                )
            )
        extra = [OutMessage.of(topics.INTAKE_RECEIPTS, r.channel or "", r) for r in receipts]
        await self.store.add(accepted, extra)
        self._remember(accepted)
        return ExternalOutcome(receipts, rejected, reasons)

    # -- the reporter's side -------------------------------------------------------------

    async def _owner_verified(
        self, doc: dict[str, Any], secret: str | None, phone: str | None
    ) -> bool:
        if secret is not None:
            return self.minter.verify(doc["_id"], secret)
        if phone is not None:
            identity = await self.store.identity(doc["_id"])
            stored = (identity or {}).get("phone")
            return isinstance(stored, str) and normalise_phone(stored) == normalise_phone(phone)
        return False

    async def message(
        self,
        tracking_id: str,
        text: str,
        *,
        channel: Channel,
        secret: str | None = None,
        phone: str | None = None,
    ) -> ReporterOutcome:
        """A message from the reporter: a question or more information for the agency (the
        answer, while details are asked for). It never closes the case. Proven by the secret
        or by the phone number the report came from."""
        return await self._from_reporter(
            "message",
            tracking_id,
            secret,
            phone,
            ReporterMessaged,
            ReplyData,
            text=text[:2000],
            channel=channel,
        )

    async def reply(
        self,
        tracking_id: str,
        text: str,
        *,
        channel: Channel,
        secret: str | None = None,
        phone: str | None = None,
    ) -> bool:
        """The older name of :meth:`message` (a reply is a message now: it closes nothing)."""
        outcome = await self.message(tracking_id, text, channel=channel, secret=secret, phone=phone)
        return outcome == "ok"

    async def accept(
        self,
        tracking_id: str,
        *,
        channel: Channel,
        text: str = "",
        secret: str | None = None,
        phone: str | None = None,
    ) -> ReporterOutcome:
        """The follow-up solved it ("Selesai, terima kasih"): routing closes the case."""
        return await self._from_reporter(
            "accept",
            tracking_id,
            secret,
            phone,
            ReporterAccepted,
            AcceptData,
            text=text[:2000],
            channel=channel,
        )

    async def dispute(
        self,
        tracking_id: str,
        text: str,
        *,
        secret: str | None = None,
        phone: str | None = None,
        channel: Channel = Channel.WEB,
    ) -> ReporterOutcome:
        """Not solved: routing sends the case back to the agency, with a new deadline."""
        return await self._from_reporter(
            "dispute",
            tracking_id,
            secret,
            phone,
            ReporterDisputed,
            ReplyData,
            text=text[:2000],
            channel=channel,
        )

    async def rate(
        self, tracking_id: str, score: int, comment: str, *, secret: str
    ) -> ReporterOutcome:
        """A rating 1-5 of the handling, once the case is closed."""
        return await self._from_reporter(
            "rate",
            tracking_id,
            secret,
            None,
            ReporterRated,
            ReporterRatingData,
            score=score,
            text=comment[:2000],
            channel=Channel.WEB,
        )

    async def _from_reporter(
        self,
        action: str,
        tracking_id: str,
        secret: str | None,
        phone: str | None,
        event_cls: type[Any],
        data_cls: type[Any],
        **data: Any,
    ) -> ReporterOutcome:
        """``unknown`` alike for an unknown case and one that is not the sender's; ``not_now``
        when the case's status does not allow it (nothing is published: the reporter is told
        at once instead of routing refusing it later, unseen)."""
        doc = await self.store.get(tracking_id)
        if doc is None or not await self._owner_verified(doc, secret, phone):
            return "unknown"
        if doc["status"] not in case_status.REPORTER_MAY[action]:
            return "not_now"
        now = self.clock()
        event = event_cls(
            source=SOURCE,
            tenant=doc["tenant"],
            subject=tracking_id,
            correlation_id=tracking_id,
            time=now,
            data=data_cls(tracking_id=tracking_id, replied_at=now, **data),
        )
        entry = {
            "event_id": event.id,
            "type": event.type,
            "status": doc["status"],
            "at": now,
            "text": data.get("text") or None,
            "actor": {"kind": "reporter"},
        }
        if "score" in data:
            entry["score"] = data["score"]
        await self.store.add_reply(
            tracking_id, entry, OutMessage.of(topics.CASES, tracking_id, event)
        )
        return "ok"

    # -- the same problem ------------------------------------------------------------------

    async def similar(
        self,
        *,
        category: str,
        region_code: str | None = None,
        lat: float | None = None,
        lon: float | None = None,
        km: float = 1.0,
        days: int = 60,
        limit: int = 5,
    ) -> list[dict[str, Any]]:
        """Public reports like the one being written, before it is filed: the same category,
        submitted in the last ``days``, within ``km`` of the spot (nearest first, with
        ``distance_m``) or, without a spot, in the same regency (newest first). Only what
        anyone may see (:class:`PublicFilter`): never a confidential, unverified or hidden
        report, never identity."""
        since = self.clock() - timedelta(days=days)
        if lat is not None and lon is not None:
            south, north, west, east = geo.box_around(lat, lon, km)
            docs = await self.store.public_list(
                PublicFilter(
                    categories=(category,), since=since, within=Box(south, north, west, east)
                ),
                limit=SIMILAR_CANDIDATES,
            )
            near = []
            for d in docs:
                spot = d.get("location") or {}
                metres = 1000 * geo.distance_km(lat, lon, spot["lat"], spot["lon"])
                if metres <= km * 1000:
                    near.append((metres, d))
            near.sort(key=lambda pair: (pair[0], pair[1]["_id"]))
            return [{**public_view(d), "distance_m": round(m)} for m, d in near[:limit]]
        if region_code:
            docs = await self.store.public_list(
                PublicFilter(
                    region_code=current_code(region_code), categories=(category,), since=since
                ),
                limit=limit,
            )
            return [public_view(d) for d in docs]
        return []

    async def support(
        self,
        tracking_id: str,
        *,
        key: str,
        email: str | None = None,
        phone: str | None = None,
        channels: Sequence[str] = (),
        language: str = "id",
        channel: Channel = Channel.WEB,
    ) -> tuple[SupportOutcome, int]:
        """Someone with the same problem joins a public, open report ("Ini masalah yang
        sama") instead of filing another: counted once per person (their email, else their
        phone, else the form's ``key``), told when the report changes if they left a contact
        (notify, through ``lapor.contacts.v1``), and counted for the staff (routing, through
        ``case.supported``). ``unknown`` alike for an unknown and a non-public report;
        ``not_now`` for a finished one. Returns the outcome and the count."""
        doc = await self.store.get(tracking_id)
        if doc is None or not PublicFilter(ids=(tracking_id,)).admits(doc):
            return "unknown", 0
        if doc["status"] in case_status.FINISHED:
            return "not_now", int(doc.get("supporters") or 0)
        who = (email or "").strip().lower() or normalise_phone(phone or "") or f"key:{key}"
        supporter_id = hashlib.sha256(f"{tracking_id}|{who}".encode()).hexdigest()[:16]
        now = self.clock()
        wanted = list(dict.fromkeys(c for c in channels if c in ("email", "sms", "whatsapp")))
        lang = "en" if language == "en" else "id"

        def messages(count: int) -> list[OutMessage]:
            envelope = {
                "source": SOURCE,
                "tenant": doc["tenant"],
                "subject": tracking_id,
                "correlation_id": tracking_id,
                "time": now,
            }
            out = [
                OutMessage.of(
                    topics.CASES,
                    tracking_id,
                    CaseSupported(
                        **envelope,
                        data=SupportData(
                            tracking_id=tracking_id,
                            supporters=count,
                            channel=channel,
                            supported_at=now,
                        ),
                    ),
                )
            ]
            if email or phone:
                out.append(
                    OutMessage.of(
                        topics.CONTACTS,
                        tracking_id,
                        SupporterContact(
                            **envelope,
                            data=SupporterContactData(
                                tracking_id=tracking_id,
                                supporter_id=supporter_id,
                                email=email or None,
                                phone=phone or None,
                                language=lang,
                                channels=wanted,
                            ),
                        ),
                    )
                )
            return out

        supporter = {
            "_id": f"{tracking_id}:{supporter_id}",
            "tracking_id": tracking_id,
            "supporter_id": supporter_id,
            "email": email or None,
            "phone": phone or None,
            "language": lang,
            "channels": wanted,
            "joined_at": now,
        }
        count = await self.store.add_supporter(tracking_id, supporter, messages)
        if count is None:
            return "already", int(doc.get("supporters") or 0)
        return "ok", count

    async def status_words(self, tracking_id: str, lang: str = "id") -> str:
        """The report's status as the reporter reads it (for an SMS answer)."""
        doc = await self.store.get(tracking_id)
        return words.status(str(doc["status"]), lang) if doc else ""

    async def status(
        self, tracking_id: str, secret: str | None = None
    ) -> tuple[dict[str, Any], bool] | None:
        """(view, owner) for the reporter with the secret; the public view of a public report
        without it; ``None`` for an unknown id, a wrong secret, and without the secret for a
        report that is confidential, not yet verified or hidden by a coordinator."""
        doc = await self.store.get(tracking_id)
        if doc is None:
            return None
        if secret is not None:
            if not await self._owner_verified(doc, secret, None):
                return None
            view = report_view(doc)
            identity = await self.store.identity(tracking_id)
            if identity:
                view["reporter"] = {k: identity.get(k) for k in ("name", "email", "phone")}
            return view, True
        if not PublicFilter(ids=(tracking_id,)).admits(doc):
            return None
        return public_view(doc), False

    # -- staff ---------------------------------------------------------------------------

    async def staff_report(self, tracking_id: str, who: Principal) -> dict[str, Any] | None:
        """The whole report (confidential ones too) for staff who may read it; ``None`` both
        for an unknown id and for one they may not read (the answers look the same). The
        reporter's identity is never in it: :meth:`staff_identity` is asked for on purpose."""
        doc = await self.store.get(tracking_id)
        if doc is None or not staff_access.may_read(who, doc):
            return None
        view = report_view(doc)
        view["identity_available"] = staff_access.may_see_identity(who, doc)
        view["may_moderate"] = staff_access.may_moderate(who, doc)
        return view

    async def moderate(
        self, tracking_id: str, who: Principal, hidden: bool, redactions: Sequence[str]
    ) -> dict[str, Any] | None:
        """A coordinator hides a report from the public or redacts passages of its public
        text (the original stays for staff and the reporter); ``None`` alike for an unknown
        report and one they may not moderate. The portal records it in the audit log."""
        doc = await self.store.get(tracking_id)
        if doc is None or not staff_access.may_moderate(who, doc):
            return None
        passages = [p.strip() for p in redactions if p.strip()][:20]
        await self.store.set_public(tracking_id, hidden, passages)
        return {"tenant": doc["tenant"], "hidden": hidden, "public_redactions": passages}

    async def staff_attachment(self, tracking_id: str, who: Principal, index: int) -> str | None:
        """Where the ``index``-th file of a report is stored, for staff who may read the
        report; ``None`` alike for an unknown report, one they may not read and no such file.
        A file is only ever reached through the report that owns it."""
        doc = await self.store.get(tracking_id)
        if doc is None or not staff_access.may_read(who, doc):
            return None
        return _ref_at(doc, index)

    async def reporter_attachment(
        self, tracking_id: str, secret: str | None, index: int
    ) -> str | None:
        """Where the ``index``-th file of a report is stored: for its reporter (the secret)
        any file; for anyone else a photo of a public report only (never a document, a video
        or a recording: those may hold what the public should not see)."""
        doc = await self.store.get(tracking_id)
        if doc is None:
            return None
        if secret is not None:
            return _ref_at(doc, index) if await self._owner_verified(doc, secret, None) else None
        files = doc.get("attachments") or []
        public_photo = (
            PublicFilter(ids=(tracking_id,)).admits(doc)
            and 0 <= index < len(files)
            and str(files[index].get("content_type", "")).startswith("image/")
        )
        return _ref_at(doc, index) if public_photo else None

    async def staff_identity(self, tracking_id: str, who: Principal) -> dict[str, Any] | None:
        doc = await self.store.get(tracking_id)
        if doc is None or not staff_access.may_see_identity(who, doc):
            return None
        identity = await self.store.identity(tracking_id) or {}
        return {k: identity.get(k) for k in ("name", "email", "phone")}

    async def public_reports(
        self,
        *,
        tenant: str | None = None,
        region_code: str | None = None,
        category: str | None = None,
        statuses: Sequence[str] = (),
        open_cases: bool | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        ids: Sequence[str] = (),
        limit: int = 100,
        skip: int = 0,
    ) -> list[dict[str, Any]]:
        """Public reports only (:class:`PublicFilter`), newest first, never identity."""
        which = PublicFilter(
            tenant=tenant,
            region_code=region_code,
            categories=tuple(category.split(",")) if category else (),
            statuses=tuple(statuses),
            open_cases=open_cases,
            since=since,
            until=until,
            ids=tuple(ids),
        )
        docs = await self.store.public_list(which, limit=limit, skip=skip)
        return [public_view(d) for d in docs]

    async def project(self, events: Sequence[CaseEvent]) -> int:
        """Apply case-log events to the reporter-facing views (idempotent), one write per
        case: routing's events for a case usually arrive together (verified, dispatched)."""
        relevant = [e for e in events if changes_view(e)]
        if not relevant:
            return 0
        applied = await self.store.applied_events(list({e.subject for e in relevant}))
        updates = view_updates(relevant, applied)
        if updates:
            await self.store.apply_views(updates)
        await self._learn(
            [
                e
                for e in relevant
                if isinstance(e, CaseRecategorised | CaseDispatched) and teaches(e)
            ]
        )
        return len(updates)

    async def _learn(self, events: Sequence[CaseEvent]) -> None:
        """Labelled examples for the province's next retrain (the report's own words): a
        verifier's correction of a category, and a decline that ended at an agency of
        another category."""
        found = []
        for event in events:
            doc = await self.store.get(event.subject)
            if doc is None:
                continue
            if isinstance(event, CaseRecategorised):
                category: str | None = event.data.category
                previous = event.data.previous_category
            elif isinstance(event, CaseDispatched):
                category = triage.declined_to(doc, event.data.agency.categories)
                previous = str(doc.get("category") or "")
            else:
                continue
            if category is None:
                continue
            found.append(
                triage.Correction(
                    id=event.id,
                    province=event.tenant,
                    category=category,
                    previous=previous,
                    text=f"{doc.get('title', '')}\n{doc.get('description', '')}",
                )
            )
        if found:
            await self.store.save_corrections(found)

    async def retrain_triage(self) -> list[triage.Retrained]:
        """Fold each province's corrections into its own model, used only when it answers the
        committed held-out reports at least as well (run by the periodic job and by
        ``lapor-intake-retrain``)."""
        decisions = []
        for decision, model in await retrain_all(self.store, self.clock):
            if model is not None:
                self.triage_models[decision.province] = model
            decisions.append(decision)
        return decisions

    def triage_model(self, province: str | None) -> triage.Suggester:
        """The province's accepted model, else the committed one."""
        return self.triage_models.get(province or "", None) or triage.default()


def _ref_at(doc: dict[str, Any], index: int) -> str | None:
    files = doc.get("attachments") or []
    if not 0 <= index < len(files):
        return None
    ref = files[index].get("ref")
    return ref if isinstance(ref, str) else None


async def retrain_all(
    store: ComplaintStore, clock: Callable[[], datetime]
) -> list[tuple[triage.Retrained, triage.Suggester | None]]:
    """Each province's retrain, its decision recorded (the periodic job and the command)."""
    out = []
    for province, corrections in sorted((await store.corrections()).items()):
        decision, model = await asyncio.to_thread(triage.retrain, province, corrections)
        await store.record_retrain(decision, clock())
        log.info("triage retrain %s: %s", province, decision)
        out.append((decision, model))
    return out


def teaches(event: CaseEvent) -> bool:
    """Whether ``event`` may be a labelled example, judged from the event alone (no store read
    for the ordinary dispatch): a correction, or a dispatch to an agency handling exactly one
    category that is not the case's (whether a decline came before is read from the report)."""
    if isinstance(event, CaseRecategorised):
        return True
    if isinstance(event, CaseDispatched):
        handled = event.data.agency.categories
        return len(handled) == 1 and handled[0] != event.data.category
    return False
