"""The lists' one way of paging: a Query one item longer than the page, and an opaque cursor.

Every list (tenants, users, SLA errors, a points history) reads newest first by a sort key of `sort_keys`, with
`query_page`: it asks for one item more than the page, so a full page followed by nothing ends the list instead of
a last, empty page. The handler turns positions into cursors and back through the list's `Listing`.

A cursor is base64url (unpadded) of ``{"after": <sort key of the page's last item>, "query": <scope>}``. The scope
binds a cursor to the list it came from (a digest of its filters, and of whose items it lists): a cursor from
another list is refused, since it would position this one at a meaningless place. The digest is no signature, so
`Listing.after` also checks the position (its form, and that it lies inside the list's key range) before it
reaches DynamoDB, which answers a start key outside the key condition with a ValidationException.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lambdas.shared.aws import client
from lambdas.shared.errors import InvalidInput
from lambdas.shared.sort_keys import is_sort_key

MAX_CURSOR_LENGTH = 1024
_BASE64URL = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True)
class Page[T]:
    items: list[T]
    last_sort_key: str | None  # set when there may be more


@dataclass(frozen=True)
class Listing:
    """One list's cursors: `scope` (see `scope_of`) and the inclusive bounds of the sort keys it may hold."""

    scope: str
    low: str | None = None
    high: str | None = None

    @classmethod
    def of(cls, *filters: object, low: str | None = None, high: str | None = None) -> Listing:
        return cls(scope_of(*filters), low, high)

    def after(self, cursor: str | None) -> str | None:
        """The sort key the page continues after (None for the first page); InvalidInput on `query.cursor` if
        `cursor` is not one this list returned."""
        return decode(cursor, self.scope, self._holds) if cursor is not None else None

    def next_cursor(self, page: Page[Any]) -> str | None:
        """The cursor of the page after `page`; None on the last page."""
        return encode(page.last_sort_key, self.scope) if page.last_sort_key is not None else None

    def _holds(self, position: str) -> bool:
        return (
            is_sort_key(position)
            and (self.low is None or position >= self.low)
            and (self.high is None or position <= self.high)
        )


def query_page(request: dict[str, Any], limit: int, sort_key_of: Callable[[dict[str, Any]], str]) -> Page[dict]:
    """Up to `limit` raw items of one DynamoDB Query (its start key already set), and the sort key of the last one
    when more may follow."""
    response = client("dynamodb").query(**request, Limit=limit + 1)
    items = response.get("Items", [])
    # Fewer items than asked for, with a LastEvaluatedKey, means DynamoDB stopped at its 1 MB limit: more may follow.
    page, more = items[:limit], len(items) > limit or "LastEvaluatedKey" in response
    return Page(page, sort_key_of(page[-1]) if page and more else None)


def scope_of(*filters: object) -> str:
    return hashlib.sha256(json.dumps(filters).encode("utf-8")).hexdigest()[:16]


def encode(after: str, scope: str) -> str:
    payload = json.dumps({"after": after, "query": scope}, separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode("utf-8")).decode("ascii").rstrip("=")


def decode(cursor: str, scope: str, valid_position: Callable[[str], bool] = is_sort_key) -> str:
    """The sort key a page continues after; InvalidInput on `query.cursor` if `cursor` is not one of this list
    (its scope is another, or its position is not one `valid_position` accepts)."""
    invalid = InvalidInput("query.cursor", "is not a cursor returned by this list: start again without it")
    if not cursor or len(cursor) > MAX_CURSOR_LENGTH or not _BASE64URL.match(cursor):
        raise invalid
    try:
        payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise invalid from None
    if not isinstance(payload, dict) or set(payload) != {"after", "query"} or not isinstance(payload["after"], str):
        raise invalid
    if payload["query"] != scope:
        raise InvalidInput("query.cursor", "belongs to a list with other filters: start again without it")
    if not valid_position(payload["after"]):
        raise invalid
    return payload["after"]
