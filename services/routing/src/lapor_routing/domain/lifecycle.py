"""The case lifecycle as a state machine. Pure: every action takes the case (a dict, as
stored) and returns :class:`Effects` — field updates, history, events, timers — or raises
:class:`IllegalTransitionError`.

    submitted ─verify─► verified ─dispatch─► dispatched ─follow_up─► followed_up ─reply─► closed
        │ request_info ─► needs_info ─reply─► submitted      ▲   │decline (re-dispatched)   │ rate
        │ reject ─► rejected            dispute: followed_up ─► disputed (agency again)    ▼
        │ mark_repeat ─► marked_repeat                                                     rated
Deadlines (working days, per tenant): verify, follow-up, reporter reply (then auto-close);
a missed verify/follow-up deadline escalates along the tenant's chain.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from lapor_schemas import (
    Actor,
    AgencyRef,
    Attachment,
    CaseClosed,
    CaseDeclined,
    CaseDispatched,
    CaseDisputed,
    CaseEscalated,
    CaseFollowedUp,
    CaseInfoReceived,
    CaseInfoRequested,
    CaseMarkedRepeat,
    CaseRated,
    CaseRecategorised,
    CaseRejected,
    CaseReminder,
    CaseSupported,
    CaseVerified,
    ComplaintSubmitted,
    DispatchedData,
    Envelope,
    EscalationData,
    MarkedRepeatData,
    RatingData,
    RecategorisedData,
    ReminderData,
    ReporterAccepted,
    ReporterDisputed,
    ReporterMessaged,
    ReporterRated,
    ReporterReplied,
    TransitionData,
    words,
)
from lapor_schemas.calendar import Calendar
from lapor_schemas.status import FINISHED, REPORTER_MAY, STAFF_MAY, STAGE_OF, TERMINAL

from .directory import Agency, Decision, Directory, NoAgencyError, TenantPolicy
from .inbox import words_of

SOURCE = "lapor-routing"
SYSTEM = Actor(kind="system", id="lapor-routing")
REPORTER = Actor(kind="reporter")
LEGAL: dict[str, frozenset[str]] = {
    **STAFF_MAY,
    "accept": REPORTER_MAY["accept"],
    "dispute": REPORTER_MAY["dispute"],
    "rate": REPORTER_MAY["rate"],
}

Stage = Literal["verify", "follow_up", "reply"]


class IllegalTransitionError(Exception):
    def __init__(self, action: str, status: str) -> None:
        self.action, self.status = action, status
        self.code = "illegal_transition"
        # in words (a page shows this reason): the status as people read it, no codes
        self.message = (
            "Tindakan ini tidak dapat dilakukan pada laporan yang berstatus "
            f"\u201c{words.status(status, 'id')}\u201d."
        )
        self.message_en = (
            "This cannot be done to a report whose status is "
            f"\u201c{words.status(status, 'en')}\u201d."
        )
        super().__init__(self.message_en)


class UnknownAgencyError(LookupError):
    pass


@dataclass(frozen=True, slots=True)
class Timer:
    id: str
    tracking_id: str
    tenant: str
    kind: Literal["deadline", "reminder"]
    stage: Stage
    level: int
    due_at: datetime

    def doc(self) -> dict[str, Any]:
        return {
            "_id": self.id,
            "tracking_id": self.tracking_id,
            "tenant": self.tenant,
            "kind": self.kind,
            "stage": self.stage,
            "level": self.level,
            "due_at": self.due_at,
            "fired": False,
        }


@dataclass
class Effects:
    sets: dict[str, Any] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    events: list[Envelope] = field(default_factory=list)
    timers: list[Timer] = field(default_factory=list)
    cancel_timers: bool = False

    def then(self, other: Effects) -> Effects:
        return Effects(
            sets={**self.sets, **other.sets},
            history=self.history + other.history,
            events=self.events + other.events,
            timers=other.timers if other.cancel_timers else self.timers + other.timers,
            cancel_timers=self.cancel_timers or other.cancel_timers,
        )

    def applied_to(self, case: dict[str, Any]) -> dict[str, Any]:
        return {**case, **self.sets, "history": [*case.get("history", []), *self.history]}


def ref(agency: Agency) -> AgencyRef:
    return AgencyRef(
        id=agency.id,
        name=agency.name,
        region_code=agency.region_code,
        email=agency.email,
        categories=list(agency.categories),
    )


class Lifecycle:
    def __init__(self, directory: Directory, calendar: Callable[[str], Calendar]) -> None:
        self.directory = directory
        self.calendar = calendar

    # -- helpers -----------------------------------------------------------------------------

    def policy(self, case: dict[str, Any]) -> TenantPolicy:
        return self.directory.policy(case["tenant"])

    def _require(self, action: str, case: dict[str, Any]) -> None:
        if case["status"] not in LEGAL[action]:
            raise IllegalTransitionError(action, case["status"])

    def _event(self, cls: type[Any], case: dict[str, Any], now: datetime, data: Any) -> Envelope:
        event: Envelope = cls(
            source=SOURCE,
            tenant=case["tenant"],
            subject=case["_id"],
            correlation_id=case["_id"],
            time=now,
            data=data,
        )
        return event

    def _step(
        self,
        cls: type[Envelope],
        case: dict[str, Any],
        now: datetime,
        status: str,
        actor: Actor,
        *,
        data_cls: type[TransitionData] = TransitionData,
        **data: Any,
    ) -> Effects:
        payload = data_cls(tracking_id=case["_id"], status=status, at=now, actor=actor, **data)
        event = self._event(cls, case, now, payload)
        entry = {
            "event_id": event.id,
            "type": event.type,
            "status": status,
            "at": now,
            "actor": actor.model_dump(exclude_none=True),
        }
        for key in ("reason", "text", "score", "level"):
            if data.get(key) is not None:
                entry[key] = data[key]
        if data.get("agency") is not None:
            entry["agency_id"] = data["agency"].id
        return Effects(sets={"status": status, "updated_at": now}, history=[entry], events=[event])

    def _due(self, case: dict[str, Any], now: datetime, days: int) -> datetime:
        """The deadline :meth:`_deadline` sets, for the event that announces it."""
        return self.calendar(case["tenant"]).add_working_days(now, days)

    def _deadline(
        self,
        case: dict[str, Any],
        now: datetime,
        stage: Stage,
        days: int,
        level: int = 0,
        remind: bool = True,
    ) -> Effects:
        cal = self.calendar(case["tenant"])
        policy = self.policy(case)
        due = cal.add_working_days(now, days)
        n = len(case.get("history", []))
        timers = [
            Timer(
                f"{case['_id']}:{stage}:deadline:{level}:{n}",
                case["_id"],
                case["tenant"],
                "deadline",
                stage,
                level,
                due,
            )
        ]
        if remind and policy.reminder_days_before > 0:
            at = cal.working_days_before(due, policy.reminder_days_before)
            if at > now:
                timers.append(
                    Timer(
                        f"{case['_id']}:{stage}:reminder:{level}:{n}",
                        case["_id"],
                        case["tenant"],
                        "reminder",
                        stage,
                        level,
                        at,
                    )
                )
        return Effects(
            sets={"due_at": due, "stage": stage, "overdue_since": None},
            timers=timers,
            cancel_timers=True,
        )

    def _no_deadline(self) -> Effects:
        return Effects(
            sets={"due_at": None, "stage": None, "overdue_since": None}, cancel_timers=True
        )

    # -- opening -------------------------------------------------------------------------------

    def open_case(
        self, submitted: ComplaintSubmitted, now: datetime
    ) -> tuple[dict[str, Any], Effects]:
        d = submitted.data
        case: dict[str, Any] = {
            "_id": d.tracking_id,
            "tenant": submitted.tenant,
            "status": "submitted",
            "type": d.type.value,
            "category": d.category,
            "region_code": d.region_code,
            "channel": d.channel.value,
            "anonymous": d.anonymous,
            "confidential": d.confidential,
            "title": d.title,
            "description": d.description,
            "words": words_of(d.title, d.description),  # what the inbox's search matches
            "repeat_of": d.repeat_of,
            "suggested_category": d.suggested_category,  # the verifier's flag
            "submitted_at": d.submitted_at,
            "agency_id": None,
            "transfers": 0,
            "tried": [],
            "escalation_level": 0,
            "escalated_to": None,
            "due_at": None,
            "stage": None,
            "version": 0,
            "updated_at": now,
            "history": [
                {
                    "event_id": submitted.id,
                    "type": submitted.type,
                    "status": "submitted",
                    "at": d.submitted_at,
                }
            ],
        }
        if self.policy(case).verification == "auto" and d.repeat_of is None:
            try:
                return case, self.verify(case, SYSTEM, now, note="verifikasi otomatis")
            except (UnknownAgencyError, NoAgencyError) as exc:
                return case, self.park(case, now, f"no agency can be chosen: {exc}")
        return case, self._deadline(case, now, "verify", self.policy(case).verify_days)

    def park(self, case: dict[str, Any], now: datetime, reason: str) -> Effects:
        """A case the rules cannot decide (no agency, no coordinator: a directory mistake)
        waits for a person — "perlu penanganan manual" in its province's inbox — under its
        verification deadline, instead of failing its batch again and again. Dispatching it
        by hand (once the directory is repaired, or to a named agency) clears the mark."""
        return Effects(sets={"parked": {"reason": reason[:500], "at": now}}).then(
            self._deadline(case, now, "verify", self.policy(case).verify_days, remind=False)
        )

    # -- admin actions -------------------------------------------------------------------------

    def verify(
        self,
        case: dict[str, Any],
        actor: Actor,
        now: datetime,
        agency_id: str | None = None,
        note: str | None = None,
    ) -> Effects:
        self._require("verify", case)
        verified = self._step(CaseVerified, case, now, "verified", actor, reason=note)
        return verified.then(
            self.dispatch(verified.applied_to(case), actor, now, agency_id=agency_id)
        )

    def request_info(
        self, case: dict[str, Any], actor: Actor, now: datetime, question: str
    ) -> Effects:
        self._require("request_info", case)
        days = self.policy(case).reply_days
        step = self._step(
            CaseInfoRequested,
            case,
            now,
            "needs_info",
            actor,
            text=question,
            due_at=self._due(case, now, days),  # the reporter is told until when
        )
        return step.then(self._deadline(step.applied_to(case), now, "reply", days))

    def reject(self, case: dict[str, Any], actor: Actor, now: datetime, reason: str) -> Effects:
        self._require("reject", case)
        return self._step(CaseRejected, case, now, "rejected", actor, reason=reason).then(
            self._no_deadline()
        )

    def mark_repeat(
        self,
        case: dict[str, Any],
        actor: Actor,
        now: datetime,
        repeat_of: str,
        original_agency_id: str | None = None,
    ) -> Effects:
        """Link the report to an open one with the same substance; the event names the
        agency handling the original (repeat reports are counted against it)."""
        self._require("mark_repeat", case)
        original = self.directory.by_id.get(original_agency_id or "")
        step = self._step(
            CaseMarkedRepeat,
            case,
            now,
            "marked_repeat",
            actor,
            data_cls=MarkedRepeatData,
            repeat_of=repeat_of,
            agency=ref(original) if original else None,
        )
        step.sets["repeat_of"] = repeat_of
        return step.then(self._no_deadline())

    def recategorise(
        self, case: dict[str, Any], actor: Actor, now: datetime, category: str
    ) -> Effects:
        """Correct the report's category. A case an agency already has goes again through
        the rules with its new category (to the agency they choose now; the old one is left
        out); before that, verification routes it by the new category."""
        self._require("recategorise", case)
        if category == case.get("category"):
            raise IllegalTransitionError("recategorise", case["status"])
        step = self._step(
            CaseRecategorised,
            case,
            now,
            case["status"],
            actor,
            data_cls=RecategorisedData,
            category=category,
            previous_category=case.get("category", ""),
        )
        step.sets["category"] = category
        step.history[0]["category"] = category
        if case["status"] not in ("dispatched", "disputed"):
            return step
        after = step.applied_to(case)
        current = case.get("agency_id")
        return step.then(self.dispatch(after, SYSTEM, now, exclude=[current] if current else []))

    def dispatch(
        self,
        case: dict[str, Any],
        actor: Actor,
        now: datetime,
        agency_id: str | None = None,
        rule: str | None = None,
        exclude: Sequence[str] = (),
    ) -> Effects:
        """To ``agency_id`` (a person's choice), else to the best candidate not in
        ``exclude``, else to the coordinator."""
        self._require("dispatch", case)
        decision = self._choose(case, agency_id, exclude)
        if rule is not None:
            decision = Decision(decision.agency, rule)
        policy = self.policy(case)
        due = self.calendar(case["tenant"]).add_working_days(now, policy.follow_up_days)
        event = CaseDispatched(
            source=SOURCE,
            tenant=case["tenant"],
            subject=case["_id"],
            correlation_id=case["_id"],
            time=now,
            data=DispatchedData(
                tracking_id=case["_id"],
                agency=ref(decision.agency),
                rule=decision.rule,
                category=case["category"],
                region_code=case["region_code"],
                dispatched_at=now,
                due_at=due,
                transfers=case.get("transfers", 0),
                previous_agency_id=case.get("agency_id"),
            ),
        )
        tried = [*case.get("tried", [])]
        if decision.agency.id not in tried:
            tried.append(decision.agency.id)
        step = Effects(
            sets={
                "status": "dispatched",
                "agency_id": decision.agency.id,
                "tried": tried,
                "escalation_level": 0,
                "escalated_to": None,
                "updated_at": now,
                "parked": None,
                "assignee": None,  # a new agency hands it to its own officer
            },
            history=[
                {
                    "event_id": event.id,
                    "type": event.type,
                    "status": "dispatched",
                    "at": now,
                    "agency_id": decision.agency.id,
                    "rule": decision.rule,
                    "actor": actor.model_dump(exclude_none=True),
                }
            ],
            events=[event],
        )
        return step.then(
            self._deadline(step.applied_to(case), now, "follow_up", policy.follow_up_days)
        )

    def _choose(
        self, case: dict[str, Any], agency_id: str | None, exclude: Sequence[str]
    ) -> Decision:
        if agency_id is not None:
            agency = self.directory.by_id.get(agency_id)
            if agency is None or agency.region_code.split(".")[0] not in (case["tenant"], "00"):
                raise UnknownAgencyError(agency_id)
            return Decision(agency, "manual")
        text = f"{case.get('title', '')} {case.get('description', '')}"
        for decision in self.directory.candidates(case["region_code"], case["category"], text):
            if decision.agency.id not in exclude:
                return decision
        return self._coordinator(case, "no-candidate")

    def _coordinator(self, case: dict[str, Any], rule: str) -> Decision:
        """The region's coordinator, unless the case was already there; else the province's."""
        regional = self.directory.region_coordinator(case["region_code"])
        if regional is not None and regional.id not in case.get("tried", []):
            return Decision(regional, rule)
        province = self.directory.province_coordinator(case["region_code"])
        if province is None:
            raise UnknownAgencyError(f"no coordinator for {case['region_code']}")
        return Decision(province, rule)

    def close(self, case: dict[str, Any], actor: Actor, now: datetime, reason: str) -> Effects:
        self._require("close", case)
        return self._closed(case, actor, now, reason)

    def _closed(
        self,
        case: dict[str, Any],
        actor: Actor,
        now: datetime,
        reason: str,
        text: str | None = None,
    ) -> Effects:
        return self._step(CaseClosed, case, now, "closed", actor, reason=reason, text=text).then(
            self._no_deadline()
        )

    # -- agency actions ------------------------------------------------------------------------

    def decline(
        self,
        case: dict[str, Any],
        actor: Actor,
        now: datetime,
        reason: str,
        suggested_agency_id: str | None = None,
        to_coordinator: bool = False,
    ) -> Effects:
        """Not within our authority (bukan wewenang): re-route, keeping every hop; after the
        tenant's transfer limit, or with no candidate left, the coordinator takes it.
        ``to_coordinator``: the agency leaves the choice to the coordinator (the workspace's
        default: an agency rarely knows who else has authority); else its suggestion is
        followed when it is a known agency not tried before, and the rules choose again
        otherwise."""
        self._require("decline", case)
        current = self.directory.by_id.get(case["agency_id"])
        declined = self._step(
            CaseDeclined,
            case,
            now,
            "declined",
            actor,
            reason=reason,
            agency=ref(current) if current else None,
        )
        transfers = case.get("transfers", 0) + 1
        declined.sets["transfers"] = transfers
        after = declined.applied_to(case)
        after["status"] = case["status"]  # dispatch from where the case was
        tried = list(case.get("tried", []))
        if to_coordinator or transfers >= self.policy(case).max_transfers:
            target = self._coordinator(
                after, "declined-to-coordinator" if to_coordinator else "transfer-limit"
            )
            return declined.then(
                self.dispatch(after, SYSTEM, now, agency_id=target.agency.id, rule=target.rule)
            )
        if (
            suggested_agency_id
            and suggested_agency_id not in tried
            and (suggested_agency_id in self.directory.by_id)
        ):
            return declined.then(
                self.dispatch(
                    after, SYSTEM, now, agency_id=suggested_agency_id, rule="suggested-by-agency"
                )
            )
        return declined.then(self.dispatch(after, SYSTEM, now, exclude=tried))

    def follow_up(
        self,
        case: dict[str, Any],
        actor: Actor,
        now: datetime,
        text: str,
        attachments: Sequence[Attachment] = (),
    ) -> Effects:
        self._require("follow_up", case)
        current = self.directory.by_id.get(case["agency_id"])
        days = self.policy(case).reply_days
        step = self._step(
            CaseFollowedUp,
            case,
            now,
            "followed_up",
            actor,
            text=text,
            attachments=list(attachments),
            agency=ref(current) if current else None,
            due_at=self._due(case, now, days),  # until when the reporter may answer
        )
        return step.then(self._deadline(step.applied_to(case), now, "reply", days))

    # -- the reporter (through intake) ---------------------------------------------------------

    def reporter_event(self, case: dict[str, Any], event: Envelope, now: datetime) -> Effects:
        if isinstance(event, CaseSupported):
            # someone with the same problem joined the report: the count grows (the larger
            # wins, so an event read twice or late changes nothing); status and deadlines stay
            count = max(int(case.get("supporters") or 0), event.data.supporters)
            return Effects(sets={"supporters": count})
        if isinstance(event, ReporterReplied | ReporterMessaged):
            text = event.data.text
            if case["status"] == "needs_info":
                step = self._step(CaseInfoReceived, case, now, "submitted", REPORTER, text=text)
                return step.then(
                    self._deadline(
                        step.applied_to(case), now, "verify", self.policy(case).verify_days
                    )
                )
            if isinstance(event, ReporterReplied) and case["status"] == "followed_up":
                # a reply of the log's older kind keeps its meaning: it closed the case
                return self._closed(case, REPORTER, now, "reporter_replied", text)
            finished = TERMINAL if isinstance(event, ReporterReplied) else FINISHED
            if case["status"] in finished:
                raise IllegalTransitionError("reply", case["status"])
            # a message: in the history for the agency and the coordinators, the status and
            # every deadline (the reporter's own reply window too) unchanged
            entry = {
                "event_id": event.id,
                "type": event.type,
                "status": case["status"],
                "at": event.time,
                "text": text,
                "actor": {"kind": "reporter"},
            }
            return Effects(history=[entry])
        if isinstance(event, ReporterAccepted):
            self._require("accept", case)
            return self._closed(case, REPORTER, now, "reporter_accepted", event.data.text or None)
        if isinstance(event, ReporterDisputed):
            self._require("dispute", case)
            days = self.policy(case).follow_up_days
            step = self._step(
                CaseDisputed,
                case,
                now,
                "disputed",
                REPORTER,
                text=event.data.text,
                due_at=self._due(case, now, days),  # the agency's new deadline
            )
            return step.then(self._deadline(step.applied_to(case), now, "follow_up", days))
        if isinstance(event, ReporterRated):
            self._require("rate", case)
            return self._step(
                CaseRated,
                case,
                now,
                "rated",
                REPORTER,
                data_cls=RatingData,
                score=event.data.score,
                text=event.data.text or None,
            )
        raise IllegalTransitionError(event.type, case["status"])

    # -- the clock -----------------------------------------------------------------------------

    def fire(self, case: dict[str, Any], timer: dict[str, Any], now: datetime) -> Effects:
        """What a due timer does: remind, escalate, or close. A timer that no longer fits the
        case (its stage is over) does nothing."""
        stage = timer["stage"]
        if case["status"] in TERMINAL or STAGE_OF.get(case["status"]) != stage:
            return Effects()
        if timer["level"] != case.get("escalation_level", 0):
            return Effects()
        if timer["kind"] == "reminder":
            recipient = {"verify": "coordinator", "follow_up": "agency", "reply": "reporter"}[stage]
            # A verification reminder names the coordinator who must verify (notify tells it).
            extra: dict[str, Any] = {}
            if recipient == "coordinator":
                with contextlib.suppress(UnknownAgencyError):
                    extra["agency"] = ref(self._coordinator(case, "verify").agency)
            step = self._step(
                CaseReminder,
                case,
                now,
                case["status"],
                SYSTEM,
                data_cls=ReminderData,
                stage=stage,
                recipient=recipient,
                due_at=case.get("due_at"),
                **extra,
            )
            step.sets = {}
            return step
        if stage == "reply":
            reason = "no_info" if case["status"] == "needs_info" else "no_reply"
            return self._closed(case, SYSTEM, now, reason)
        return self._escalate(case, stage, now)

    def escalation_targets(self, case: dict[str, Any], stage: str) -> list[Agency]:
        owner = self.directory.by_id.get(case.get("agency_id") or "")
        targets: list[Agency] = []
        for step in self.policy(case).escalation_chain:
            agency: Agency | None
            if step == "coordinator":
                if owner and stage == "follow_up":
                    agency = self.directory.coordinator_of(owner)
                else:
                    try:
                        agency = self._coordinator(case, "verify").agency
                    except UnknownAgencyError:
                        agency = None  # a directory without coordinators: the next step
            elif step == "province":
                agency = self.directory.province_coordinator(case["region_code"])
            else:
                agency = self.directory.ombudsman()
            if (
                agency is not None
                and (owner is None or agency.id != owner.id)
                and (not targets or targets[-1].id != agency.id)
            ):
                targets.append(agency)
        return targets

    def _escalate(self, case: dict[str, Any], stage: Stage, now: datetime) -> Effects:
        level = case.get("escalation_level", 0) + 1
        targets = self.escalation_targets(case, stage)
        if level > len(targets):
            return Effects()  # already at the top of the chain
        to = targets[level - 1]
        last = level == len(targets)
        policy = self.policy(case)
        due = (
            None
            if last
            else self.calendar(case["tenant"]).add_working_days(now, policy.escalation_step_days)
        )
        step = self._step(
            CaseEscalated,
            case,
            now,
            case["status"],
            SYSTEM,
            data_cls=EscalationData,
            level=level,
            stage=stage,
            to=ref(to),
            due_at=due,
        )
        step.sets = {
            "escalation_level": level,
            "escalated_to": to.id,
            "updated_at": now,
            "overdue_since": case.get("overdue_since") or now,
        }
        if last:
            return step.then(Effects(cancel_timers=True))
        n = len(case.get("history", [])) + 1
        timer = Timer(
            f"{case['_id']}:{stage}:deadline:{level}:{n}",
            case["_id"],
            case["tenant"],
            "deadline",
            stage,
            level,
            due or now,
        )
        return step.then(Effects(sets={"due_at": due}, timers=[timer], cancel_timers=True))
