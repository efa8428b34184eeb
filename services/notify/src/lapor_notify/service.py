"""Notify's service layer: plan deliveries from events, then deliver them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from lapor_kit.idempotency import first_unseen
from lapor_kit.outbox import OutMessage
from lapor_schemas import (
    CaseEvent,
    ComplaintSubmitted,
    NotificationData,
    NotificationEvent,
    ReporterContact,
    topics,
)

from .domain.planning import ChannelName, case_facts, facts_update, plan
from .domain.render import Renderer
from .ports import Email, EmailSender, NotifyStore, TextSender

log = logging.getLogger("lapor.notify")
CONTACT_FIELD = {"email": "email", "sms": "phone", "whatsapp": "phone"}
SOURCE = "lapor-notify"


class NotifyService:
    def __init__(
        self,
        store: NotifyStore,
        sender: EmailSender,
        renderer: Renderer,
        clock: Callable[[], datetime],
        *,
        max_attempts: int = 5,
        sms: TextSender | None = None,
    ) -> None:
        self.store = store
        self.sender = sender
        self.sms = sms
        self.reporter_channels: tuple[ChannelName, ...] = (
            ("email", "sms") if sms is not None else ("email",)
        )
        self.renderer = renderer
        self.clock = clock
        self.max_attempts = max_attempts
        self.wake = asyncio.Event()

    async def handle_events(self, events: Sequence[CaseEvent]) -> int:
        fresh = await self.store.unseen([e.id for e in events])
        todo = first_unseen(events, fresh)
        if not todo:
            return 0
        now = self.clock()
        facts = [case_facts(e) for e in todo if isinstance(e, ComplaintSubmitted)]
        changes = [(e.subject, u) for e in todo if (u := facts_update(e)) is not None]
        deliveries = [d for e in todo for d in plan(e, now, self.reporter_channels)]
        await self.store.record([e.id for e in todo], facts, deliveries, changes)
        if deliveries:
            self.wake.set()
        return len(deliveries)

    async def handle_contacts(self, contacts: Sequence[ReporterContact]) -> None:
        docs = [
            {
                "_id": c.data.tracking_id,
                "tenant": c.tenant,
                **c.data.model_dump(exclude={"tracking_id"}),
            }
            for c in contacts
        ]
        await self.store.save_contacts(docs)
        self.wake.set()

    async def deliver_pending(self, limit: int = 50) -> int:
        """Send what is due; returns how many deliveries were handled."""
        claimed = await self.store.claim(limit)
        for delivery in claimed:
            await self._deliver(delivery)
        return len(claimed)

    async def _deliver(self, d: dict[str, Any]) -> None:
        address = d.get("address")
        context: dict[str, Any] = dict(d.get("context") or {})
        lang = "id"
        if d["role"] == "reporter":
            contact = await self.store.contact(d["tracking_id"])
            if contact is None:
                await self.store.set_awaiting_contact(d["_id"])
                return
            if not contact.get(CONTACT_FIELD[d["channel"]]):
                # The reporter left no address for this channel (e.g. a phone, no email).
                await self.store.finish(
                    d["_id"],
                    "skipped",
                    int(d.get("attempts", 0)),
                    "no address for this channel",
                    None,
                    None,
                )
                return
            address = contact[CONTACT_FIELD[d["channel"]]]
            lang = contact.get("language") or "id"
            if not contact.get("anonymous"):
                context["reporter_name"] = contact.get("name")
        facts = await self.store.facts(d["tracking_id"]) or {}
        if d["role"] == "agency" and not address:
            address = facts.get("agency_email")
            if not address:
                await self.store.finish(
                    d["_id"],
                    "skipped",
                    int(d.get("attempts", 0)),
                    "the agency has no address for this channel",
                    None,
                    None,
                )
                return
        context = {**facts, **context, "tracking_id": d["tracking_id"]}
        rendered = self.renderer.render(d["template"], lang, d["tenant"], context)
        attempts = int(d.get("attempts", 0)) + 1
        email = Email(
            to=str(address),
            subject=rendered.subject,
            body=rendered.body,
            message_id=f"<{d['_id'].replace(':', '.')}@lapor.example>",
            headers={"X-Lapor-Tracking-Id": d["tracking_id"], "X-Lapor-Delivery-Id": d["_id"]},
        )
        try:
            if d["channel"] == "sms" and self.sms is not None:
                await self.sms.send(to=str(address), text=rendered.body.strip(), reference=d["_id"])
            else:
                await self.sender.send(email)
        except Exception as exc:
            final = attempts >= self.max_attempts
            status = "failed" if final else "retrying"
            log.warning("delivery %s attempt %d failed: %r", d["_id"], attempts, exc)
            await self.store.finish(
                d["_id"],
                "failed" if final else "pending",
                attempts,
                repr(exc)[:500],
                retry_in=None if final else min(2.0**attempts, 300.0),
                outcome=self._outcome(d, status, attempts, repr(exc)[:500]),
            )
            return
        await self.store.finish(
            d["_id"], "sent", attempts, None, None, self._outcome(d, "sent", attempts, None)
        )

    def _outcome(
        self, d: dict[str, Any], status: str, attempts: int, reason: str | None
    ) -> OutMessage:
        event = NotificationEvent(
            source=SOURCE,
            tenant=d["tenant"],
            subject=d["tracking_id"],
            correlation_id=d["tracking_id"],
            time=self.clock(),
            data=NotificationData(
                notification_id=d["_id"],
                tracking_id=d["tracking_id"],
                cause_event_id=d["cause_event_id"],
                cause_event_type=d["cause_event_type"],
                channel=d["channel"],
                recipient_role=d["role"],
                agency_id=d.get("agency_id"),
                status=status,
                attempts=attempts,
                reason=reason,
                at=self.clock(),
            ),
        )
        return OutMessage.of(topics.NOTIFICATIONS, d["tracking_id"], event)

    async def run_worker(self, idle_seconds: float = 1.0) -> None:
        while True:
            try:
                handled = await self.deliver_pending()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.error("delivery loop failed: %r", exc)
                await asyncio.sleep(1.0)
                continue
            if handled == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), idle_seconds)
                self.wake.clear()

    async def notifications(self, tracking_id: str) -> list[dict[str, Any]]:
        return await self.store.list_for_case(tracking_id)
