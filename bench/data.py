"""Realistic complaints (~1 KB) across the seeded provinces, each text unique (so none is
held as a repeat)."""

from __future__ import annotations

import json
import random
from typing import Any

from lapor_devstack.demo import sign
from lapor_schemas.reference import categories, regions

CHANNELS = {"63": "lapor-aa-banjarmasin", "21": "kepri-crm", "73": "baruga-sulsel"}
SYLLABLES = [
    "ba",
    "da",
    "ka",
    "la",
    "ma",
    "na",
    "pa",
    "ra",
    "sa",
    "ta",
    "ja",
    "ga",
    "wa",
    "ya",
    "bi",
    "di",
    "ki",
    "li",
    "mi",
    "ni",
    "pi",
    "ri",
    "si",
    "ti",
    "ju",
    "gu",
    "ru",
    "su",
    "an",
    "ang",
    "ung",
    "ing",
    "er",
    "an",
    "ek",
    "ol",
]
RNG = random.Random(1708)
WORDS = sorted(
    {"".join(RNG.choice(SYLLABLES) for _ in range(RNG.randint(2, 4))) for _ in range(6000)}
)


REGENCIES = [r for r in regions().values() if r.kind != "province"]
CATEGORIES = sorted(categories())


def complaint(i: int, rng: random.Random) -> dict[str, Any]:
    region = rng.choice(REGENCIES)
    words = rng.sample(WORDS, 130)
    return {
        "type": "pengaduan",
        "title": f"Laporan {i} " + " ".join(words[:6]),
        "description": " ".join(words[6:]),
        "category": rng.choice(CATEGORIES),
        "region_code": region.code,
        "anonymous": True,  # no contact: notify plans and stores inbox messages only
    }


def external(i: int, rng: random.Random, run: str) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    """A signed message for ``lapor.intake.v1``: (key, value, headers)."""
    body = complaint(i, rng)
    province = body["region_code"][:2]
    channel = CHANNELS[province]
    message = {**body, "channel": channel, "external_id": f"{run}-{i}"}
    raw = json.dumps(message).encode()
    return channel.encode(), raw, [("x-lapor-signature", sign(channel, raw).encode())]
