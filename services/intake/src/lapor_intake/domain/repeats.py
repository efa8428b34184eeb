"""Repeated reports with the same substance: normalised word sets and Jaccard similarity.

No external model: lower-case, keep letters and digits, drop Indonesian (and a few English)
function words and very short tokens, compare the sets of what remains.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

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
    best: Match | None = None
    for c in candidates:
        score, shared = similarity(fp, c.fingerprint)
        if score >= threshold and shared >= MIN_SHARED and (best is None or score > best.score):
            best = Match(c.repeat_of or c.tracking_id, round(score, 3))
    return best
