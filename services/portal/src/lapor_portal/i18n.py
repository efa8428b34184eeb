"""The portal's words, Bahasa Indonesia first and English alongside (policy as data).
Statuses, events, actors and channels come from the one vocabulary, ``lapor_schemas.words``."""

from __future__ import annotations

from lapor_schemas import words

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
    "location": ("Titik lokasi di peta (boleh dilewati)", "The spot on the map (optional)"),
    "map_hint": (
        "Ketuk peta di tempat masalahnya, atau pakai lokasi Anda. Peta menunjukkan batas "
        "kabupaten/kota, dan kami memberi tahu di wilayah mana titik itu berada.",
        "Tap the map where the problem is, or use your location. The map shows the "
        "regencies' and cities' boundaries, and we tell you which one the spot is in.",
    ),
    "unserved_spot": (
        "Titik ini ada di laut atau di luar wilayah yang dilayani ({served}). Ketuk di darat, "
        "atau pilih kabupaten/kota dari daftar.",
        "This spot is at sea or outside the areas served ({served}). Tap on land, or choose "
        "the regency/city from the list.",
    ),
    "use_my_location": ("Gunakan lokasi saya", "Use my location"),
    "clear_pin": ("Hapus titik", "Remove the spot"),
    "map_label": ("Peta batas wilayah", "Map of area boundaries"),
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
    "thanks": ("Terima kasih, sudah kami terima.", "Thank you, received."),
    "province": ("Provinsi", "Province"),
    "complaints": ("Laporan", "Reports"),
    "speed": ("Tindak lanjut (hari kerja)", "Follow-up (working days)"),
    "low_volume": ("< 50 laporan/tahun", "< 50 reports/year"),
    "low_volume_explained": (
        "Tanda “< 50 laporan/tahun” ada pada kabupaten/kota yang menerima kurang dari "
        "50 laporan dari {start} sampai {end}. Sedikit laporan belum tentu berarti sedikit "
        "masalah: bisa jadi warga di sana belum mengenal LAPOR!.",
        "The mark “< 50 reports/year” is on regencies and cities that received fewer "
        "than 50 reports from {start} to {end}. Few reports need not mean few problems: "
        "people there may not know LAPOR! yet.",
    ),
    "stats_map_title": ("Peta laporan per kabupaten/kota", "Map of reports by regency/city"),
    "show_by": ("Warnai peta menurut", "Colour the map by"),
    "by_complaints": ("Jumlah laporan", "Number of reports"),
    "by_speed": ("Kecepatan tindak lanjut", "Follow-up speed"),
    "stats_map_hint": (
        "Ketuk atau pilih (Tab) sebuah wilayah untuk membaca angkanya. Angka yang sama ada "
        "di tabel di bawah.",
        "Tap or select (Tab) an area to read its figures. The same figures are in the table below.",
    ),
    "stats_table": ("Laporan per kabupaten/kota", "Reports by regency/city"),
    "no_speed": ("belum ada tindak lanjut", "no follow-up yet"),
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
    "none_found": (
        "Tidak ada laporan publik yang cocok. Coba kategori atau wilayah lain.",
        "No public report matches. Try another category or area.",
    ),
    "public_lead": (
        "Laporan yang sudah diverifikasi dan tidak dirahasiakan. Identitas pelapor tidak "
        "pernah ditampilkan.",
        "Reports that were verified and are not confidential. The reporter's identity is "
        "never shown.",
    ),
    "public_map": ("Peta laporan publik", "Map of public reports"),
    "public_list": ("Daftar laporan", "List of reports"),
    "all_categories": ("Semua kategori", "All categories"),
    "all_regions": ("Semua kabupaten/kota", "All regencies and cities"),
    "pages": ("Halaman", "Pages"),
    "page": ("Halaman", "Page"),
    "previous": ("Sebelumnya", "Previous"),
    "next_page": ("Berikutnya", "Next"),
    "similar_title": ("Sudah ada yang melaporkan ini?", "Has someone reported this already?"),
    "similar_lead": (
        "Laporan berikut sudah masuk untuk masalah sejenis di dekat tempat itu. Jika salah "
        "satunya masalah Anda juga, dukung laporan itu: instansi melihat berapa warga yang "
        "mengalaminya, dan Anda dikabari saat laporan itu berubah. Laporan Anda belum "
        "dikirim.",
        "These reports of a similar problem near that place are in already. If one of them "
        "is your problem too, join it: the agency sees how many people have it, and you are "
        "told when it changes. Your report has not been sent yet.",
    ),
    "similar_hint": (
        "Ada {n} laporan serupa di dekat sini:",
        "{n} similar reports near here:",
    ),
    "similar_hint_next": (
        "Saat Anda menekan Kirim, Anda dapat memilih untuk mendukung salah satunya.",
        "When you press Send, you can choose to join one of them instead.",
    ),
    "same_problem": ("Ini masalah yang sama", "This is the same problem"),
    "same_problem_hint": (
        "Laporan Anda tidak dikirim; Anda mendukung laporan ini dan dikabari lewat kontak "
        "yang Anda isi.",
        "Your report is not sent; you join this one and hear of it on the contact you gave.",
    ),
    "similar_finished": (
        "Laporan ini sudah selesai. Jika masalahnya muncul lagi, kirim laporan Anda.",
        "This report is finished. If the problem is back, send your report.",
    ),
    "different_problem_title": ("Masalah Anda berbeda?", "Is your problem a different one?"),
    "different_problem_hint": (
        "Laporan Anda dikirim seperti biasa, dengan semua yang sudah Anda isi dan lampirkan.",
        "Your report is sent as usual, with everything you wrote and attached.",
    ),
    "different_problem": (
        "Masalah saya berbeda, kirim laporan saya",
        "My problem is different, send my report",
    ),
    "join_failed": (
        "Laporan itu tidak dapat didukung lagi (sudah selesai atau tidak lagi publik). Pilih "
        "yang lain, atau kirim laporan Anda.",
        "That report cannot be joined any more (it is finished or no longer public). Choose "
        "another, or send your report.",
    ),
    "joined_title": ("Anda mendukung laporan ini", "You joined this report"),
    "joined_lead": (
        "Terima kasih. Kini {n} warga menyatakan mengalami masalah yang sama.",
        "Thank you. {n} people now say they have the same problem.",
    ),
    "joined_before": (
        "Anda sudah mendukung laporan ini sebelumnya; dukungan Anda dihitung sekali. Kini {n} "
        "warga mendukungnya.",
        "You had joined this report before; you are counted once. {n} people have joined it.",
    ),
    "joined_told": (
        "Kami mengabari Anda saat laporan ini diteruskan, ditindaklanjuti atau selesai.",
        "We tell you when this report is passed on, followed up or closed.",
    ),
    "joined_no_contact": (
        "Anda tidak mengisi email atau nomor telepon, jadi kami tidak dapat mengabari Anda: "
        "ikuti perkembangannya di halaman laporan.",
        "You left no email or phone number, so we cannot tell you: follow it on the report's page.",
    ),
    "joined_nothing_more": (
        "Laporan Anda sendiri tidak dikirim. Kontak Anda tidak terlihat oleh pelapor atau "
        "instansi.",
        "Your own report was not sent. Neither the reporter nor the agency sees your contact.",
    ),
    "joined_see": ("Lihat laporan yang Anda dukung", "See the report you joined"),
    "distance_m": ("sekitar {n} m dari titik Anda", "about {n} m from your spot"),
    "distance_km": ("sekitar {n} km dari titik Anda", "about {n} km from your spot"),
    "supporters_count": (
        "{n} warga lain mengalami masalah yang sama",
        "{n} other people have the same problem",
    ),
    # -- the conversation after filing ------------------------------------------------------
    "your_answer": ("Apa jawaban Anda?", "What is your answer?"),
    "your_answer_lead": (
        "Instansi sudah menindaklanjuti laporan Anda. Pilih salah satu jawaban di bawah{by}.",
        "The agency has followed up your report. Choose one of the answers below{by}.",
    ),
    "answer_by": (" sampai {at}", " by {at}"),
    "answer_silence": (
        "Tanpa jawaban, laporan ditutup setelah batas waktu itu.",
        "Without an answer the report is closed after that date.",
    ),
    "accept": ("Selesai, terima kasih", "Solved, thank you"),
    "accept_does": (
        "Laporan ditutup. Setelah itu Anda dapat memberi penilaian.",
        "The report is closed. Then you can rate how it was handled.",
    ),
    "dispute": ("Belum selesai", "Not solved"),
    "dispute_does": (
        "Laporan dikembalikan ke {agency}, yang harus menindaklanjutinya lagi dalam 5 hari kerja.",
        "The report goes back to {agency}, which must follow it up again within 5 working days.",
    ),
    "dispute_text": ("Apa yang belum selesai?", "What is not solved?"),
    "message": ("Kirim pesan ke instansi", "Send a message to the agency"),
    "message_before": ("Kirim pesan", "Send a message"),
    "message_does": (
        "Untuk pertanyaan atau keterangan tambahan. Laporan tetap terbuka dan Anda masih dapat "
        "memilih selesai atau belum selesai.",
        "For a question or more information. The report stays open, and you can still say "
        "whether it is solved.",
    ),
    "message_does_before": (
        "Keterangan tambahan atau pertanyaan untuk petugas. Laporan tetap berjalan seperti biasa.",
        "More information or a question for the officers. The report goes on as usual.",
    ),
    "answer_question": ("Jawab pertanyaan petugas", "Answer the officer's question"),
    "answer_question_does": (
        "Jawaban Anda dikirim ke petugas, lalu laporan diverifikasi lagi.",
        "Your answer goes to the officer, then the report is verified again.",
    ),
    "the_question": ("Pertanyaan petugas", "The officer's question"),
    "message_text": ("Pesan Anda", "Your message"),
    "send_message": ("Kirim pesan", "Send the message"),
    "send_answer": ("Kirim jawaban", "Send the answer"),
    "send_dispute": ("Kembalikan ke instansi", "Send it back to the agency"),
    "rate": ("Beri penilaian", "Rate the handling"),
    "rate_lead": (
        "Laporan Anda selesai. Seberapa baik penanganannya?",
        "Your report is closed. How well was it handled?",
    ),
    "score": ("Nilai (1 buruk, 5 sangat baik)", "Score (1 poor, 5 very good)"),
    "score_n": ("{n} dari 5", "{n} out of 5"),
    "comment": ("Komentar (boleh kosong)", "Comment (optional)"),
    "done_accept": (
        "Terima kasih. Laporan Anda ditutup; Anda dapat memberi penilaian di bawah.",
        "Thank you. Your report is closed; you can rate it below.",
    ),
    "done_dispute": (
        "Laporan Anda dikembalikan ke instansi untuk ditindaklanjuti lagi.",
        "Your report went back to the agency to be followed up again.",
    ),
    "done_message": (
        "Pesan Anda terkirim ke instansi. Laporan tetap terbuka.",
        "Your message went to the agency. The report stays open.",
    ),
    "done_rate": ("Terima kasih atas penilaian Anda.", "Thank you for your rating."),
    "need_text_message": ("Tulis pesan Anda.", "Write your message."),
    "need_text_dispute": (
        "Tulis apa yang belum selesai, agar instansi tahu yang harus diperbaiki.",
        "Write what is not solved, so that the agency knows what to fix.",
    ),
    "need_score": ("Pilih nilai 1 sampai 5.", "Choose a score from 1 to 5."),
    "not_now": (
        "Jawaban ini tidak dapat dicatat pada tahap laporan sekarang; pilihan yang tersedia "
        "ada di bawah.",
        "This answer cannot be taken at the report's current stage; what you can do now is below.",
    ),
    "who_said": ("Siapa", "Who"),
    "sent_by": ("lewat", "by"),
    "photos": ("Foto dan berkas", "Photos and files"),
    # -- what is public --------------------------------------------------------------------
    "public_sees": (
        "Yang tampil di halaman publik setelah laporan diverifikasi: judul, isi laporan, "
        "kategori, kabupaten/kota, foto, status, dan jawaban instansi. Nama dan kontak Anda "
        "tidak pernah tampil.",
        "What the public page shows once the report is verified: the title, the text, the "
        "category, the regency/city, photos, the status and the agency's answers. Your name "
        "and contact are never shown.",
    ),
    "public_replies": ("Tampilkan juga tanggapan saya", "Also show my replies"),
    "public_replies_hint": (
        "Pesan, keberatan dan komentar penilaian Anda ikut tampil di halaman publik (tanpa "
        "nama). Jika tidak dicentang, hanya Anda dan petugas yang membacanya.",
        "Your messages, dispute and rating comment are shown on the public page too (without "
        "your name). Unticked, only you and the officers read them.",
    ),
    "confidential_sees": (
        "Jika dicentang, tidak ada apa pun dari laporan ini yang tampil di halaman publik.",
        "Ticked, nothing of this report is shown on the public page.",
    ),
    # -- what happens next -----------------------------------------------------------------
    "next": ("Apa selanjutnya", "What happens next"),
    "next_verify": (
        "Petugas memverifikasi laporan Anda paling lambat {date} (3 hari kerja).",
        "An officer verifies your report by {date} (3 working days).",
    ),
    "next_dispatch": (
        "Lalu laporan diteruskan ke instansi yang berwenang, yang menindaklanjutinya dalam 5 "
        "hari kerja.",
        "Then it goes to the agency in charge, which follows it up within 5 working days.",
    ),
    "next_told": (
        "Anda diberi tahu di setiap langkah{how}. Setelah tindak lanjut, Anda menjawab: "
        "selesai, belum selesai, atau sebuah pesan.",
        "You hear of every step{how}. After the follow-up you answer: solved, not solved, or "
        "a message.",
    ),
    "next_how": (" lewat {channels}", " by {channels}"),
    # -- pages -----------------------------------------------------------------------------
    "privacy": ("Privasi", "Privacy"),
    "accessibility": ("Aksesibilitas", "Accessibility"),
    "help": ("Bantuan", "Help"),
    "contact_us": ("Kontak", "Contact"),
    "not_found_page": ("Halaman tidak ditemukan", "Page not found"),
    "not_found_lead": (
        "Alamat ini tidak ada. Mungkin salah ketik, atau halamannya sudah dipindah.",
        "There is no page at this address. It may be mistyped, or the page has moved.",
    ),
    "error_page": ("Maaf, terjadi kesalahan", "Sorry, something went wrong"),
    "error_lead": (
        "Kesalahan ini sudah tercatat. Isian Anda tidak tersimpan di halaman ini: coba lagi "
        "sebentar lagi.",
        "The error is recorded. Nothing was saved from this page: try again shortly.",
    ),
    "go_home": ("Ke beranda", "Go to the home page"),
    # -- form errors in words --------------------------------------------------------------
    "need_title": (
        "Tulis judul laporan, 5 sampai 200 huruf.",
        "Write a title of 5 to 200 characters.",
    ),
    "need_description": (
        "Ceritakan masalahnya, paling sedikit 10 huruf: apa, di mana, sejak kapan.",
        "Describe the problem in at least 10 characters: what, where, since when.",
    ),
    "need_category": ("Pilih kategori laporan.", "Choose a category."),
    "need_region": (
        "Pilih kabupaten/kota tempat masalahnya.",
        "Choose the regency/city where the problem is.",
    ),
    "need_name": (
        "Tulis nama Anda, atau centang Anonim.",
        "Write your name, or tick Anonymous.",
    ),
    "need_contact": (
        "Tulis email atau nomor telepon agar Anda diberi kabar, atau centang Anonim.",
        "Write an email or a phone number so that you hear back, or tick Anonymous.",
    ),
    "bad_email": (
        "Tulis email yang lengkap, misalnya nama@contoh.id.",
        "Write a complete email address, e.g. name@example.id.",
    ),
    "bad_phone": (
        "Tulis nomor telepon dengan angka saja, misalnya 081234567890.",
        "Write the phone number in digits, e.g. 081234567890.",
    ),
    "need_email_for": (
        "Kabar lewat email memerlukan alamat email.",
        "News by email needs an email address.",
    ),
    "need_phone_for": (
        "Kabar lewat SMS atau WhatsApp memerlukan nomor telepon.",
        "News by SMS or WhatsApp needs a phone number.",
    ),
    "bad_location": (
        "Tulis lintang dan bujur sebagai angka, misalnya -3.32 dan 114.59, atau kosongkan.",
        "Write the latitude and longitude as numbers, e.g. -3.32 and 114.59, or leave them empty.",
    ),
    "file_refused": (
        "{name}: foto harus JPG, PNG atau WebP; berkas lain PDF, video MP4 atau suara MP3; "
        "paling besar 10 MB.",
        "{name}: photos must be JPG, PNG or WebP; other files PDF, MP4 video or MP3 audio; at "
        "most 10 MB.",
    ),
    "file_unreadable": (
        "{name}: berkas ini tidak dapat dibaca. Kirim foto JPG, PNG atau WebP, paling besar 10 MB.",
        "{name}: this file cannot be read. Send a JPG, PNG or WebP photo, at most 10 MB.",
    ),
    "too_many_files": (
        "Paling banyak 5 berkas untuk satu laporan.",
        "At most 5 files for one report.",
    ),
}

