"""Is an upload what it says it is? The first bytes of each accepted type (pure).

A browser or a client declares a content type; nothing stops it from declaring
``image/png`` for a Windows executable, which an agency officer would then open. Each
accepted type is recognised by its signature, and a file whose bytes do not match the
declared type is refused.
"""

from __future__ import annotations


def _mp3(data: bytes) -> bool:
    # an ID3v2 tag, or an MPEG audio frame header (11 sync bits)
    return data.startswith(b"ID3") or (len(data) > 1 and data[0] == 0xFF and data[1] >= 0xE0)


SIGNATURES = {
    "image/jpeg": lambda d: d.startswith(b"\xff\xd8\xff"),
    "image/png": lambda d: d.startswith(b"\x89PNG\r\n\x1a\n"),
    "image/webp": lambda d: d[:4] == b"RIFF" and d[8:12] == b"WEBP",
    "application/pdf": lambda d: d.startswith(b"%PDF-"),
    "video/mp4": lambda d: d[4:8] == b"ftyp",
    "audio/mpeg": _mp3,
}


def matches(content_type: str, data: bytes) -> bool:
    """True when ``data`` starts like a file of ``content_type`` (unknown types: False)."""
    check = SIGNATURES.get(content_type)
    return bool(check and check(data))
