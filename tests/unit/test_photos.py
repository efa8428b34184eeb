"""Photos are kept without what a phone writes into them (GPS position, device), upright,
with a small copy for pages; a photo that does not decode is refused."""

from __future__ import annotations

import io

import pytest
from PIL import Image, PngImagePlugin

from lapor_intake.domain import photos
from tests.support import phone_photo


def test_a_phone_photo_loses_its_position_and_device_and_stands_upright() -> None:
    raw = phone_photo()
    assert b"PhoneMaker" in raw
    assert Image.open(io.BytesIO(raw)).getexif().get_ifd(0x8825)  # the GPS block is there
    kept = photos.clean("image/jpeg", raw)
    image = Image.open(io.BytesIO(kept))
    assert not image.getexif()
    assert b"Exif" not in kept
    assert b"PhoneMaker" not in kept
    assert b"Pak Darto" not in kept
    assert "comment" not in image.info
    assert image.size == (320, 640)  # turned upright by its orientation tag


def test_png_and_webp_lose_their_text_too_and_other_files_are_kept_as_sent() -> None:
    meta = PngImagePlugin.PngInfo()
    meta.add_text("Author", "Siti Aminah")
    out = io.BytesIO()
    Image.new("RGBA", (40, 40), (0, 0, 255, 128)).save(out, "PNG", pnginfo=meta)
    kept = photos.clean("image/png", out.getvalue())
    assert b"Siti Aminah" not in kept
    assert Image.open(io.BytesIO(kept)).size == (40, 40)
    webp = io.BytesIO()
    Image.new("RGB", (40, 40)).save(webp, "WEBP", exif=Image.Exif().tobytes())
    assert b"Exif" not in photos.clean("image/webp", webp.getvalue())
    pdf = b"%PDF-1.4 Author (Siti)"
    assert photos.clean("application/pdf", pdf) == pdf
    assert photos.thumbnail("application/pdf", pdf) is None


def test_a_small_copy_for_pages() -> None:
    small = photos.thumbnail("image/jpeg", photos.clean("image/jpeg", phone_photo()))
    assert small is not None
    image = Image.open(io.BytesIO(small))
    assert max(image.size) <= photos.THUMBNAIL_PIXELS
    assert image.format == "JPEG"
    transparent = io.BytesIO()
    Image.new("RGBA", (900, 300), (0, 0, 0, 0)).save(transparent, "PNG")
    assert photos.thumbnail("image/png", transparent.getvalue()) is not None


def test_a_photo_that_does_not_decode_is_refused() -> None:
    broken = phone_photo()[:200]  # the right first bytes, then nothing
    with pytest.raises(photos.UnreadablePhotoError):
        photos.clean("image/jpeg", broken)
