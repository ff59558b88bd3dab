"""The `POST /user` request body: multipart/form-data, as `curl -F` sends it, read with python-multipart.

API Gateway hands the body over base64-encoded (multipart/form-data is a binary media type of the API). It is
decoded once; the parser then reports each part's bytes as slices of that one buffer, which are kept as
memoryviews (no copy) and joined once, at the end of the avatar part. A 4 MiB upload therefore costs about two
copies of the file, whatever its content.

Limits are checked while parsing, before anything is kept: the avatar's size (413 above MAX_AVATAR_BYTES), each
text field's size, the number of parts. No submitted value is ever repeated in an error.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from lambdas.shared.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType
from lambdas.users.rules import MAX_AVATAR_BYTES

FORM_DATA = "multipart/form-data"
TEXT_FIELDS = ("name", "email")
FILE_FIELD = "avatar"
MAX_TEXT_FIELD_BYTES = 4096  # far above 200 characters of UTF-8 or any email address
MAX_PARTS = 8
# What the form around the avatar may add to the body: part headers and the text fields.
MAX_FORM_OVERHEAD = 64 * 1024
SEND_FORM_DATA = (
    "Send the user as multipart/form-data with the fields name, email and avatar (a file), "
    "as `curl -F name=... -F email=... -F avatar=@face.png` does."
)


@dataclass
class Form:
    """The parts of a form: text fields decoded, the avatar as bytes (None when absent)."""

    fields: dict[str, str] = field(default_factory=dict)
    avatar: bytes | None = None


@dataclass
class _Part:
    name: str | None = None
    is_file: bool = False
    size: int = 0
    pieces: list[memoryview] = field(default_factory=list)


def read_form(content_type: str | None, body: str | None, is_base64_encoded: bool) -> Form:
    """The form a request carries; UnsupportedMediaType, PayloadTooLarge or InvalidInput saying why not."""
    media_type, options = parse_options_header(content_type or "")
    if media_type.decode("latin-1").lower() != FORM_DATA:
        raise UnsupportedMediaType(SEND_FORM_DATA)
    boundary = options.get(b"boundary")
    if not boundary:
        raise InvalidInput("header.Content-Type", "must name the form's boundary: multipart/form-data; boundary=...")
    raw = _decoded(body or "", is_base64_encoded)
    if len(raw) > MAX_AVATAR_BYTES + MAX_FORM_OVERHEAD:
        raise PayloadTooLarge(f"The avatar must be at most {MAX_AVATAR_BYTES // (1024 * 1024)} MiB.")
    return _parse(raw, boundary)


def _decoded(body: str, is_base64_encoded: bool) -> bytes:
    if not is_base64_encoded:
        # Only an API without multipart/form-data among its binary media types sends text; binary files would
        # not survive that, but a form without a file (answered 400) does.
        return body.encode("utf-8", "surrogateescape")
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("body", "is not valid base64, as API Gateway sends a binary body") from None


def _parse(raw: bytes, boundary: bytes) -> Form:
    form = Form()
    parts: list[_Part] = []
    header: dict[str, bytearray] = {"field": bytearray(), "value": bytearray()}
    disposition: list[bytes] = []

    def on_part_begin() -> None:
        if len(parts) >= MAX_PARTS:
            raise InvalidInput("body", f"must have at most {MAX_PARTS} parts: name, email and avatar")
        parts.append(_Part())
        disposition.clear()

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header["field"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header["value"] += data[start:end]

    def on_header_end() -> None:
        if header["field"].strip().lower() == b"content-disposition":
            disposition.append(bytes(header["value"]))
        header["field"].clear()
        header["value"].clear()

    def on_headers_finished() -> None:
        part = parts[-1]
        kind, options = parse_options_header(disposition[-1] if disposition else b"")
        if kind.lower() != b"form-data" or b"name" not in options:
            raise InvalidInput("body", "has a part without a Content-Disposition: form-data header naming its field")
        part.name = options[b"name"].decode("utf-8", "replace")
        part.is_file = b"filename" in options
        if part.name not in (*TEXT_FIELDS, FILE_FIELD):
            raise InvalidInput("body", "has a field other than name, email and avatar")
        if any(earlier.name == part.name for earlier in parts[:-1]):
            raise InvalidInput(f"body.{part.name}", "must be sent once")

    def on_part_data(data: bytes, start: int, end: int) -> None:
        part = parts[-1]
        part.size += end - start
        if part.name == FILE_FIELD:
            if part.size > MAX_AVATAR_BYTES:
                raise PayloadTooLarge(f"The avatar must be at most {MAX_AVATAR_BYTES // (1024 * 1024)} MiB.")
        elif part.size > MAX_TEXT_FIELD_BYTES:
            raise InvalidInput(f"body.{part.name}", f"must be at most {MAX_TEXT_FIELD_BYTES} bytes")
        part.pieces.append(memoryview(data)[start:end])

    def on_part_end() -> None:
        part = parts[-1]
        content = b"".join(part.pieces)
        part.pieces.clear()
        if part.name == FILE_FIELD:
            if not part.is_file:
                raise InvalidInput("body.avatar", "must be a file (curl -F avatar=@face.png), not a text field")
            form.avatar = content
        elif part.name is not None:
            try:
                form.fields[part.name] = content.decode("utf-8")
            except UnicodeDecodeError:
                raise InvalidInput(f"body.{part.name}", "must be UTF-8 text") from None

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
        },
    )
    try:
        parser.write(raw)
        parser.finalize()
    except FormParserError:
        raise InvalidInput("body", "is not well-formed multipart/form-data for the boundary its header names") from None
    return form
