"""The portal's database (``lapor_portal``): accounts, sign-in attempts, sessions and the
audit log. MongoDB's query syntax and document shapes stay in this module; the rest of the
portal speaks in :class:`~lapor_portal.identity.Account` and friends.

A session is a random token in an ``HttpOnly`` cookie; only its SHA-256 is stored, so the
database cannot be replayed into sessions. The audit log is insert-only: no method here
updates or deletes an entry, and no route asks for it.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import asdict, fields
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from lapor_kit.settings import mongo_tls

from .identity import Account, AuditEntry, ReplyTemplate, Tries

_ACCOUNT_FIELDS = {f.name for f in fields(Account)} - {"username"}


def _account(doc: dict[str, Any] | None) -> Account | None:
    if doc is None:
        return None
    return Account(username=doc["_id"], **{k: v for k, v in doc.items() if k in _ACCOUNT_FIELDS})


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class AccountExistsError(Exception):
    pass


class PortalStore:
    def __init__(
        self, url: str, db_name: str, timeout_ms: int = 5000, ca_file: Path | None = None
    ) -> None:
        self.client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            url,
            tz_aware=True,
            serverSelectionTimeoutMS=timeout_ms,
            appname="lapor-portal",
            **mongo_tls(ca_file),
        )
        self.db: AsyncDatabase[dict[str, Any]] = self.client[db_name]
        self.accounts = self.db["accounts"]
        self.attempts = self.db["signin_attempts"]
        self.sessions = self.db["sessions"]
        self.audit_log = self.db["audit"]
        self.reply_templates = self.db["reply_templates"]

    async def ensure_indexes(self) -> None:
        await self.sessions.create_index([("username", ASCENDING)])
        # counters of strangers' guesses do not pile up: a day after their last attempt
        await self.attempts.create_index([("seen_at", ASCENDING)], expireAfterSeconds=86_400)
        await self.audit_log.create_index([("tenant", ASCENDING), ("at", DESCENDING)])
        await self.audit_log.create_index([("case", ASCENDING)])
        await self.accounts.create_index([("tenant", ASCENDING)])
        await self.reply_templates.create_index([("agency_id", ASCENDING), ("title", ASCENDING)])

    async def close(self) -> None:
        await self.client.close()

    # -- accounts ------------------------------------------------------------------------

    async def account(self, username: str) -> Account | None:
        return _account(await self.accounts.find_one({"_id": username}))

    async def create(self, account: Account) -> None:
        doc = {
            "_id": account.username,
            **{k: v for k, v in asdict(account).items() if k != "username"},
        }
        try:
            await self.accounts.insert_one(doc)
        except DuplicateKeyError as exc:
            raise AccountExistsError(account.username) from exc

    async def upsert_federated(self, account: Account) -> Account:
        """A province sign-on's user: its claims are refreshed at every sign-in; a disabled
        flag set by a coordinator stays."""
        sets = {
            k: v
            for k, v in asdict(account).items()
            if k not in ("username", "disabled", "created_at", "created_by")
        }
        doc = await self.accounts.find_one_and_update(
            {"_id": account.username},
            {
                "$set": sets,
                "$setOnInsert": {
                    "disabled": False,
                    "created_at": account.created_at,
                    "created_by": account.created_by,
                },
            },
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        found = _account(doc)
        assert found is not None
        return found

    async def update(self, username: str, **changes: Any) -> None:
        unknown = set(changes) - _ACCOUNT_FIELDS
        if unknown:
            raise ValueError(f"not account fields: {sorted(unknown)}")
        await self.accounts.update_one({"_id": username}, {"$set": changes})

    async def use_totp_step(self, username: str, step: int) -> bool:
        """Claims a one-time code's time step: a code works once (a replayed one is refused)."""
        result = await self.accounts.update_one(
            {"_id": username, "totp_last_step": {"$lt": step}}, {"$set": {"totp_last_step": step}}
        )
        return result.modified_count == 1

    async def list_accounts(self, tenant: str | None, limit: int = 500) -> list[Account]:
        query = {} if tenant is None else {"tenant": tenant}
        docs = await self.accounts.find(query, sort=[("_id", ASCENDING)], limit=limit).to_list()
        return [a for d in docs if (a := _account(d)) is not None]

    # -- wrong attempts (sign-in, password forms) ------------------------------------------

    async def count_attempt(self, key: str, now: datetime) -> Tries:
        """Counts one attempt under ``key`` before its password is checked: a single atomic
        ``$inc`` (upserted), so parallel attempts each get their own count and all count.
        Answers the counter as it is after this attempt."""
        # Not one upsert: SecantusDB answers some of several parallel upserting
        # find-and-modify calls with no document (the increments all happen). An increment
        # of a document that exists answers reliably, so a missing one is made first.
        for _ in range(3):
            doc = await self.attempts.find_one_and_update(
                {"_id": key},
                {"$inc": {"count": 1}, "$set": {"seen_at": now}},
                return_document=ReturnDocument.AFTER,
            )
            if doc is not None:
                return Tries(int(doc.get("count", 0)), doc.get("until"))
            with contextlib.suppress(DuplicateKeyError):  # a parallel attempt made it
                await self.attempts.insert_one({"_id": key, "count": 0, "seen_at": now})
        raise RuntimeError(f"the attempt counter {key} could not be counted")

    async def hold(self, key: str, until: datetime) -> None:
        """After a wrong password: the next attempt under ``key`` waits until ``until``
        (never shortened by a parallel failure that computed a shorter wait)."""
        await self.attempts.update_one({"_id": key}, {"$max": {"until": until}})

    async def clear_attempts(self, *keys: str) -> None:
        await self.attempts.delete_many({"_id": {"$in": list(keys)}})

    # -- sessions ------------------------------------------------------------------------

    async def open_session(self, username: str, now: datetime, hours: float) -> str:
        token = secrets.token_urlsafe(32)
        await self.sessions.insert_one(
            {
                "_id": _digest(token),
                "username": username,
                "created_at": now,
                "seen_at": now,
                "expires_at": now + timedelta(hours=hours),
            }
        )
        return token

    async def session_user(self, token: str, now: datetime, idle_minutes: float) -> Account | None:
        """The account of a live session (and marks it seen); ``None`` once it has expired,
        been idle too long, been closed, or its account was disabled."""
        doc = await self.sessions.find_one({"_id": _digest(token)})
        if doc is None:
            return None
        if now >= doc["expires_at"] or now - doc["seen_at"] > timedelta(minutes=idle_minutes):
            await self.sessions.delete_one({"_id": doc["_id"]})
            return None
        account = await self.account(doc["username"])
        if account is None or account.disabled:
            return None
        if now - doc["seen_at"] > timedelta(minutes=1):  # one write a minute, not per page
            await self.sessions.update_one({"_id": doc["_id"]}, {"$set": {"seen_at": now}})
        return account

    async def close_session(self, token: str) -> None:
        await self.sessions.delete_one({"_id": _digest(token)})

    async def close_sessions_of(self, username: str, *, keep: str | None = None) -> None:
        """Ends every session of ``username`` (but the one whose token is ``keep``)."""
        query: dict[str, Any] = {"username": username}
        if keep is not None:
            query["_id"] = {"$ne": _digest(keep)}
        await self.sessions.delete_many(query)

    # -- reply templates -----------------------------------------------------------------

    async def templates(self, agency_id: str) -> list[ReplyTemplate]:
        docs = await self.reply_templates.find(
            {"agency_id": agency_id}, sort=[("title", ASCENDING)], limit=100
        ).to_list()
        return [_template(d) for d in docs]

    async def save_template(self, template: ReplyTemplate) -> None:
        doc = asdict(template)
        doc["_id"] = doc.pop("id")
        await self.reply_templates.replace_one({"_id": doc["_id"]}, doc, upsert=True)

    async def remove_template(self, agency_id: str, template_id: str) -> bool:
        done = await self.reply_templates.delete_one({"_id": template_id, "agency_id": agency_id})
        return done.deleted_count == 1

    # -- audit (insert-only) ---------------------------------------------------------------

    async def audit(self, entry: AuditEntry) -> None:
        await self.audit_log.insert_one({"_id": uuid.uuid4().hex, **asdict(entry)})

    async def audit_entries(
        self,
        tenant: str | None,
        *,
        case: str | None = None,
        limit: int = 200,
        skip: int = 0,
    ) -> Sequence[AuditEntry]:
        query: dict[str, Any] = {}
        if tenant is not None:
            query["tenant"] = tenant
        if case:
            query["case"] = case
        docs = await self.audit_log.find(
            query, sort=[("at", DESCENDING)], limit=limit, skip=skip
        ).to_list()
        keys = {f.name for f in fields(AuditEntry)}
        return [AuditEntry(**{k: v for k, v in d.items() if k in keys}) for d in docs]


def _template(doc: dict[str, Any]) -> ReplyTemplate:
    return ReplyTemplate(
        id=str(doc["_id"]),
        agency_id=str(doc["agency_id"]),
        title=str(doc["title"]),
        text=str(doc["text"]),
        by=str(doc.get("by", "")),
        at=doc["at"],
    )
