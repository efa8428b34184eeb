"""What people read, in one place: case statuses, what each event means, who did it, how a
notice was sent and why a case was closed — in Bahasa Indonesia and English.

People read words, never codes: no event type, status key, role id or field name reaches a
page, an e-mail or an SMS. The portal's history and notices, and notify's messages, take
their words from here (``lapor_schemas.status`` holds the statuses' groups; a test walks
every status and event type through these tables, so a new one cannot go without words).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from .events import CASE_EVENT_TYPES
from .intake import Channel
from .status import ALL, STAFF_MAY

Pair = tuple[str, str]
Lang = Literal["id", "en"]
Viewer = Literal["reporter", "public", "staff"]


HARI = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
BULAN = (
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
)
"""Days and months in Bahasa Indonesia (dates are written in words, never by the locale)."""


def pick(pair: Pair, lang: str) -> str:
    return pair[1] if lang == "en" else pair[0]


STATUS: dict[str, Pair] = {
    "submitted": ("Diterima, menunggu verifikasi", "Received, awaiting verification"),
    "needs_info": (
        "Perlu keterangan tambahan dari pelapor",
        "More details needed from the reporter",
    ),
    "verified": ("Diverifikasi", "Verified"),
    "dispatched": ("Diteruskan ke instansi", "Sent to the agency"),
    "disputed": ("Dikembalikan ke instansi", "Sent back to the agency"),
    "followed_up": ("Ditindaklanjuti instansi", "Followed up by the agency"),
    "closed": ("Selesai", "Closed"),
    "rated": ("Selesai dan dinilai", "Closed and rated"),
    "rejected": ("Ditolak", "Rejected"),
    "marked_repeat": ("Laporan berulang", "Repeat report"),
}
"""The status a case is in, as anyone reads it."""

STATUS_SHORT: dict[str, Pair] = {
    "submitted": ("Menunggu verifikasi", "To verify"),
    "needs_info": ("Menunggu pelapor", "Awaiting the reporter"),
    "verified": ("Diverifikasi", "Verified"),
    "dispatched": ("Di instansi", "With the agency"),
    "disputed": ("Dikembalikan", "Sent back"),
    "followed_up": ("Ditindaklanjuti", "Followed up"),
    "closed": ("Selesai", "Closed"),
    "rated": ("Selesai, dinilai", "Closed, rated"),
    "rejected": ("Ditolak", "Rejected"),
    "marked_repeat": ("Berulang", "Repeat"),
}
"""The same, short, for the rows of a list of cases."""

EVENT: dict[str, Pair] = {
    "complaint.submitted": ("Laporan diterima", "Report received"),
    "case.verified": ("Laporan diverifikasi", "Report verified"),
    "case.dispatched": ("Laporan diteruskan ke instansi", "Report sent to the agency"),
    "case.info_requested": ("Meminta keterangan tambahan", "Asked for more details"),
    "case.info_received": ("Keterangan tambahan diterima", "More details received"),
    "case.rejected": ("Laporan ditolak", "Report rejected"),
    "case.marked_repeat": ("Ditandai sebagai laporan berulang", "Marked as a repeat report"),
    "case.declined": (
        "Bukan wewenang instansi ini, laporan dialihkan",
        "Not within this agency's authority, the report was re-routed",
    ),
    "case.followed_up": ("Menindaklanjuti laporan", "Followed up the report"),
    "case.disputed": ("Laporan dikembalikan ke instansi", "The report went back to the agency"),
    "case.closed": ("Laporan selesai", "Report closed"),
    "case.rated": ("Memberi penilaian", "Rated the handling"),
    "case.reminder": ("Pengingat tenggat", "Deadline reminder"),
    "case.escalated": (
        "Tenggat terlewati, laporan diteruskan ke tingkat berikutnya",
        "A deadline was missed, the report went one level up",
    ),
    "case.reporter_replied": ("Menanggapi", "Replied"),
    "case.reporter_messaged": ("Mengirim pesan", "Sent a message"),
    "case.reporter_accepted": (
        "Menyatakan masalahnya sudah selesai",
        "Said the problem is solved",
    ),
    "case.reporter_disputed": ("Menyatakan masalahnya belum selesai", "Said it is not solved"),
    "case.reporter_rated": ("Memberi penilaian", "Rated the handling"),
    "case.supported": (
        "Warga lain mengalami masalah yang sama",
        "Someone else has the same problem",
    ),
    "case.recategorised": ("Kategori laporan diperbaiki", "The report's category was corrected"),
}
"""What an event means, as a line of a case's history."""

