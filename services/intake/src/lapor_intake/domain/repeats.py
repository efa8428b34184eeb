"""Repeated reports with the same substance: normalised word sets and Jaccard similarity.

No external model: lower-case, keep letters and digits, drop Indonesian (and a few English)
function words and very short tokens, compare the sets of what remains.
"""

from __future__ import annotations

import re
import sys
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

STOPWORDS = frozenset(
    """
    yang dan di ke dari ini itu ada tidak sudah belum untuk dengan pada saya kami kita mereka
    mohon tolong agar supaya sangat karena juga akan atau oleh dalam sejak bulan hari minggu
    tahun telah masih bisa dapat harus para bapak ibu pak bu kak sdr yth terima kasih sekali
    lagi kok nya pun lah kah tersebut sebagai namun tetapi tapi jadi serta bahwa hingga sampai
    setelah sebelum the and for with this that from are was were been have has please
    """.split()  # noqa: SIM905 - a word list reads better as text
)
_TOKEN = re.compile(r"[0-9a-z]+")
THRESHOLD = 0.5
MIN_SHARED = 3


def fingerprint(*texts: str) -> list[str]:
    words: set[str] = set()
    for text in texts:
        for token in _TOKEN.findall(text.lower()):
            if len(token) >= 3 and token not in STOPWORDS:
                words.add(token)
    return sorted(words)


def similarity(a: Iterable[str], b: Iterable[str]) -> tuple[float, int]:
    sa, sb = set(a), set(b)
    if not sa or not sb:
        return 0.0, 0
    shared = len(sa & sb)
    return shared / len(sa | sb), shared


@dataclass(frozen=True, slots=True)
class Candidate:
    tracking_id: str
    fingerprint: Sequence[str]
    repeat_of: str | None = None


@dataclass(frozen=True, slots=True)
class Match:
    tracking_id: str
    score: float


def best_match(
    fp: Sequence[str], candidates: Iterable[Candidate], threshold: float = THRESHOLD
) -> Match | None:
    """The most similar open report, linked to the root of its own repeat chain."""
    ranked = matches(fp, candidates, threshold)
    return ranked[0][1] if ranked else None


def matches(
    fp: Sequence[str], candidates: Iterable[Candidate], threshold: float = THRESHOLD
) -> list[tuple[str, Match]]:
    """Every candidate similar enough, most similar first (the first of equals wins, as
    candidates come newest first): the candidate's id and the match, which links to the root
    of the candidate's own repeat chain."""
    mine = set(fp)
    if not mine:
        return []
    found: list[tuple[float, int, str, Match]] = []
    for order, c in enumerate(candidates):
        theirs = c.fingerprint
        if not theirs:
            continue
        shared = len(mine.intersection(theirs))
        if shared < MIN_SHARED:
            continue
        score = shared / (len(mine) + len(theirs) - shared)
        if score >= threshold:
            match = Match(c.repeat_of or c.tracking_id, round(score, 3))
            found.append((-score, order, c.tracking_id, match))
    found.sort(key=lambda f: (f[0], f[1]))
    return [(tid, m) for _, _, tid, m in found]


@dataclass(frozen=True, slots=True)
class Indexed:
    """An open report as the repeat index keeps it."""

    candidate: Candidate
    region_code: str
    category: str
    submitted_at: datetime


class RepeatIndex:
    """The recent open, non-confidential reports of each (region, category), in memory, so
    finding a report's repeat candidates reads nothing from the store: a cost per report that
    does not grow with the store (reading them per batch grew with every open report).

    Bounded: at most ``per_group`` reports per (region, category), the newest kept, and only
    those submitted within the repeat window are offered. It is a *candidate* filter: the
    service confirms a match's status in the store before linking, so a report closed by
    another process (or by hand) is never linked even if this index has not heard of it yet.
    Fed by the process's own accepted reports at once, by the reports open at start-up, and
    by the case log (the other intake processes' reports, and closures). Fingerprints are
    kept as tuples of interned words (about 1 KB per report of 130 words).
    """

    def __init__(self, per_group: int = 500) -> None:
        self.per_group = per_group
        self._groups: dict[tuple[str, str], OrderedDict[str, Indexed]] = {}
        self._group_of: dict[str, tuple[str, str]] = {}

    def __len__(self) -> int:
        return len(self._group_of)

    def __contains__(self, tracking_id: object) -> bool:
        return tracking_id in self._group_of

    def add(
        self,
        tracking_id: str,
        region_code: str,
        category: str,
        fingerprint: Sequence[str],
        submitted_at: datetime,
        repeat_of: str | None = None,
    ) -> None:
        """Idempotent: a report already known is left as it is."""
        if tracking_id in self._group_of or not fingerprint:
            return
        key = (region_code, category)
        group = self._groups.setdefault(key, OrderedDict())
        late = bool(group) and submitted_at < next(reversed(group.values())).submitted_at
        words = tuple(sys.intern(w) for w in fingerprint)
        group[tracking_id] = Indexed(
            Candidate(tracking_id, words, repeat_of), region_code, category, submitted_at
        )
        self._group_of[tracking_id] = key
        if late:  # rare (another process's older report arriving later): keep newest last
            ordered = sorted(group.items(), key=lambda kv: kv[1].submitted_at)
            group.clear()
            group.update(ordered)
        while len(group) > self.per_group:
            oldest, _ = group.popitem(last=False)
            del self._group_of[oldest]

    def remove(self, tracking_id: str) -> None:
        key = self._group_of.pop(tracking_id, None)
        if key is not None:
            group = self._groups[key]
            group.pop(tracking_id, None)
            if not group:
                del self._groups[key]

    def candidates(self, region_code: str, category: str, since: datetime) -> list[Candidate]:
        """The group's reports submitted at or after ``since``, newest first."""
        group = self._groups.get((region_code, category))
        if not group:
            return []
        out: list[Candidate] = []
        for entry in reversed(group.values()):
            if entry.submitted_at < since:
                break
            out.append(entry.candidate)
        return out

    def expire(self, before: datetime) -> int:
        """Forget reports submitted before ``before`` (out of the window); returns how many."""
        gone = [
            tid
            for group in self._groups.values()
            for tid, entry in group.items()
            if entry.submitted_at < before
        ]
        for tid in gone:
            self.remove(tid)
        return len(gone)
