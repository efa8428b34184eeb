"""The portal's words, Bahasa Indonesia first and English alongside (policy as data)."""

from __future__ import annotations

LANGS = ("id", "en")

TEXT: dict[str, tuple[str, str]] = {
    "site": ("LAPOR! Layanan Aspirasi dan Pengaduan Online Rakyat", "LAPOR! Public complaints"),
    "skip": ("Langsung ke isi", "Skip to content"),
    "home": ("Beranda", "Home"),
    "write": ("Tulis laporan", "Write a report"),
    "follow": ("Lacak laporan", "Follow a report"),
    "stats": ("Statistik", "Statistics"),
    "public": ("Laporan publik", "Public reports"),
    "language": ("English", "Bahasa Indonesia"),
    "intro": (
        "Sampaikan pengaduan, aspirasi, atau permintaan informasi kepada instansi pemerintah "
        "yang berwenang. Laporan Anda diteruskan ke instansi yang tepat dan Anda diberi tahu "
        "perkembangannya.",
        "Send a complaint, an aspiration or an information request to the government body "
        "with authority over it. Your report reaches the right office and you are told what "
        "happens.",
    ),
    "write_lead": (
        "Ceritakan masalahnya; kami teruskan ke instansi yang berwenang.",
        "Tell us the problem; we pass it to the office in charge.",
    ),
    "follow_lead": (
        "Pakai nomor pelacakan dan kode rahasia dari tanda terima Anda.",
        "Use the tracking number and secret code from your receipt.",
    ),
    "stats_lead": (
        "Berapa laporan tiap kabupaten/kota dan seberapa cepat ditindaklanjuti.",
        "How many reports each regency/city receives and how fast they are handled.",
    ),
    "type": ("Jenis laporan", "Type of report"),
    "pengaduan": ("Pengaduan", "Complaint"),
    "pengaduan_hint": (
        "Layanan publik yang buruk atau merugikan Anda.",
        "A public service that is poor or harmed you.",
    ),
    "aspirasi": ("Aspirasi", "Aspiration"),
    "aspirasi_hint": ("Usul atau saran untuk pemerintah.", "A proposal or suggestion."),
    "permintaan_informasi": ("Permintaan informasi", "Information request"),
    "permintaan_informasi_hint": (
        "Meminta informasi publik dari instansi.",
        "Asking a government body for public information.",
    ),
    "title": ("Judul laporan", "Title"),
    "title_hint": ("5 sampai 200 karakter.", "5 to 200 characters."),
    "description": ("Isi laporan", "What happened"),
    "description_hint": (
        "10 sampai 5.000 karakter: apa, di mana, sejak kapan.",
        "10 to 5,000 characters: what, where, since when.",
    ),
    "category": ("Kategori", "Category"),
    "region": ("Kabupaten/kota", "Regency/city"),
    "choose": ("Pilih…", "Choose…"),
    "anonymous": ("Anonim", "Anonymous"),
    "anonymous_hint": (
        "Nama Anda tidak diberikan kepada instansi mana pun.",
        "Your name is given to no office.",
    ),
    "confidential": ("Rahasia", "Confidential"),
    "confidential_hint": (
        "Laporan tidak tampil di halaman publik; hanya Anda dan petugas yang dapat membacanya.",
        "The report is never shown publicly; only you and the officers can read it.",
    ),
    "contact": ("Kontak Anda", "Your contact"),
    "contact_hint": (
        "Wajib jika tidak anonim: email atau nomor telepon, untuk kabar perkembangan.",
        "Required unless anonymous: email or phone, to hear what happens.",
    ),
    "name": ("Nama", "Name"),
    "email": ("Email", "Email"),
    "phone": ("Nomor telepon", "Phone number"),
    "notify_via": ("Kabari saya lewat", "Tell me by"),
    "attachments": ("Lampiran (boleh kosong)", "Attachments (optional)"),
    "attachments_hint": (
        "Foto JPG, PNG atau WebP, PDF, video MP4 atau suara MP3; paling besar 10 MiB per "
        "berkas, 20 MiB sekali kirim, paling banyak 5 berkas.",
        "JPG, PNG or WebP photos, PDF, MP4 video or MP3 audio; at most 10 MiB a file, "
        "20 MiB per sending, 5 files.",
    ),
    "attached": ("Sudah dilampirkan", "Attached"),
    "location": ("Titik lokasi (boleh kosong)", "Exact spot (optional)"),
    "map_hint": (
        "Ketuk peta untuk menandai tempatnya, atau isi koordinatnya.",
        "Tap the map to mark the spot, or type its coordinates.",
    ),
    "lat": ("Lintang (contoh -3.32)", "Latitude (e.g. -3.32)"),
    "lon": ("Bujur (contoh 114.59)", "Longitude (e.g. 114.59)"),
    "send": ("Kirim laporan", "Send report"),
    "fix_errors": ("Periksa kembali isian berikut:", "Please check these fields:"),
    "received": ("Laporan Anda telah diterima", "Your report has been received"),
    "tracking_id": ("Nomor pelacakan", "Tracking number"),
    "secret": ("Kode rahasia", "Secret code"),
    "keep": (
        "Simpan keduanya. Kode rahasia tidak dapat dikirim ulang dan diperlukan untuk "
        "melihat laporan rahasia dan membalas.",
        "Keep both. The secret cannot be sent again; you need it to see a confidential "
        "report and to reply.",
    ),
    "copy": ("Salin", "Copy"),
    "copied": ("Tersalin.", "Copied."),
    "save_file": ("Simpan sebagai berkas", "Save as a file"),
    "print": ("Cetak halaman ini", "Print this page"),
    "see_status": ("Lihat status laporan", "See the report's status"),
    "show": ("Tampilkan", "Show"),
    "not_found": (
        "Laporan tidak ditemukan, atau kode rahasia tidak cocok.",
        "Report not found, or the secret does not match.",
    ),
    "status": ("Status", "Status"),
    "timeline": ("Perjalanan laporan", "What happened"),
    "agency": ("Instansi", "Agency"),
    "due": (
        "Instansi menindaklanjuti paling lambat {at} ({days} hari kerja lagi).",
        "The agency follows up by {at} ({days} working days left).",
    ),
    "messages": ("Pemberitahuan yang dikirim kepada Anda", "Notices sent to you"),
    "reply": ("Balas", "Reply"),
    "reply_text": ("Balasan Anda", "Your reply"),
    "dispute": ("Belum puas? Kembalikan ke instansi", "Not satisfied? Send it back"),
    "dispute_text": ("Mengapa belum selesai", "Why it is not resolved"),
    "rate": ("Beri penilaian", "Rate the handling"),
    "score": ("Nilai (1 buruk – 5 sangat baik)", "Score (1 poor – 5 very good)"),
    "comment": ("Komentar (boleh kosong)", "Comment (optional)"),
    "thanks": ("Terima kasih, sudah kami terima.", "Thank you, received."),
    "province": ("Provinsi", "Province"),
    "complaints": ("Laporan", "Reports"),
    "speed": ("Tindak lanjut (hari kerja)", "Follow-up (working days)"),
    "low_volume": ("< 50 laporan/tahun", "< 50 reports/year"),
    "down_title": ("Layanan sedang sibuk", "The service is busy"),
    "down": (
        "Kami belum dapat menghubungi layanan. Isian Anda tidak hilang: coba kirim lagi "
        "sebentar lagi.",
        "We cannot reach the service right now. Nothing you typed is lost: try again shortly.",
    ),
    "retry": ("Coba lagi", "Try again"),
    "expired": (
        "Formulir kedaluwarsa; silakan kirim sekali lagi.",
        "The form expired; please send it once more.",
    ),
    "too_many": ("Terlalu banyak permintaan; coba lagi nanti.", "Too many requests; try later."),
    "none_yet": ("Belum ada.", "None yet."),
}

STATUS: dict[str, tuple[str, str]] = {
    "submitted": ("Diterima, menunggu verifikasi", "Received, awaiting verification"),
    "needs_info": ("Perlu keterangan tambahan dari Anda", "More details needed from you"),
    "verified": ("Diverifikasi", "Verified"),
    "dispatched": ("Diteruskan ke instansi", "Sent to the agency"),
    "declined": ("Dialihkan (bukan wewenang)", "Re-routed (not within authority)"),
    "disputed": ("Dikembalikan ke instansi", "Sent back to the agency"),
    "followed_up": ("Ditindaklanjuti instansi", "Followed up by the agency"),
    "closed": ("Selesai", "Closed"),
    "rated": ("Selesai dan dinilai", "Closed and rated"),
    "rejected": ("Ditolak", "Rejected"),
    "marked_repeat": ("Laporan berulang", "Repeat report"),
}


def t(key: str, lang: str) -> str:
    pair = TEXT.get(key) or STATUS.get(key)
    if pair is None:
        return key
    return pair[1] if lang == "en" else pair[0]
