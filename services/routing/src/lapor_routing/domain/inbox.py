"""An inbox as a typed filter (pure): who may see which cases (the scope, from the verified
token only) and what the person narrowed it to (status, category, regency, overdue, parked,
possible repeats, words), with a sort. The store adapter turns it into its query language;
nothing here knows MongoDB.

Words are searched through a case's ``words``: the distinct lower-case words of its title and
description, kept with the case. A MongoDB text index would do the same on a replica set,
but the store the tests run on (SecantusDB) has none, and a multikey index on plain words
answers "every one of these words" the same way on both."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from lapor_kit.auth import Principal

Sort = Literal["urgency", "deadline", "newest", "oldest"]
SORTS: tuple[Sort, ...] = ("urgency", "deadline", "newest", "oldest")
WORD = re.compile(r"[0-9a-z]+")
MAX_WORDS = 300
MAX_QUERY_WORDS = 8


def words_of(*texts: str | None) -> list[str]:
    """The distinct words (two letters or more, lower case) of ``texts``, in order, at most
    :data:`MAX_WORDS` (a case's search words)."""
    seen: dict[str, None] = {}
    for text in texts:
        for word in WORD.findall((text or "").lower()):
            if len(word) >= 2:
                seen.setdefault(word, None)
                if len(seen) >= MAX_WORDS:
                    return list(seen)
    return list(seen)


@dataclass(frozen=True, slots=True)
class Scope:
    """The cases a token may list. ``nothing`` for a role with no inbox."""

    tenant: str | None = None
    region_code: str | None = None  # a regency coordinator: its regency...
    escalated_to: str | None = None  # ...or what was escalated to its office (or the Ombudsman)
    agency_id: str | None = None
    nothing: bool = False


def scope_of(who: Principal, *, tenant: str | None = None) -> Scope:
    """What ``who``'s inbox may list: all of it for a national admin (one province when
    asked), what was escalated to the Ombudsman for the Ombudsman, a province for its
    coordinator, a regency (and what was escalated to its office) for a regency
    coordinator, an agency's cases for its staff."""
    if who.role == "national_admin":
        return Scope(tenant=tenant or None)
    if who.role == "ombudsman":
        return Scope(tenant=tenant or None, escalated_to="00.ombudsman")
    if who.role == "province_coordinator":
        return Scope(tenant=who.tenant)
    if who.role == "regency_coordinator":
        return Scope(
            tenant=who.tenant,
            region_code=who.region_code or "-",
            escalated_to=who.agency_id or "-",
        )
    if who.role == "agency_staff":
        return Scope(tenant=who.tenant, agency_id=who.agency_id or "-")
    return Scope(nothing=True)


@dataclass(frozen=True, slots=True)
class InboxFilter:
    scope: Scope
    statuses: tuple[str, ...] = ()
    category: str | None = None
    region_code: str | None = None
    agency_id: str | None = None  # narrows the scope, never widens it
    parked: bool | None = None
    overdue: bool | None = None
    possible_repeat: bool = False  # flagged by intake at submission, not yet decided
    assignee: str | None = None  # handed to this officer
    words: tuple[str, ...] = ()
    sort: Sort = "urgency"
    now: datetime | None = field(default=None, compare=False)

    @staticmethod
    def query_words(text: str | None) -> tuple[str, ...]:
        return tuple(words_of(text)[:MAX_QUERY_WORDS])
