"""The rules of a user and its avatar. No AWS here.

Image type: decided by the bytes alone, never by the file name or the part's Content-Type, which the client
chooses. A signature is not enough on its own (``GIF89a`` followed by an HTML page would pass), so each format's
first structure is checked too:

- PNG: the 8-byte signature, then the IHDR chunk (length 13) that must come first;
- JPEG: SOI (``FF D8``) followed by a marker (``FF`` and a marker code), as every JPEG writer emits;
- GIF: ``GIF87a``/``GIF89a``, the 7-byte screen descriptor and its colour table, then an extension (``!``) or an
  image descriptor (``,``), and the trailer (``;``) as the last byte;
- WebP: a RIFF container whose size matches the file, of form ``WEBP``, whose first chunk is VP8, VP8L or VP8X.

Ordering of the list: newest first, on ``<createdAt>#<id>`` (lambdas.shared.sort_keys).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from lambdas.shared.pagination import Listing

MAX_AVATAR_BYTES = 4 * 1024 * 1024
MAX_NAME_LENGTH = 200

# One list (the whole directory, newest first): a cursor is bound to it, and to nothing else.
LISTING = Listing.of("users", "byCreatedAt")


@dataclass(frozen=True)
class ImageType:
    content_type: str
    extension: str


PNG = ImageType("image/png", "png")
JPEG = ImageType("image/jpeg", "jpg")
GIF = ImageType("image/gif", "gif")
WEBP = ImageType("image/webp", "webp")
IMAGE_TYPES = (PNG, JPEG, GIF, WEBP)

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_IHDR = b"\x00\x00\x00\x0dIHDR"
_GIF_SIGNATURES = (b"GIF87a", b"GIF89a")
_GIF_SCREEN_END = 13  # signature (6) + logical screen descriptor (7)
_WEBP_CHUNKS = (b"VP8 ", b"VP8L", b"VP8X")


def sniff_image(data: bytes) -> ImageType | None:
    """The image type of `data`, read from its bytes; None if it is not a PNG, JPEG, GIF or WebP image."""
    if data.startswith(_PNG_SIGNATURE):
        return PNG if data[8:16] == _PNG_IHDR else None
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG if len(data) > 3 and data[3] not in (0x00, 0xFF) else None
    if data[:6] in _GIF_SIGNATURES:
        return GIF if _is_gif(data) else None
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP if _is_webp(data) else None
    return None


def _is_gif(data: bytes) -> bool:
    if len(data) <= _GIF_SCREEN_END:
        return False
    flags = data[10]
    colour_table = 3 * 2 ** ((flags & 0x07) + 1) if flags & 0x80 else 0
    first_block = _GIF_SCREEN_END + colour_table
    return len(data) > first_block + 1 and data[first_block] in b"!," and data[-1:] == b";"


def _is_webp(data: bytes) -> bool:
    if len(data) < 20:
        return False
    (riff_size,) = struct.unpack_from("<I", data, 4)
    return riff_size + 8 == len(data) and data[12:16] in _WEBP_CHUNKS


def avatar_key(prefix: str, user_id: str, image: ImageType) -> str:
    return f"{prefix}{user_id}.{image.extension}"
