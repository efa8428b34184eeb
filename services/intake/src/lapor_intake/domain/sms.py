"""The SMS channel's little language (messages to a short number such as 1708).

LAPOR <isi laporan>                    a new report
LAPOR <kode wilayah> <isi laporan>     ... for a regency/city, e.g. LAPOR 63.71 jalan rusak
#<nomor pelacakan> SELESAI             the follow-up solved it (the case closes)
#<nomor pelacakan> BELUM <alasan>      not solved: back to the agency, with the reason
#<nomor pelacakan> <pesan>             anything else is a message to the agency (the case
                                       stays open)

The answer SMS always says which of the three a reply was taken as.
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
    """A reply on a report: ``kind`` is what it is taken as (accept, dispute or message)."""

    tracking_id: str
    text: str
    kind: str = "message"


_ACCEPT = re.compile(r"^(SELESAI|SUDAH\s+SELESAI)\b[\s.!,:-]*(.*)$", re.I | re.S)
_DISPUTE = re.compile(r"^(BELUM|BELUM\s+SELESAI)\b[\s.!,:-]*(.*)$", re.I | re.S)


@dataclass(frozen=True, slots=True)
class Unreadable:
    reason: str


def parse(message: str) -> NewReport | Reply | Unreadable:
    reply = _REPLY.match(message)
    if reply:
        tracking_id, text = reply.group(1).upper(), reply.group(2).strip()
        if not text:
            return Unreadable("empty_reply")
        accept = _ACCEPT.match(text)
        if accept:
            return Reply(tracking_id, accept.group(2).strip(), "accept")
        dispute = _DISPUTE.match(text)
        if dispute:
            reason = dispute.group(2).strip()
            if not reason:
                return Unreadable("dispute_without_reason")
            return Reply(tracking_id, reason, "dispute")
        return Reply(tracking_id, text, "message")
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
        "LAPOR! Laporan Anda diterima. Nomor pelacakan: {tracking_id}. Setelah instansi "
        "menindaklanjuti, balas #{tracking_id} SELESAI jika sudah beres, #{tracking_id} BELUM "
        "<alasan> jika belum, atau #{tracking_id} <pesan> untuk bertanya."
    ),
    "taken_as_accept": (
        "LAPOR! {tracking_id}: balasan Anda dicatat sebagai SELESAI. Laporan ditutup. Terima kasih."
    ),
    "taken_as_dispute": (
        "LAPOR! {tracking_id}: balasan Anda dicatat sebagai BELUM SELESAI. Laporan "
        "dikembalikan ke instansi untuk ditindaklanjuti lagi."
    ),
    "taken_as_message": (
        "LAPOR! {tracking_id}: balasan Anda diteruskan sebagai PESAN ke instansi. Laporan "
        "tetap terbuka. Jika sudah beres balas #{tracking_id} SELESAI; jika belum "
        "#{tracking_id} BELUM <alasan>."
    ),
    "not_now": (
        "LAPOR! {tracking_id}: balasan ini tidak dapat dicatat pada tahap laporan sekarang "
        "({status})."
    ),
    "too_short": "LAPOR! Isi laporan terlalu pendek. Kirim: LAPOR <isi laporan minimal 10 huruf>.",
    "empty_reply": "LAPOR! Tanggapan kosong. Kirim: #<nomor pelacakan> <tanggapan>.",
    "dispute_without_reason": (
        "LAPOR! Tulis alasannya agar instansi tahu apa yang belum selesai: "
        "#<nomor pelacakan> BELUM <alasan>."
    ),
    "unknown_format": (
        "LAPOR! Format tidak dikenal. Kirim: LAPOR <isi laporan> atau "
        "#<nomor pelacakan> <tanggapan>."
    ),
    "unknown_case": "LAPOR! Nomor pelacakan {tracking_id} tidak ditemukan untuk nomor ini.",
    "unknown_region": "LAPOR! Kode wilayah {region_code} tidak dikenal.",
}
