"""The avatar's type is read from its bytes alone; list positions and cursors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lambdas.shared.errors import InvalidInput
from lambdas.shared.pagination import decode as decode_cursor
from lambdas.shared.pagination import encode as encode_cursor
from lambdas.shared.sort_keys import sort_key
from lambdas.users import rules
from lambdas.users.rules import GIF, JPEG, PNG, WEBP, sniff_image
from testkit import images

HTML = b"<!doctype html><html><body><script>alert(1)</script></body></html>"

SNIFFING = [
    # (case, bytes, type)
    ("png", images.png(), PNG),
    ("png padded to 1 MiB", images.png_of_size(1 << 20), PNG),
    ("jpeg", images.JPEG, JPEG),
    ("gif", images.GIF, GIF),
    ("gif87a", b"GIF87a" + images.GIF[6:], GIF),
    ("gif with a global colour table", b"GIF89a\x01\x00\x01\x00\x80\x00\x00" + b"\x00" * 6 + b",rest;", GIF),
    ("webp", images.WEBP, WEBP),
    ("zero bytes", b"", None),
    ("png signature only", images.png()[:8], None),
    ("png truncated in its IHDR header", images.png()[:12], None),
    ("png signature before something else", images.png()[:8] + b"\x00\x00\x00\x0dIDAT" + b"\x00" * 20, None),
    ("jpeg SOI only", b"\xff\xd8", None),
    ("jpeg SOI and a marker byte cut short", b"\xff\xd8\xff", None),
    ("jpeg SOI followed by fill bytes only", b"\xff\xd8\xff\xff\xff", None),
    ("gif signature only", b"GIF89a", None),
    ("gif truncated in its screen descriptor", images.GIF[:10], None),
    ("an HTML page behind a GIF header", b"GIF89a" + HTML, None),
    ("an HTML page behind a whole GIF screen descriptor", images.GIF[:13] + HTML, None),
    ("gif without its trailer", images.GIF[:-1], None),
    ("webp truncated in its RIFF header", images.WEBP[:12], None),
    ("webp whose RIFF size is not the file's", images.WEBP + b"\x00\x00", None),
    ("webp with an unknown first chunk", images.WEBP[:12] + b"ABCD" + images.WEBP[16:], None),
    ("RIFF of another form (WAVE)", b"RIFF" + images.WEBP[4:8] + b"WAVE" + images.WEBP[12:], None),
    ("a text file named .png", b"just some notes, saved as face.png\n", None),
    ("an HTML page", HTML, None),
    ("an SVG image (it can carry script)", b'<svg xmlns="http://www.w3.org/2000/svg"></svg>', None),
    ("a PDF", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", None),
    ("a BMP (not accepted)", b"BM" + b"\x00" * 60, None),
]


@pytest.mark.parametrize(("case", "data", "expected"), SNIFFING, ids=[case for case, _, _ in SNIFFING])
def test_the_image_type_is_read_from_the_bytes(case: str, data: bytes, expected: rules.ImageType | None) -> None:
    assert sniff_image(data) == expected


def test_each_type_has_its_content_type_and_extension() -> None:
    assert [(t.content_type, t.extension) for t in rules.IMAGE_TYPES] == [
        ("image/png", "png"),
        ("image/jpeg", "jpg"),
        ("image/gif", "gif"),
        ("image/webp", "webp"),
    ]
    assert rules.avatar_key("avatars/", "abc", PNG) == "avatars/abc.png"


USER_ID = "0b8d3f4e-1c2a-4b5d-8e9f-a0b1c2d3e4f5"


def test_a_cursor_carries_its_position_and_is_bound_to_its_list() -> None:
    position = sort_key(datetime(2024, 5, 1, tzinfo=UTC), USER_ID)
    cursor = encode_cursor(position, rules.LISTING.scope)
    assert position not in cursor and "=" not in cursor
    assert rules.LISTING.after(cursor) == position
    with pytest.raises(InvalidInput) as other_list:
        decode_cursor(cursor, "another-list")
    assert other_list.value.errors[0].field == "query.cursor"


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "not base64!",
        "x" * 2000,
        "bm90IGpzb24",  # "not json"
        encode_cursor("2024", rules.LISTING.scope),
        "eyJhZnRlciI6MX0",  # {"after":1}
        "WzFd",  # [1]
    ],
)
def test_a_cursor_the_list_never_returned_is_a_400_on_the_cursor(cursor: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        rules.LISTING.after(cursor)
    assert refused.value.errors[0].field == "query.cursor"
