"""Repeated reports with the same substance: normalised word sets and Jaccard similarity.

No external model: lower-case, keep letters and digits, drop Indonesian (and a few English)
function words and very short tokens, compare the sets of what remains.
"""

from __future__ import annotations

import hashlib
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


# Locality-sensitive hashing, so that finding the open reports worth comparing does not mean
# reading every open report of the region: MinHash signatures of the fingerprint, cut into
# bands; two reports sharing a band are compared exactly. With 24 bands of 2 rows, a pair
# with Jaccard similarity 0.5 shares a band with probability 1 - (1 - 0.5^2)^24 = 99.9 %
# (0.6: 99.9998 %); an unrelated pair (0.05) with 6 %.
BANDS, ROWS = 24, 2
_PRIME = (1 << 61) - 1
_SEEDS = [
    (
        int.from_bytes(hashlib.blake2b(f"a{i}".encode(), digest_size=8).digest(), "big") | 1,
        int.from_bytes(hashlib.blake2b(f"b{i}".encode(), digest_size=8).digest(), "big"),
    )
    for i in range(BANDS * ROWS)
]


def lsh_bands(fp: Sequence[str]) -> list[str]:
    """The fingerprint's band keys (stable across processes and versions of Python)."""
    if not fp:
        return []
    hashes = [
        int.from_bytes(hashlib.blake2b(w.encode(), digest_size=8).digest(), "big") for w in fp
    ]
    mins = [min((a * h + b) % _PRIME for h in hashes) for a, b in _SEEDS]
    out = []
    for band in range(BANDS):
        rows = mins[band * ROWS : (band + 1) * ROWS]
        digest = hashlib.blake2b(repr(rows).encode(), digest_size=6).hexdigest()
        out.append(f"{band}:{digest}")
    return out


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