STATUS: dict[str, tuple[str, str]] = words.STATUS  # one vocabulary (lapor_schemas.words)


def t(key: str, lang: str) -> str:
    pair = TEXT.get(key) or STATUS.get(key)
    if pair is None:
        return key
    return pair[1] if lang == "en" else pair[0]


def say(lang: str, *text: str) -> str:
    """The one way templates translate, as ``t(...)``: a key of the catalogue above
    (``t('write')``), or the words in place, Bahasa Indonesia then English
    (``t('Kotak masuk', 'Inbox')``) for a sentence used on one page only."""
    if len(text) == 2:
        return text[1] if lang == "en" else text[0]
    if len(text) != 1:
        raise TypeError(f"t() takes a key or a pair, not {len(text)} texts")
    return t(text[0], lang)


# Words the maps' script shows (given to it by the page, in the page's language).
MAP_WORDS: dict[str, tuple[str, str]] = {
    "in": ("Titik ini ada di {name}.", "This spot is in {name}."),
    "near": (
        "Titik ini sedikit di luar batas pada peta kami; wilayah terdekat: {name} (sekitar "
        "{km} km).",
        "This spot is just outside the boundaries on our map; the nearest area: {name} "
        "(about {km} km).",
    ),
    "chosen": ("{name} dipilih untuk laporan ini.", "{name} is chosen for this report."),
    "ask": (
        "Titik ini ada di {name}, bukan {chosen}. Ganti?",
        "This spot is in {name}, not {chosen}. Change?",
    ),
    "yes": ("Ya, ganti ke {name}", "Yes, change to {name}"),
    "no": ("Tidak, tetap {chosen}", "No, keep {chosen}"),
    "changed": ("Diganti ke {name}.", "Changed to {name}."),
    "kept": (
        "Tetap {chosen}. Titiknya tetap dikirim bersama laporan.",
        "{chosen} kept. The spot is still sent with the report.",
    ),
    "zoom": (
        "Peta diperbesar. Ketuk tepat di tempat masalahnya.",
        "The map is zoomed in. Tap exactly where the problem is.",
    ),
    "locating": ("Mencari lokasi Anda\u2026", "Finding your location\u2026"),
    "no_geo": (
        "Lokasi Anda tidak dapat dibaca (izin ditolak atau tidak tersedia). Ketuk peta, atau "
        "pilih kabupaten/kota dari daftar.",
        "Your location cannot be read (permission refused or not available). Tap the map, or "
        "choose the regency/city from the list.",
    ),
    "offline": (
        "Titik ini belum dapat diperiksa (sambungan terputus). Coba lagi, atau pilih "
        "kabupaten/kota dari daftar.",
        "This spot cannot be checked now (no connection). Try again, or choose the "
        "regency/city from the list.",
    ),
    "cleared": ("Titik dihapus.", "The spot is removed."),
    "reports": ("{n} laporan", "{n} reports"),
    "days": ("tindak lanjut rata-rata {d} hari kerja", "follow-up in {d} working days on average"),
    "no_data": ("belum ada data", "no data yet"),
    "legend_complaints": ("Jumlah laporan", "Number of reports"),
    "legend_speed": (
        "Rata-rata hari kerja sampai ditindaklanjuti (lebih gelap: lebih lambat)",
        "Average working days to a follow-up (darker: slower)",
    ),
    "cluster": (
        "{n} laporan di sekitar sini: ketuk untuk memperbesar",
        "{n} reports around here: tap to zoom in",
    ),
}


def map_words(lang: str) -> dict[str, str]:
    return {k: (en if lang == "en" else id_) for k, (id_, en) in MAP_WORDS.items()}