NOTICE: dict[str, Pair] = {
    "complaint.submitted": ("Laporan Anda diterima", "Your report was received"),
    "case.verified": ("Laporan Anda diverifikasi", "Your report was verified"),
    "case.dispatched": ("Laporan Anda diteruskan ke instansi", "Your report went to the agency"),
    "case.info_requested": (
        "Petugas meminta keterangan tambahan",
        "An officer asks for more details",
    ),
    "case.rejected": ("Laporan Anda ditolak", "Your report was rejected"),
    "case.marked_repeat": (
        "Laporan Anda digabung dengan laporan yang sama",
        "Your report was joined with the same report",
    ),
    "case.followed_up": ("Instansi menindaklanjuti laporan Anda", "The agency followed up"),
    "case.closed": ("Laporan Anda selesai", "Your report is closed"),
    "case.reminder": ("Pengingat: tanggapan Anda ditunggu", "Reminder: your answer is awaited"),
    "case.disputed": ("Laporan dikembalikan ke instansi", "The report went back to the agency"),
    "case.escalated": ("Laporan diteruskan ke tingkat berikutnya", "The report went one level up"),
    "case.reporter_messaged": ("Pesan dari pelapor", "A message from the reporter"),
}
"""What a notice to the reporter is about (its subject when it has none of its own)."""

SUPPORTER_NOTICE: dict[str, Pair] = {
    "case.dispatched": (
        "Laporan yang Anda dukung diteruskan ke instansi",
        "The report you joined went to the agency",
    ),
    "case.followed_up": (
        "Instansi menindaklanjuti laporan yang Anda dukung",
        "The agency followed up the report you joined",
    ),
    "case.rejected": ("Laporan yang Anda dukung ditolak", "The report you joined was rejected"),
    "case.closed": ("Laporan yang Anda dukung selesai", "The report you joined is closed"),
}
"""What someone who joined a report ("the same problem") is told, and when: these events
only (notify's planning takes its list from here)."""

CLOSE_REASON: dict[str, Pair] = {
    "reporter_replied": (
        "Ditutup setelah tanggapan pelapor atas tindak lanjut.",
        "Closed after the reporter's reply to the follow-up.",
    ),
    "reporter_accepted": (
        "Pelapor menyatakan masalahnya sudah selesai.",
        "The reporter said the problem is solved.",
    ),
    "no_reply": (
        "Ditutup otomatis: tidak ada tanggapan dalam 10 hari kerja setelah tindak lanjut.",
        "Closed automatically: no answer within 10 working days of the follow-up.",
    ),
    "no_info": (
        "Ditutup otomatis: keterangan yang diminta tidak datang dalam 10 hari kerja.",
        "Closed automatically: the details asked for did not come within 10 working days.",
    ),
}
"""Why the system closed a case (a reason an officer typed is shown as typed)."""

CHANNEL: dict[str, Pair] = {
    "email": ("Email", "Email"),
    "sms": ("SMS", "SMS"),
    "whatsapp": ("WhatsApp", "WhatsApp"),
    "inbox": ("Kotak masuk LAPOR!", "LAPOR! inbox"),
    "webhook": ("Sistem instansi", "The agency's system"),
}
"""How a notice was sent."""

REPORT_CHANNEL: dict[str, Pair] = {
    "web": ("Situs web", "Website"),
    "app": ("Aplikasi", "App"),
    "open311": ("Aplikasi mitra (Open311)", "Partner app (Open311)"),
    "sms": ("SMS", "SMS"),
    "social_media": ("Media sosial", "Social media"),
    "walk_in": ("Datang langsung", "Walk-in"),
    "complaint_box": ("Kotak pengaduan", "Complaint box"),
    "letter": ("Surat", "Letter"),
    "phone": ("Telepon", "Phone call"),
    "external": ("Sistem daerah", "A regional system"),
}
"""How a report reached the platform."""

