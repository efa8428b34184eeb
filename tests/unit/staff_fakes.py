"""In-memory fakes of what the workspace's routers call: the portal's own store and the
services' staff APIs (``lapor_portal.staff.clients``' ports). They keep what they were asked,
so a test can check what a page sent, and answer like the services do (404 alike for an
unknown case and one the token may not see; 409 with the lifecycle's words for an action
its status does not allow)."""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import replace
from datetime import datetime
from typing import Any, ClassVar

from lapor_portal.backend import Answer, Backend
from lapor_portal.identity import Account, AuditEntry, ReplyTemplate, Tries
from lapor_portal.settings import PortalSettings
from lapor_portal.staff.clients import File, InboxPage, InboxQuery, StaffClients
from lapor_portal.store import AccountExistsError
from lapor_schemas.reference import categories, regions
from lapor_schemas.status import STAFF_MAY


class FakeStore:
    def __init__(self) -> None:
        self.accounts: dict[str, Account] = {}
        self.sessions: dict[str, str] = {}
        self.entries: list[AuditEntry] = []
        self.attempts: dict[str, Tries] = {}
        self.reply_templates: dict[str, ReplyTemplate] = {}

    async def ensure_indexes(self) -> None:
        return None

    async def close(self) -> None:
        return None

    def sign_in(self, account: Account) -> str:
        self.accounts[account.username] = account
        token = secrets.token_urlsafe(16)
        self.sessions[token] = account.username
        return token

    async def account(self, username: str) -> Account | None:
        return self.accounts.get(username)

    async def create(self, account: Account) -> None:
        if account.username in self.accounts:
            raise AccountExistsError(account.username)
        self.accounts[account.username] = account

    async def upsert_federated(self, account: Account) -> Account:
        self.accounts[account.username] = account
        return account

    async def update(self, username: str, **changes: Any) -> None:
        self.accounts[username] = replace(self.accounts[username], **changes)

    async def use_totp_step(self, username: str, step: int) -> bool:
        return True

    async def list_accounts(self, tenant: str | None, limit: int = 500) -> list[Account]:
        return [a for a in self.accounts.values() if tenant is None or a.tenant == tenant]

    async def count_attempt(self, key: str, now: datetime) -> Tries:
        found = self.attempts.get(key, Tries(0, None))
        self.attempts[key] = Tries(found.count + 1, found.until)
        return self.attempts[key]

    async def hold(self, key: str, until: datetime) -> None:
        self.attempts[key] = Tries(self.attempts.get(key, Tries(0, None)).count, until)

    async def clear_attempts(self, *keys: str) -> None:
        for key in keys:
            self.attempts.pop(key, None)

    async def open_session(self, username: str, now: datetime, hours: float) -> str:
        token = secrets.token_urlsafe(16)
        self.sessions[token] = username
        return token

    async def session_user(self, token: str, now: datetime, idle_minutes: float) -> Account | None:
        username = self.sessions.get(token)
        return self.accounts.get(username) if username else None

    async def close_session(self, token: str) -> None:
        self.sessions.pop(token, None)

    async def close_sessions_of(self, username: str, *, keep: str | None = None) -> None:
        for token, user in list(self.sessions.items()):
            if user == username and token != keep:
                del self.sessions[token]

    async def templates(self, agency_id: str) -> list[ReplyTemplate]:
        found = [t for t in self.reply_templates.values() if t.agency_id == agency_id]
        return sorted(found, key=lambda t: t.title)

    async def save_template(self, template: ReplyTemplate) -> None:
        self.reply_templates[template.id] = template

    async def remove_template(self, agency_id: str, template_id: str) -> bool:
        found = self.reply_templates.get(template_id)
        if found is None or found.agency_id != agency_id:
            return False
        del self.reply_templates[template_id]
        return True

    async def audit(self, entry: AuditEntry) -> None:
        self.entries.append(entry)

    async def audit_entries(
        self, tenant: str | None, case: str | None = None, limit: int = 300
    ) -> list[AuditEntry]:
        found = [
            e
            for e in reversed(self.entries)
            if (tenant is None or e.tenant == tenant) and (case is None or e.case == case)
        ]
        return found[:limit]


