from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from lambdas.shared.errors import InvalidInput, Unprocessable
from lambdas.shared.pagination import encode
from lambdas.shared.sort_keys import sort_key
from lambdas.sla_errors.rules import Window, delay_minutes

ID = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("expected", "received", "delay"),
    [
        (utc(2024, 5, 1, 6), utc(2024, 5, 1, 6), 0),
        (utc(2024, 5, 1, 6), utc(2024, 5, 1, 6, 0, 59), 0),
        (utc(2024, 5, 1, 6), utc(2024, 5, 1, 6, 1), 1),
        (utc(2024, 5, 1, 6), utc(2024, 5, 1, 7, 30, 30), 90),
        (utc(2024, 4, 30, 6), utc(2024, 5, 1, 6), 1440),
        (utc(2024, 5, 1, 6), None, 360),  # not arrived: late until now
        (utc(2024, 5, 1, 11, 59, 1), None, 0),
        (utc(2024, 5, 1, 12, 4), None, 0),  # due "after now" within the clock skew: not late yet
        (utc(2024, 5, 1, 6), NOW + timedelta(minutes=4), 364),  # received "after now" within the skew
    ],
)
def test_delay_minutes(expected: datetime, received: datetime | None, delay: int) -> None:
    assert delay_minutes(expected, received, NOW) == delay


@pytest.mark.parametrize(
    ("expected", "received", "field", "says"),
    [
        (utc(2024, 5, 1, 6), utc(2024, 5, 1, 5, 59, 59), "body.receivedAt", "before expectedAt"),
        (utc(2024, 5, 1, 6), NOW + timedelta(minutes=6), "body.receivedAt", "future"),
        (NOW + timedelta(minutes=6), None, "body.expectedAt", "future"),
        (utc(2025, 1, 1), utc(2025, 1, 2), "body.receivedAt", "future"),
    ],
)
def test_impossible_breaches(expected: datetime, received: datetime | None, field: str, says: str) -> None:
    with pytest.raises(Unprocessable) as raised:
        delay_minutes(expected, received, NOW)

    [error] = raised.value.errors
    assert error.field == field
    assert says in error.message


def test_a_window_ending_before_it_starts() -> None:
    with pytest.raises(Unprocessable) as raised:
        Window(start=utc(2024, 5, 2), end=utc(2024, 5, 1))

    assert raised.value.errors[0].field == "query.to"


def test_a_window_of_one_instant_is_allowed_and_covers_every_record_at_it() -> None:
    window = Window(start=utc(2024, 5, 1, 6), end=utc(2024, 5, 1, 6))
    low, high = window.sort_key_range()

    assert low is not None and high is not None
    key = sort_key(utc(2024, 5, 1, 6), "ffffffff-ffff-ffff-ffff-ffffffffffff")
    assert low <= sort_key(utc(2024, 5, 1, 6), "00000000-0000-0000-0000-000000000000") <= high
    assert low <= key <= high
    assert not low <= sort_key(utc(2024, 5, 1, 6, 0, 0, 1), ID) <= high
    assert not low <= sort_key(utc(2024, 5, 1, 5, 59, 59, 999999), ID) <= high


def test_an_open_window() -> None:
    assert Window().sort_key_range() == (None, None)
    assert Window(start=utc(2024, 5, 1)).sort_key_range() == ("2024-05-01T00:00:00.000000Z", None)
    assert Window(end=utc(2024, 5, 1)).sort_key_range() == (None, "2024-05-01T00:00:00.000000Z#~")


# ---------------------------------------------------------------------------------------------- cursors

AFTER = sort_key(utc(2024, 5, 1, 6), ID)
WINDOW = Window(file_name="daily.csv", start=utc(2024, 4, 1))


def cursor_of(after: str, window: Window) -> str:
    return encode(after, window.listing.scope)


def raw_cursor(payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def test_a_cursor_round_trips_and_is_url_safe() -> None:
    cursor = cursor_of(AFTER, WINDOW)

    assert WINDOW.listing.after(cursor) == AFTER
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "not a cursor",
        "%%%%",
        "abc=",
        "A",  # not decodable base64
        "x" * 2000,
        base64.urlsafe_b64encode(b"\xff\xfe").decode().rstrip("="),  # not UTF-8
        raw_cursor("just a string"),
        raw_cursor([AFTER]),
        raw_cursor({"after": AFTER}),
        raw_cursor({"after": AFTER, "query": WINDOW.listing.scope, "extra": 1}),
        raw_cursor({"after": 7, "query": WINDOW.listing.scope}),
        raw_cursor({"after": "2024-05-01T06:00:00Z#" + ID, "query": WINDOW.listing.scope}),
        raw_cursor({"after": AFTER.replace(ID, "not-a-uuid"), "query": WINDOW.listing.scope}),
        raw_cursor({"after": AFTER.replace("2024-05-01", "2024-02-30"), "query": WINDOW.listing.scope}),
        raw_cursor({"after": AFTER + "#x", "query": WINDOW.listing.scope}),
        cursor_of(AFTER, WINDOW)[:-2],  # truncated
    ],
)
def test_a_tampered_cursor_is_refused(cursor: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        WINDOW.listing.after(cursor)

    assert raised.value.errors[0].field == "query.cursor"


@pytest.mark.parametrize(
    "after",
    [
        sort_key(utc(2024, 3, 31, 23, 59, 59), ID),  # before the window's start
        sort_key(utc(2024, 5, 3), ID),  # after its end
    ],
)
def test_a_cursor_outside_its_window_is_refused(after: str) -> None:
    # The digest is not a signature: anyone can pair it with any sort key. DynamoDB answers a start key outside the
    # key condition with a ValidationException (a 500), so such a cursor must stop here, as a 400.
    window = Window(file_name="daily.csv", start=utc(2024, 4, 1), end=utc(2024, 5, 2))

    with pytest.raises(InvalidInput) as raised:
        window.listing.after(cursor_of(after, window))

    assert raised.value.errors[0].field == "query.cursor"


def test_a_cursor_at_the_edges_of_its_window_is_accepted() -> None:
    window = Window(start=utc(2024, 4, 1), end=utc(2024, 5, 2))

    for after in (sort_key(utc(2024, 4, 1), ID), sort_key(utc(2024, 5, 2), ID)):
        assert window.listing.after(cursor_of(after, window)) == after


@pytest.mark.parametrize(
    "other",
    [
        Window(),
        Window(file_name="other.csv", start=utc(2024, 4, 1)),
        Window(file_name="daily.csv", start=utc(2024, 4, 2)),
    ],
)
def test_a_cursor_of_another_list_is_refused(other: Window) -> None:
    with pytest.raises(InvalidInput, match="The request is invalid") as raised:
        other.listing.after(cursor_of(AFTER, WINDOW))

    assert "other filters" in raised.value.errors[0].message
