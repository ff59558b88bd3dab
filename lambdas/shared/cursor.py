"""Opaque list cursors bound to their query: base64url (unpadded) of ``{"after": <position>, "query": <digest>}``.

`after` is the sort key of a page's last item; `query` a digest of the list's filters, so a cursor from a list
with other filters is refused instead of positioning this list at a meaningless place. Anything that does not
decode to exactly that shape, with a position the list itself accepts, is refused as `query.cursor` (400) rather
than handed to DynamoDB. The digest is no signature: a list must check the position (`valid_position`) itself.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Callable

from lambdas.shared.errors import InvalidInput

MAX_CURSOR_LENGTH = 1024
_BASE64URL = re.compile(r"^[A-Za-z0-9_-]+$")


def query_digest(filters: object) -> str:
    """A short digest of a list's filters (anything JSON can write)."""
    return hashlib.sha256(json.dumps(filters).encode("utf-8")).hexdigest()[:16]


def encode_cursor(after: str, digest: str) -> str:
    payload = json.dumps({"after": after, "query": digest}, separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode("utf-8")).decode("ascii").rstrip("=")


def decode_cursor(cursor: str, digest: str, valid_position: Callable[[str], bool]) -> str:
    """The position a page continues after; InvalidInput if `cursor` is not one this list returned."""
    invalid = InvalidInput("query.cursor", "is not a cursor returned by this list: start again without it")
    if not cursor or len(cursor) > MAX_CURSOR_LENGTH or not _BASE64URL.match(cursor):
        raise invalid
    try:
        payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise invalid from None
    if not isinstance(payload, dict) or set(payload) != {"after", "query"}:
        raise invalid
    after, query = payload["after"], payload["query"]
    if not isinstance(after, str) or not valid_position(after):
        raise invalid
    if query != digest:
        raise InvalidInput("query.cursor", "belongs to a list with other filters: start again without it")
    return after
