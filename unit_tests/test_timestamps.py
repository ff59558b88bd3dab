"""Instants as the API reads and writes them (lambdas.shared.timestamps)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jsonschema_rs
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from lambdas.shared.timestamps import FIRST_YEAR, LAST_YEAR, TIMESTAMP_PATTERN, format_timestamp, parse_timestamp


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