ROLE: dict[str, Pair] = {
    "national_admin": ("Admin nasional", "National admin"),
    "province_coordinator": ("Koordinator provinsi", "Province coordinator"),
    "regency_coordinator": ("Koordinator kabupaten/kota", "Regency/city coordinator"),
    "agency_staff": ("Admin instansi", "Agency staff"),
    "ombudsman": ("Ombudsman", "Ombudsman"),
}
"""A staff member's role."""

RECIPIENT: dict[str, Pair] = {
    "reporter": ("pelapor", "the reporter"),
    "agency": ("instansi", "the agency"),
    "coordinator": ("admin koordinator", "the coordinator"),
    "supporter": ("warga yang mendukung", "people who joined"),
}
"""Who a notice went to."""

DELIVERY: dict[str, Pair] = {
    "pending": ("menunggu dikirim", "waiting to be sent"),
    "sent": ("terkirim", "sent"),
    "delivered": ("sampai", "delivered"),
    "retrying": ("dicoba lagi", "being retried"),
    "failed": ("gagal", "failed"),
    "dead_lettered": ("gagal, disisihkan untuk diperiksa", "failed, set aside for a check"),
}
"""What became of a notice."""

STAFF_ACTION: dict[str, Pair] = {
    "verify": ("Verifikasi dan teruskan", "Verify and dispatch"),
    "request_info": ("Minta informasi tambahan", "Request information"),
    "reject": ("Tolak", "Reject"),
    "mark_repeat": ("Tandai laporan berulang", "Mark as repeat"),
    "dispatch": ("Teruskan ke instansi", "Dispatch to an agency"),
    "decline": ("Bukan wewenang kami", "Not within our authority"),
    "follow_up": ("Kirim tindak lanjut", "Send the follow-up"),
    "close": ("Tutup laporan", "Close the case"),
    "recategorise": ("Perbaiki kategori", "Correct the category"),
}
"""What staff can do to a case (``status.STAFF_MAY`` says in which statuses)."""

AUDIT: dict[str, Pair] = {
    **STAFF_ACTION,
    "signed_in": ("Masuk", "Signed in"),
    "signed_out": ("Keluar", "Signed out"),
    "signin_failed": ("Gagal masuk", "Failed sign-in"),
    "password_changed": ("Mengganti kata sandi", "Changed the password"),
    "password_check_failed": ("Salah kata sandi saat mengubah akun", "Wrong password"),
    "password_reset": ("Mengatur ulang kata sandi akun", "Reset an account's password"),
    "totp_enabled": ("Menyalakan verifikasi dua langkah", "Turned on two-step verification"),
    "totp_disabled": ("Mematikan verifikasi dua langkah", "Turned off two-step verification"),
    "account_created": ("Membuat akun", "Created an account"),
    "account_disabled": ("Menonaktifkan akun", "Disabled an account"),
    "account_enabled": ("Mengaktifkan akun", "Enabled an account"),
    "identity_viewed": ("Melihat identitas pelapor", "Viewed the reporter's identity"),
    "attachment_viewed": ("Membuka lampiran", "Opened an attachment"),
    "public_view_changed": ("Mengubah tampilan publik", "Changed what the public sees"),
    "report_entered": ("Mencatat laporan", "Entered a report"),
    "directory_replaced": ("Mengubah direktori", "Changed the directory"),
    "directory_rolled_back": ("Mengembalikan revisi direktori", "Brought back a revision"),
    "audit_exported": ("Mengunduh log audit", "Downloaded the audit log"),
    "note_added": ("Menulis catatan internal", "Wrote an internal note"),
    "case_assigned": ("Menugaskan laporan kepada petugas", "Handed the case to an officer"),
    "template_saved": ("Menyimpan templat balasan", "Saved a reply template"),
    "template_removed": ("Menghapus templat balasan", "Removed a reply template"),
}
"""What a line of the workspace's audit log records (the portal's ``AuditAction`` has one
member per key; a test fails when they drift)."""

AUDIT_DETAIL: dict[str, Pair] = {
    "reason": ("alasan", "reason"),
    "method": ("cara", "method"),
    "agency_id": ("instansi", "agency"),
    "account": ("akun", "account"),
    "role": ("peran", "role"),
    "channel": ("saluran", "channel"),
    "hidden": ("disembunyikan", "hidden"),
    "redactions": ("bagian disamarkan", "passages blurred"),
    "revision": ("revisi", "revision"),
    "index": ("lampiran ke", "attachment no."),
    "repeat_of": ("laporan asal", "original report"),
    "decided_by": ("diputuskan", "decided"),
    "officer": ("petugas", "officer"),
    "template": ("templat", "template"),
}
"""The names of what an audit line notes beside its action."""

