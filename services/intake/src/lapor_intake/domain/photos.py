"""Photos as they are kept: without the metadata a phone writes into them, and with a small
copy for pages (Pillow). No I/O.

A phone's photo carries its EXIF block: the GPS position where it was taken (often the
reporter's home), the device's make, model and serial, the time, sometimes the owner's name;
XMP and comments can carry more. None of it is needed to see the problem, and a public
report's photo is shown to anyone. So every uploaded JPEG, PNG and WebP is decoded, turned
upright by its EXIF orientation, and encoded again with no metadata at all, before it is
stored — at every door (web, JSON API, staff entry, follow-ups). Other types (PDF, video,
audio) are kept as sent.
"""

from __future__ import annotations

import io

from PIL import Image, ImageOps, UnidentifiedImageError

Image.MAX_IMAGE_PIXELS = 50_000_000  # larger: refused (a decompression bomb)
PHOTO_TYPES = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
THUMBNAIL_PIXELS = 480  # the longer side of the copy shown on pages (2x a 240 px box)


class UnreadablePhotoError(ValueError):
    """The bytes claim to be a photo but cannot be decoded (or decode to something huge)."""


def _open(data: bytes) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, ValueError) as exc:
        raise UnreadablePhotoError(str(exc)) from exc
    return image


def clean(content_type: str, data: bytes) -> bytes:
    """The photo upright and without metadata (EXIF, GPS, XMP, ICC comments); other types
    unchanged. Raises :class:`UnreadablePhotoError` for a photo that cannot be decoded."""
    fmt = PHOTO_TYPES.get(content_type)
    if fmt is None:
        return data
    image = ImageOps.exif_transpose(_open(data))
    return _encode(image, fmt)


def thumbnail(content_type: str, data: bytes) -> bytes | None:
    """A small JPEG of a photo (``None`` for other types)."""
    if content_type not in PHOTO_TYPES:
        return None
    image = _open(data)
    image.thumbnail((THUMBNAIL_PIXELS, THUMBNAIL_PIXELS))
    return _encode(image, "JPEG", quality=75)


def _encode(image: Image.Image, fmt: str, quality: int = 88) -> bytes:
    if fmt == "JPEG" and image.mode not in ("RGB", "L"):
        image = _flatten(image)
    # a new image from the pixels alone: nothing of the original's info (EXIF, XMP, ICC,
    # comments) travels with it
    bare = Image.frombytes(image.mode, image.size, image.tobytes())
    palette = image.getpalette() if image.mode == "P" else None
    if palette:
        bare.putpalette(palette)
    out = io.BytesIO()
    if fmt == "JPEG":
        bare.save(out, "JPEG", quality=quality, optimize=True)
    elif fmt == "PNG":
        bare.save(out, "PNG", optimize=True)
    else:
        bare.save(out, "WEBP", quality=quality)
    return out.getvalue()


def _flatten(image: Image.Image) -> Image.Image:
    """An image with transparency on white (JPEG has no alpha)."""
    rgba = image.convert("RGBA")
    background = Image.new("RGB", rgba.size, (255, 255, 255))
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background
