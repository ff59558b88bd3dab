from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import jsonschema_rs
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from lambdas.shared.errors import InvalidInput, Unprocessable
from lambdas.sla_errors.rules import (
    FIRST_YEAR,
    LAST_YEAR,
    TIMESTAMP_PATTERN,
    Window,
    decode_cursor,
    delay_minutes,
    encode_cursor,
    format_timestamp,
    parse_timestamp,
    sort_key,
)

ID = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "instant"),
    [
        ("2024-05-01T06:00:00Z", utc(2024, 5, 1, 6)),
        ("2024-05-01T06:00:00z", utc(2024, 5, 1, 6)),
        ("2024-05-01t06:00:00Z", utc(2024, 5, 1, 6)),
        ("2024-05-01T08:00:00+02:00", utc(2024, 5, 1, 6)),
        ("2024-05-01T00:30:00-05:30", utc(2024, 5, 1, 6)),
        ("2024-05-01T06:00:00.5Z", utc(2024, 5, 1, 6, 0, 0, 500000)),
        ("2024-05-01T06:00:00.123456789Z", utc(2024, 5, 1, 6, 0, 0, 123456)),  # nanoseconds truncated
        ("2024-02-29T23:59:59Z", utc(2024, 2, 29, 23, 59, 59)),
        ("2000-01-01T00:30:00+01:00", utc(1999, 12, 31, 23, 30)),  # the year as written counts
        ("2100-12-31T23:30:00-01:00", utc(2101, 1, 1, 0, 30)),
    ],
)
def test_accepted_date_times(text: str, instant: datetime) -> None:
    parsed = parse_timestamp(text)

    assert parsed == instant
    assert parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("2024-05-01T06:00:00", "time zone"),
        ("2024-05-01 06:00:00Z", "RFC 3339 date-time"),
        ("2024-05-01T06:00Z", "RFC 3339 date-time"),
        ("2024-05-01T08:00:00+0200", "RFC 3339 date-time"),
        ("2024-05-01T08:00:00+02", "RFC 3339 date-time"),
        ("2024-05-01T06:00:00,25Z", "RFC 3339 date-time"),
        ("  2024-05-01T06:00:00Z  ", "RFC 3339 date-time"),
        ("\uff12\uff10\uff12\uff14-05-01T06:00:00Z", "RFC 3339 date-time"),
        ("2024-05-01T06:00:60Z", "not a valid date-time"),
        ("2024-05-01", "RFC 3339 date-time"),
        ("2024-05-01Z", "RFC 3339 date-time"),
        ("01/05/2024 06:00Z", "RFC 3339 date-time"),
        ("yesterday", "RFC 3339 date-time"),
        ("", "RFC 3339 date-time"),
        ("2024-05-01T06:00:00 UTC", "RFC 3339 date-time"),
        ("2024-05-01T06:00:00+2", "RFC 3339 date-time"),
        ("20240501T060000Z", "RFC 3339 date-time"),
        ("2024-13-01T06:00:00Z", "not a valid date-time"),
        ("2023-02-29T06:00:00Z", "not a valid date-time"),
        ("2024-05-01T24:00:00Z", "not a valid date-time"),
        ("2024-05-01T06:60:00Z", "not a valid date-time"),
        ("2024-05-01T06:00:00+24:00", "not a valid date-time"),
        ("0001-01-01T00:00:00+01:00", "years 2000 to 2100"),
        ("9999-12-31T23:30:00-01:00", "years 2000 to 2100"),
        ("0001-01-01T00:00:00Z", "years 2000 to 2100"),
        ("1999-12-31T23:59:59Z", "years 2000 to 2100"),
        ("2101-01-01T00:00:00Z", "years 2000 to 2100"),
        (1714543200, "must be a string"),
        (None, "must be a string"),
    ],
)
def test_refused_date_times(value: object, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_timestamp(value)


DOCUMENTED_DATE_TIME = jsonschema_rs.validator_for(
    {"type": "string", "format": "date-time", "pattern": TIMESTAMP_PATTERN}, validate_formats=True
)


@given(st.from_regex(TIMESTAMP_PATTERN, fullmatch=True))
def test_every_date_time_the_document_admits_is_accepted(text: str) -> None:
    assume(DOCUMENTED_DATE_TIME.is_valid(text))  # the pattern alone admits the 30th of February

    parse_timestamp(text)


@given(
    st.datetimes(datetime(1990, 1, 1), datetime(2110, 12, 31), timezones=st.timezones()),
    st.sampled_from(["T", "t", " "]),
    st.sampled_from(["seconds", "minutes", "microseconds", "milliseconds"]),
    st.sampled_from(["", "Z", "+0000", "+00:00"]),
)
def test_every_date_time_accepted_is_one_the_document_admits(
    moment: datetime, separator: str, timespec: str, zone: str
) -> None:
    text = moment.isoformat(sep=separator, timespec=timespec) + zone
    try:
        parse_timestamp(text)
    except ValueError:
        return
    assert DOCUMENTED_DATE_TIME.is_valid(text)


@pytest.mark.parametrize("value", ["2000-01-01T00:00:00Z", "2100-12-31T23:59:59.999999Z"])
def test_the_first_and_last_instants_of_the_range_are_accepted(value: str) -> None:
    assert FIRST_YEAR <= parse_timestamp(value).year <= LAST_YEAR


@pytest.mark.parametrize(
    ("instant", "text"),
    [
        (utc(2024, 5, 1, 6), "2024-05-01T06:00:00Z"),
        (utc(2024, 5, 1, 6, 0, 0, 500000), "2024-05-01T06:00:00.500000Z"),
        (datetime(2024, 5, 1, 8, tzinfo=parse_timestamp("2024-05-01T08:00:00+02:00").tzinfo), "2024-05-01T08:00:00Z"),
    ],
)
def test_format_timestamp(instant: datetime, text: str) -> None:
    assert format_timestamp(instant) == text


def test_sort_keys_sort_as_time_does() -> None:
    instants = [
        utc(1, 1, 1, 4),
        utc(999, 12, 31),
        utc(2024, 5, 1, 6),
        utc(2024, 5, 1, 6, 0, 0, 1),
        utc(2024, 5, 1, 6, 0, 1),
        utc(2024, 5, 1, 6, 0, 10),
        utc(2024, 12, 1),
        utc(9999, 12, 31, 23, 59, 59, 999999),
    ]
    keys = [sort_key(instant, ID) for instant in instants]

    assert sorted(keys) == keys
    assert sort_key(utc(1, 1, 1, 4), ID) == f"0001-01-01T04:00:00.000000Z#{ID}"


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


def raw_cursor(payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def test_a_cursor_round_trips_and_is_url_safe() -> None:
    cursor = encode_cursor(AFTER, WINDOW)

    assert decode_cursor(cursor, WINDOW) == AFTER
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
        raw_cursor({"after": AFTER, "query": WINDOW.digest(), "extra": 1}),
        raw_cursor({"after": 7, "query": WINDOW.digest()}),
        raw_cursor({"after": "2024-05-01T06:00:00Z#" + ID, "query": WINDOW.digest()}),
        raw_cursor({"after": AFTER.replace(ID, "not-a-uuid"), "query": WINDOW.digest()}),
        raw_cursor({"after": AFTER.replace("2024-05-01", "2024-02-30"), "query": WINDOW.digest()}),
        raw_cursor({"after": AFTER + "#x", "query": WINDOW.digest()}),
        encode_cursor(AFTER, WINDOW)[:-2],  # truncated
    ],
)
def test_a_tampered_cursor_is_refused(cursor: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        decode_cursor(cursor, WINDOW)

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
        decode_cursor(encode_cursor(after, window), window)

    assert raised.value.errors[0].field == "query.cursor"


def test_a_cursor_at_the_edges_of_its_window_is_accepted() -> None:
    window = Window(start=utc(2024, 4, 1), end=utc(2024, 5, 2))

    for after in (sort_key(utc(2024, 4, 1), ID), sort_key(utc(2024, 5, 2), ID)):
        assert decode_cursor(encode_cursor(after, window), window) == after


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
        decode_cursor(encode_cursor(AFTER, WINDOW), other)

    assert "other filters" in raised.value.errors[0].message
