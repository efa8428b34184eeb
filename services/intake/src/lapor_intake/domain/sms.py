"""The SMS channel's little language (messages to a short number such as 1708).

LAPOR <isi laporan>                    a new report
LAPOR <kode wilayah> <isi laporan>     ... for a regency/city, e.g. LAPOR 63.71 jalan rusak
#<nomor pelacakan> <tanggapan>         the reporter's reply on their report
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NEW = re.compile(r"^\s*LAPOR\b[\s:,-]*(?:(\d{2}\.\d{2}|\d{2})\b)?\s*(.*)$", re.I | re.S)
_REPLY = re.compile(r"^\s*#\s*(LPR-[0-9A-Z]{10})\b[\s:,-]*(.*)$", re.I | re.S)
MIN_TEXT = 10


@dataclass(frozen=True, slots=True)
class NewReport:
    text: str
    region_code: str | None


@dataclass(frozen=True, slots=True)
class Reply:
    tracking_id: str
    text: str


@dataclass(frozen=True, slots=True)
class Unreadable:
    reason: str


def parse(message: str) -> NewReport | Reply | Unreadable:
    reply = _REPLY.match(message)
    if reply:
        text = reply.group(2).strip()
        if not text:
            return Unreadable("empty_reply")
        return Reply(reply.group(1).upper(), text)
    new = _NEW.match(message)
    if new:
        text = new.group(2).strip()
        if len(text) < MIN_TEXT:
            return Unreadable("too_short")
        return NewReport(text, new.group(1))
    return Unreadable("unknown_format")


def title_of(text: str, limit: int = 80) -> str:
    first = re.split(r"(?<=[.!?])\s|\n", text.strip(), maxsplit=1)[0]
    if len(first) <= limit:
        return first if len(first) >= 5 else (text[:limit] + "…" * (len(text) > limit))
    cut = first[:limit].rsplit(" ", 1)[0]
    return cut + "…"


def normalise_phone(number: str) -> str:
    """'+62 812-3456-7890', '0812 3456 7890' and '62812...' -> '6281234567890'."""
    digits = re.sub(r"\D", "", number)
    if digits.startswith("0"):
        digits = "62" + digits[1:]
    return digits


REPLIES = {
    "accepted": (
        "LAPOR! Laporan Anda diterima. Nomor pelacakan: {tracking_id}. Balas dengan "
        "#{tracking_id} <tanggapan> untuk menanggapi."
    ),
    "reply_accepted": "LAPOR! Tanggapan Anda untuk {tracking_id} telah diterima.",
    "too_short": "LAPOR! Isi laporan terlalu pendek. Kirim: LAPOR <isi laporan minimal 10 huruf>.",
    "empty_reply": "LAPOR! Tanggapan kosong. Kirim: #<nomor pelacakan> <tanggapan>.",
    "unknown_format": (
        "LAPOR! Format tidak dikenal. Kirim: LAPOR <isi laporan> atau "
        "#<nomor pelacakan> <tanggapan>."
    ),
    "unknown_case": "LAPOR! Nomor pelacakan {tracking_id} tidak ditemukan untuk nomor ini.",
    "unknown_region": "LAPOR! Kode wilayah {region_code} tidak dikenal.",
}