class FakeBackend(Backend):
    """The public reads the workspace uses: reference data, ranking, the category map."""

    def __init__(self, settings: PortalSettings) -> None:
        super().__init__(settings)

    async def reference(self, name: str) -> list[dict[str, Any]]:
        if name == "categories":
            return [c.model_dump() for c in categories().values()]
        return [r.model_dump() for r in regions().values()]

    async def ranking(self, province: str) -> dict[str, Any]:
        return {"from": "2026-01-01", "to": "2026-12-05", "rows": []}

    async def category_map(self, province: str) -> list[dict[str, Any]]:
        return []

    suggestion: ClassVar[list[dict[str, Any]]] = []

    async def suggest(self, title: str, description: str) -> list[dict[str, Any]]:
        return list(self.suggestion)


AGENCIES = [
    {
        "id": "63.71.pupr",
        "name": "Dinas PUPR Kota Banjarmasin",
        "region_code": "63.71",
        "level": "city",
        "role": "opd",
        "categories": ["infrastruktur"],
    },
    {
        "id": "63.71.dlh",
        "name": "Dinas Lingkungan Hidup Kota Banjarmasin",
        "region_code": "63.71",
        "level": "city",
        "role": "opd",
        "categories": ["persampahan"],
    },
    {
        "id": "63.71.kominfo",
        "name": "Admin Koordinator Kota Banjarmasin",
        "region_code": "63.71",
        "level": "city",
        "role": "coordinator",
        "categories": [],
    },
    {
        "id": "63.pupr",
        "name": "Dinas PUPR Provinsi Kalimantan Selatan",
        "region_code": "63",
        "level": "province",
        "role": "opd",
        "categories": ["infrastruktur"],
    },
    {
        "id": "63.03.pupr",
        "name": "Dinas PUPR Kabupaten Banjar",
        "region_code": "63.03",
        "level": "regency",
        "role": "opd",
        "categories": ["infrastruktur"],
    },
]


def case(tid: str, **over: Any) -> dict[str, Any]:
    made: dict[str, Any] = {
        "tracking_id": tid,
        "tenant": "63",
        "status": "submitted",
        "type": "pengaduan",
        "category": "infrastruktur",
        "region_code": "63.71",
        "title": f"Jalan rusak {tid[-3:]}",
        "agency": None,
        "transfers": 0,
        "escalation_level": 0,
        "escalated_to": None,
        "due_at": "2026-12-09T08:00:00+00:00",
        "submitted_at": "2026-12-04T02:00:00+00:00",
        "stage": "verify",
        "repeat_of": None,
        "supporters": 0,
        "parked": None,
        "history": [
            {
                "event_id": "e1",
                "type": "complaint.submitted",
                "status": "submitted",
                "at": "2026-12-04T02:00:00+00:00",
            }
        ],
    }
    made.update(over)
    return made


def may_read(who: Account, c: dict[str, Any]) -> bool:
    if who.role == "national_admin":
        return True
    if who.role == "ombudsman":
        return c.get("escalated_to") == "00.ombudsman"
    if who.tenant != c["tenant"]:
        return False
    if who.role == "province_coordinator":
        return True
    if who.role == "regency_coordinator":
        return bool(c["region_code"] == who.region_code)
    return bool((c.get("agency") or {}).get("id") == who.agency_id)


