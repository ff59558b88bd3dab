"""Small, well-formed images of each accepted format, built byte by byte, and forms carrying them."""

from __future__ import annotations

import os
import struct
import zlib

from urllib3.filepost import encode_multipart_formdata


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(extra_bytes: int = 0) -> bytes:
    """A 1x1 PNG; `extra_bytes` of random data in a private ancillary chunk make it as large as wanted."""
    header = _png_chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0))
    pixels = _png_chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00\xff"))
    padding = _png_chunk(b"prVt", os.urandom(extra_bytes)) if extra_bytes else b""
    return b"\x89PNG\r\n\x1a\n" + header + padding + pixels + _png_chunk(b"IEND", b"")


def png_of_size(size: int) -> bytes:
    return png(extra_bytes=size - len(png()) - 12)


GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00"
    b"!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)
# SOI, a JFIF APP0 segment, and EOI: what every JPEG starts and ends with.
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
_VP8L = b"/\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07"  # a 1x1 lossless bitstream
WEBP = b"RIFF" + struct.pack("<I", 4 + 8 + len(_VP8L) + 1) + b"WEBP" + b"VP8L" + struct.pack("<I", len(_VP8L))
WEBP += _VP8L + b"\x00"  # chunks are padded to an even size


def form(
    name: str | None = "Test User", email: str | None = "test-user@example.com", avatar: bytes | None = None
) -> tuple[bytes, str]:
    """A multipart/form-data body and its Content-Type, encoded as requests' `files=` (and so curl -F) does."""
    fields: list[tuple[str, object]] = []
    if name is not None:
        fields.append(("name", name))
    if email is not None:
        fields.append(("email", email))
    if avatar is not None:
        fields.append(("avatar", ("face.png", avatar, "image/png")))
    return encode_multipart_formdata(fields)
