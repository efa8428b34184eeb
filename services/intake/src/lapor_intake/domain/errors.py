"""Turn validation failures into field-level reasons in Bahasa Indonesia and English."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from lapor_schemas import FieldError

# pydantic error type -> (Indonesian, English); ``{...}`` placeholders come from the error ctx.
_MESSAGES: dict[str, tuple[str, str]] = {
    "missing": ("wajib diisi", "is required"),
    "string_too_short": (
        "terlalu pendek (minimal {min_length} karakter)",
        "is too short (at least {min_length} characters)",
    ),
    "string_too_long": (
        "terlalu panjang (maksimal {max_length} karakter)",
        "is too long (at most {max_length} characters)",
    ),
    "string_pattern_mismatch": ("formatnya tidak valid", "has an invalid format"),
    "string_type": ("harus berupa teks", "must be a string"),
    "enum": ("harus salah satu dari: {expected}", "must be one of: {expected}"),
    "literal_error": ("harus salah satu dari: {expected}", "must be one of: {expected}"),
    "bool_parsing": ("harus berupa true atau false", "must be true or false"),
    "bool_type": ("harus berupa true atau false", "must be true or false"),
    "extra_forbidden": ("kolom tidak dikenal", "is not a known field"),
    "json_invalid": ("bukan JSON yang valid", "is not valid JSON"),
    "json_type": ("bukan JSON yang valid", "is not valid JSON"),
    "model_type": ("harus berupa objek JSON", "must be a JSON object"),
    "model_attributes_type": ("harus berupa objek JSON", "must be a JSON object"),
    "dict_type": ("harus berupa objek JSON", "must be a JSON object"),
    "value_error": ("nilainya tidak valid: {error}", "is not valid: {error}"),
    "reporter_name_required": (
        "nama pelapor wajib diisi kecuali laporan anonim",
        "the reporter's name is required unless the report is anonymous",
    ),
    "reporter_contact_required": (
        "email atau nomor telepon pelapor wajib diisi kecuali laporan anonim",
        "the reporter's email or phone is required unless the report is anonymous",
    ),
    "channel_without_address": (
        "kabar lewat {channel} memerlukan {needed_id} pelapor",
        "news by {channel} needs the reporter's {needed_en}",
    ),
    "unknown_category": (
        "kategori '{value}' tidak ada dalam katalog layanan",
        "category '{value}' is not in the service catalogue",
    ),
    "location_required": (
        "pilih kabupaten/kota, atau tandai titik lokasinya",
        "choose the regency/city, or mark the spot",
    ),
    "location_unserved": (
        "titik ({lat}, {lon}) tidak berada di kabupaten/kota yang dilayani ({served}); "
        "pilih kabupaten/kota dari daftar",
        "the spot ({lat}, {lon}) is in no regency/city served ({served}); choose one from the list",
    ),
    "latlon_pair": ("lat dan lon harus diisi bersamaan", "lat and lon must be given together"),
    "attachment_type": (
        "foto harus JPG, PNG atau WebP; berkas lain PDF, video MP4 atau suara MP3, paling "
        "besar 10 MB",
        "photos must be JPG, PNG or WebP; other files PDF, MP4 video or MP3 audio, at most 10 MB",
    ),
    "attachment_content": (
        "isi berkas tidak sesuai dengan jenisnya ({content_type})",
        "the file's content does not match its type ({content_type})",
    ),
    "attachment_unknown": (
        "berkas lampiran tidak dikenal atau sudah kedaluwarsa; unggah ulang berkasnya",
        "the attached upload is unknown or has expired; upload the file again",
    ),
    "too_long": ("terlalu banyak (maksimal {max_length})", "too many (at most {max_length})"),
    "less_than_equal": ("maksimal {le}", "must be at most {le}"),
    "greater_than": ("harus lebih dari {gt}", "must be greater than {gt}"),
    "greater_than_equal": ("minimal {ge}", "must be at least {ge}"),
    "unknown_channel": ("kanal '{value}' tidak terdaftar", "channel '{value}' is not registered"),
    "bad_signature": (
        "tanda tangan pesan (x-lapor-signature) tidak valid",
        "the message signature (x-lapor-signature) is not valid",
    ),
    "channel_not_allowed": (
        "kanal tidak berwenang mengirim laporan untuk provinsi {value}",
        "the channel may not submit reports for province {value}",
    ),
    "record_too_large": ("pesan ditolak: {problem}", "message refused: {problem}"),
    "record_too_deep": ("pesan ditolak: {problem}", "message refused: {problem}"),
    "undecodable": ("pesan tidak dapat dibaca ({error})", "message could not be read ({error})"),
    "control_characters": (
        "berisi karakter kontrol (misalnya NUL) yang tidak diizinkan",
        "contains control characters (such as NUL) that are not allowed",
    ),
    "email_not_ascii": (
        "alamat email dengan huruf non-ASCII tidak dapat dikirimi email",
        "an email address with non-ASCII characters cannot be delivered",
    ),
    "unknown_region": (
        "kode wilayah '{value}' tidak dikenal",
        "region code '{value}' is not known",
    ),
}
_FIELD_OF_CODE = {
    "reporter_name_required": "reporter.name",
    "reporter_contact_required": "reporter",
    "location_required": "region_code",
}
_GENERIC = ("nilainya tidak valid", "is not valid")


def field_error(field: str, code: str, **ctx: Any) -> FieldError:
    template_id, template_en = _MESSAGES.get(code, _GENERIC)
    return FieldError(
        field=field,
        code=code,
        message=_fill(template_id, ctx),
        message_en=_fill(template_en, ctx),
    )


def from_pydantic(errors: Iterable[Mapping[str, Any]], *, skip_prefix: int = 0) -> list[FieldError]:
    """Translate ``ValidationError.errors()`` (FastAPI's too). ``skip_prefix`` drops leading
    location parts such as FastAPI's ``'body'``."""
    out: list[FieldError] = []
    for err in errors:
        code = str(err.get("type", "value_error"))
        loc = [str(p) for p in err.get("loc", ())][skip_prefix:]
        field = _FIELD_OF_CODE.get(code, ".".join(loc))
        ctx = dict(err.get("ctx") or {})
        if "needed" in ctx:  # in words: "nomor telepon", not a field's name
            ctx["needed_id"] = {"phone": "nomor telepon", "email": "alamat email"}.get(
                str(ctx["needed"]), str(ctx["needed"])
            )
            ctx["needed_en"] = {"phone": "phone number", "email": "email address"}.get(
                str(ctx["needed"]), str(ctx["needed"])
            )
        if code == "value_error" and "error" not in ctx:
            ctx["error"] = err.get("msg", "")
        if code == "value_error" and field.endswith("email"):
            out.append(
                FieldError(
                    field=field,
                    code="invalid_email",
                    message="alamat email tidak valid",
                    message_en="is not a valid email address",
                )
            )
            continue
        out.append(field_error(field, code, **ctx))
    return out


def _fill(template: str, ctx: Mapping[str, Any]) -> str:
    try:
        return template.format(**ctx)
    except (KeyError, IndexError, ValueError):
        return template.split(":")[0].split("(")[0].strip()