class FakeRouting:
    def __init__(self, accounts: dict[str, Account]) -> None:
        self.cases: dict[str, dict[str, Any]] = {}
        self.queries: list[InboxQuery] = []
        self.acted: list[tuple[str, str, dict[str, Any]]] = []
        self.directories: dict[str, dict[str, Any]] = {"63": directory_63()}
        self.revisions: dict[str, list[dict[str, Any]]] = {"63": []}
        self.saved: list[dict[str, Any]] = []
        self.refuse_save: dict[str, Any] | None = None
        self._accounts = accounts

    def who(self, token: str) -> Account:
        """The account a portal token names (its claims; the services verify the signature,
        which is not what these tests are about)."""
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return self._accounts[claims["sub"]]

    def add(self, *cases: dict[str, Any]) -> None:
        for c in cases:
            self.cases[c["tracking_id"]] = c

    async def inbox(self, token: str, query: InboxQuery) -> InboxPage:
        self.queries.append(query)
        me = self.who(token)
        found = [c for c in self.cases.values() if may_read(me, c)]
        if query.statuses:
            found = [c for c in found if c["status"] in query.statuses]
        if query.category:
            found = [c for c in found if c["category"] == query.category]
        if query.assignee:
            found = [
                c for c in found if (c.get("assignee") or {}).get("username") == query.assignee
            ]
        if query.possible_repeat:
            found = [c for c in found if c["repeat_of"] and c["status"] == "submitted"]
        for word in query.words.lower().split():
            found = [c for c in found if word in c["title"].lower()]
        page = found[query.offset : query.offset + query.limit]
        return InboxPage([dict(c) for c in page], len(found))

    async def case(self, token: str, tracking_id: str) -> dict[str, Any] | None:
        found = self.cases.get(tracking_id)
        return dict(found) if found and may_read(self.who(token), found) else None

    async def act(self, token: str, tracking_id: str, action: str, body: dict[str, Any]) -> Answer:
        found = self.cases.get(tracking_id)
        if found is None or not may_read(self.who(token), found):
            return Answer(404, {"detail": "Laporan tidak ditemukan.", "detail_en": "Not found."})
        if found["status"] not in STAFF_MAY[action]:
            return Answer(
                409,
                {
                    "detail": "Status laporan tidak memungkinkan tindakan ini.",
                    "detail_en": "The case's status does not allow this.",
                },
            )
        self.acted.append((tracking_id, action, body))
        found["status"] = {
            "verify": "dispatched",
            "mark_repeat": "marked_repeat",
            "decline": "dispatched",
        }.get(action, found["status"])
        return Answer(200, dict(found))

    async def add_note(self, token: str, tracking_id: str, text: str) -> Answer:
        found = self.cases.get(tracking_id)
        me = self.who(token)
        if found is None or not may_read(me, found):
            return Answer(404, {"detail": "Laporan tidak ditemukan."})
        found.setdefault("notes", []).append(
            {
                "at": "2026-12-05T02:00:00+00:00",
                "by": me.username,
                "name": me.name,
                "role": me.role,
                "text": text,
            }
        )
        return Answer(200, dict(found))

    async def assign(
        self, token: str, tracking_id: str, username: str | None, name: str | None
    ) -> Answer:
        found = self.cases.get(tracking_id)
        if found is None or not may_read(self.who(token), found):
            return Answer(404, {"detail": "Laporan tidak ditemukan."})
        found["assignee"] = {"username": username, "name": name} if username else None
        self.acted.append((tracking_id, "assign", {"username": username}))
        return Answer(200, dict(found))

    async def agencies(self, token: str, tenant: str) -> list[dict[str, Any]]:
        return [dict(a) for a in self.directories.get(tenant, {}).get("agencies", [])]

    async def directory(self, token: str, tenant: str) -> dict[str, Any] | None:
        found = self.directories.get(tenant)
        return dict(found) if found else None

    async def directory_versions(self, token: str, tenant: str) -> list[dict[str, Any]]:
        return list(reversed(self.revisions.get(tenant, [])))

    async def save_directory(self, token: str, tenant: str, body: Any) -> Answer:
        self.saved.append(body)
        if self.refuse_save is not None:
            return Answer(422, self.refuse_save)
        self.directories[tenant] = body
        self.revisions[tenant].append(
            {
                "revision": len(self.revisions[tenant]) + 1,
                "version": 1,
                "by": "x",
                "at": "2026-12-05T02:00:00+00:00",
                "agencies": len(body["agencies"]),
            }
        )
        return Answer(200, body)

    async def roll_back_directory(self, token: str, tenant: str, revision: int) -> Answer:
        if not 1 <= revision <= len(self.revisions.get(tenant, [])):
            return Answer(404, {"detail": "Revisi tidak ditemukan.", "detail_en": "No revision."})
        return Answer(200, self.revisions[tenant][revision - 1])


