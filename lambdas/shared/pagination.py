"""Opaque list cursors: base64url (unpadded) of ``{"after": <sort key of the page's last item>, "query": <scope>}``.

`scope` binds a cursor to the list it came from (a digest of its filters, or of whose items it lists): a cursor
from another list is refused, since it would position this one at a meaningless place. The digest is no
signature, so the caller of `decode` still checks `after` (its form, and that it lies inside the list's range)
before handing it to DynamoDB, which answers a start key outside the key condition with a ValidationException.
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


def scope_of(*filters: object) -> str:
    return hashlib.sha256(json.dumps(filters).encode("utf-8")).hexdigest()[:16]


def encode(after: str, scope: str) -> str:
    payload = json.dumps({"after": after, "query": scope}, separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode("utf-8")).decode("ascii").rstrip("=")


def decode(cursor: str, scope: str, valid_position: Callable[[str], bool] | None = None) -> str:
    """The sort key a page continues after; InvalidInput on `query.cursor` if `cursor` is not one of this list
    (or its position is not one `valid_position` accepts)."""
    invalid = InvalidInput("query.cursor", "is not a cursor returned by this list: start again without it")
    if not cursor or len(cursor) > MAX_CURSOR_LENGTH or not _BASE64URL.match(cursor):
        raise invalid
    try:
        payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise invalid from None
    if not isinstance(payload, dict) or set(payload) != {"after", "query"} or not isinstance(payload["after"], str):
        raise invalid
    if valid_position is not None and not valid_position(payload["after"]):
        raise invalid
    if payload["query"] != scope:
        raise InvalidInput("query.cursor", "belongs to a list with other filters: start again without it")
    return payload["after"]