COORDINATOR_ROLES = frozenset({"national_admin", "province_coordinator", "regency_coordinator"})
REPORTER_EVENTS = frozenset(t for t in CASE_EVENT_TYPES if t.startswith("case.reporter_")) | {
    "case.info_received"
}
"""Events whose words are the reporter's own (shown publicly only if the reporter chose so)."""


def actor(entry: Mapping[str, Any], viewer: Viewer, lang: str) -> str:
    """Who did what a history entry says, in words: "Anda" (the reporter, on their own page),
    "Pelapor", the agency's name, "Admin koordinator", "Ombudsman RI" or "Sistem LAPOR!"."""
    kind, role = actor_kind(entry)
    if kind == "reporter":
        return pick(("Anda", "You") if viewer == "reporter" else ("Pelapor", "The reporter"), lang)
    if kind == "staff":
        if role == "ombudsman":
            return "Ombudsman RI"
        if role in COORDINATOR_ROLES:
            return pick(("Admin koordinator", "The coordinator"), lang)
        if entry.get("agency_name"):
            return str(entry["agency_name"])
        return pick(("Instansi", "The agency"), lang)
    return pick(("Sistem LAPOR!", "The LAPOR! system"), lang)


def actor_kind(entry: Mapping[str, Any]) -> tuple[str, str | None]:
    """(kind, role) of who did what a history entry says: reporter, staff or system."""
    found = entry.get("actor")
    if isinstance(found, Mapping) and found.get("kind"):
        return str(found["kind"]), found.get("role")
    kind = str(entry.get("type") or "")
    if kind in REPORTER_EVENTS or kind == "complaint.submitted":
        return "reporter", None
    if kind in ("case.followed_up", "case.declined"):  # older entries carried no actor
        return "staff", "agency_staff"
    if kind in ("case.verified", "case.info_requested", "case.rejected", "case.marked_repeat"):
        return "staff", "province_coordinator"
    return "system", None


def event(kind: str, lang: str) -> str:
    """What an event means; an unknown one reads as "Perubahan status" (never its code)."""
    return pick(EVENT.get(kind, ("Perubahan pada laporan", "A change to the report")), lang)


def notice(kind: str, lang: str) -> str:
    return pick(NOTICE.get(kind, EVENT.get(kind, ("Kabar laporan", "News of the report"))), lang)


def supporter_notice(kind: str, lang: str) -> str:
    return pick(SUPPORTER_NOTICE.get(kind, ("Kabar laporan", "News of the report")), lang)


def status(key: str, lang: str) -> str:
    return pick(STATUS.get(key, ("Dalam proses", "In progress")), lang)


def channel(key: str, lang: str) -> str:
    return pick(CHANNEL.get(key, ("Pemberitahuan", "Notice")), lang)


def role(key: str, lang: str) -> str:
    return pick(ROLE.get(key, ("Petugas", "Officer")), lang)


def report_channel(key: str, lang: str) -> str:
    return pick(REPORT_CHANNEL.get(key, ("Saluran lain", "Another channel")), lang)


def recipient(key: str, lang: str) -> str:
    return pick(RECIPIENT.get(key, ("penerima", "recipient")), lang)


def delivery(key: str, lang: str) -> str:
    return pick(DELIVERY.get(key, ("dalam proses", "in progress")), lang)


def audit(key: str, lang: str) -> str:
    return pick(AUDIT.get(key, ("Tindakan lain", "Another action")), lang)


def reason(text: str | None, lang: str) -> str | None:
    """A close reason: the system's in words, an officer's as typed."""
    if not text:
        return None
    found = CLOSE_REASON.get(text)
    return pick(found, lang) if found else text


assert set(STATUS) == ALL, "every status needs words"
assert set(STATUS_SHORT) == ALL, "every status needs a short name"
assert set(EVENT) == CASE_EVENT_TYPES, "every case event type needs words"
assert set(STAFF_ACTION) == set(STAFF_MAY), "every staff action needs words"
assert {c.value for c in Channel} == set(REPORT_CHANNEL), "every channel needs words"