def directory_63() -> dict[str, Any]:
    return {
        "version": 1,
        "tenant": "63",
        "name": "Provinsi Kalimantan Selatan",
        "policy": {
            "timezone": "Asia/Makassar",
            "verification": "auto",
            "verify_days": 3,
            "follow_up_days": 5,
            "reply_days": 10,
            "reminder_days_before": 1,
            "escalation_step_days": 2,
            "max_transfers": 3,
            "escalation_chain": ["coordinator", "province", "ombudsman"],
            "local_holidays": [],
        },
        "rules": [{"id": "63-jalan", "keywords": ["jalan rusak"], "opd": "pupr"}],
        "agencies": [dict(a) for a in AGENCIES],
    }


class FakeIntake:
    def __init__(self, routing: FakeRouting) -> None:
        self.routing = routing
        self.reports: dict[str, dict[str, Any]] = {}
        self.identities_asked: list[str] = []
        self.entered: list[dict[str, Any]] = []
        self.public: list[tuple[str, bool, list[str]]] = []

    async def report(self, token: str, tracking_id: str) -> dict[str, Any] | None:
        if await self.routing.case(token, tracking_id) is None:
            return None
        return self.reports.get(tracking_id)

    async def reporter(self, token: str, tracking_id: str) -> dict[str, Any] | None:
        self.identities_asked.append(tracking_id)
        if await self.report(token, tracking_id) is None:
            return None
        return {"name": "Siti Aminah", "email": "siti@example.id", "phone": None}

    async def set_public(
        self, token: str, tracking_id: str, hidden: bool, redactions: list[str]
    ) -> dict[str, Any] | None:
        if await self.report(token, tracking_id) is None:
            return None
        self.public.append((tracking_id, hidden, redactions))
        return {"tenant": "63", "hidden": hidden, "public_redactions": redactions}

    async def attachment(
        self, token: str, tracking_id: str, index: int, *, small: bool = False
    ) -> File:
        report = await self.report(token, tracking_id)
        if report is None or index >= len(report.get("attachments", [])):
            return File(404)
        return File(200, b"small" if small else b"whole", "image/jpeg")

    async def upload(self, token: str, name: str, content_type: str, data: bytes) -> Answer:
        return Answer(201, {"handle": f"h-{name}"})

    async def enter(self, token: str, body: dict[str, Any]) -> Answer:
        self.entered.append(body)
        if len(body.get("title", "")) < 5:
            return Answer(
                422,
                {
                    "detail": "Periksa isian.",
                    "errors": [{"field": "title", "message": "Judul terlalu pendek."}],
                },
            )
        return Answer(202, {"tracking_id": "LPR-ENTERED001", "secret": "s" * 22})


class FakeNotify:
    def __init__(self) -> None:
        self.by_case: dict[str, list[dict[str, Any]]] = {}

    async def deliveries(self, token: str, tracking_id: str) -> list[dict[str, Any]]:
        return list(self.by_case.get(tracking_id, []))


class FakeMetrics:
    async def hotspots(self, token: str, province: str) -> list[dict[str, Any]]:
        return []


def fake_clients(store: FakeStore) -> tuple[StaffClients, FakeRouting, FakeIntake, FakeNotify]:
    routing = FakeRouting(store.accounts)
    intake = FakeIntake(routing)
    notify = FakeNotify()
    return StaffClients(routing, intake, notify, FakeMetrics()), routing, intake, notify
