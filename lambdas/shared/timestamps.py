"""Instants as the API reads and writes them. No AWS here.

A request gives RFC 3339 date-times (JSON Schema's `date-time`: ``2024-05-01T06:00:00Z``, ``...+02:00``), written
in the years 2000 to 2100 (`TIMESTAMP_PATTERN` documents exactly what is accepted); a time without a zone is
refused, since it names no instant. They are kept in UTC. Fractions of a second beyond microseconds (Go and .NET
send up to 9 digits) are truncated. Answers and stored attributes use `format_timestamp`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

from pydantic import BeforeValidator, Field

# The years a time may fall in: a breach of a file due in year 1 or 9999 is a typo, and the bounds keep every
# stored time in the fixed-width, four-digit form the sort keys need.
FIRST_YEAR = 2000
LAST_YEAR = 2100

# RFC 3339 in those years, as written (before conversion to UTC), with no leap second (Python has none).
TIMESTAMP_PATTERN = (
    r"^(?:20[0-9]{2}|2100)-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])[Tt](?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
    r"(?:\.[0-9]+)?(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])$"
)
# Looser than the pattern, so that the refusal can say what is wrong; datetime then checks the ranges.
_DATE_TIME = re.compile(
    r"(?P<date>(?P<year>\d{4})-\d{2}-\d{2})[Tt](?P<time>\d{2}:\d{2}:\d{2})(?P<fraction>\.\d+)?"
    r"(?P<zone>[Zz]|[+-]\d{2}:\d{2})?",
    re.ASCII,
)


def parse_timestamp(value: object) -> datetime:
    """An RFC 3339 date-time (`TIMESTAMP_PATTERN`), as an aware datetime in UTC; ValueError saying why not."""
    if not isinstance(value, str):
        raise ValueError("must be a string holding an RFC 3339 date-time, such as 2024-05-01T06:00:00Z")
    match = _DATE_TIME.fullmatch(value)
    if match is None:
        raise ValueError("must be an RFC 3339 date-time with a time zone, such as 2024-05-01T06:00:00Z")
    if match["zone"] is None:
        raise ValueError("must include a time zone, such as Z or +02:00")
    if not FIRST_YEAR <= int(match["year"]) <= LAST_YEAR:
        raise ValueError(f"must be in the years {FIRST_YEAR} to {LAST_YEAR}")
    fraction = (match["fraction"] or "")[:7]
    zone = "+00:00" if match["zone"] in ("Z", "z") else match["zone"]
    try:
        parsed = datetime.fromisoformat(f"{match['date']}T{match['time']}{fraction}{zone}")
    except ValueError as error:
        raise ValueError("is not a valid date-time (check the day, month, hour and offset)") from error
    return parsed.astimezone(UTC)


def format_timestamp(moment: datetime) -> str:
    """The API's form of an instant: ISO-8601 in UTC with `Z`, with microseconds only when there are any."""
    moment = moment.astimezone(UTC)
    timespec = "microseconds" if moment.microsecond else "seconds"
    return moment.isoformat(timespec=timespec).replace("+00:00", "Z")


# A request model's date-time field: parsed by `parse_timestamp`, documented by its pattern.
Timestamp = Annotated[
    datetime, BeforeValidator(parse_timestamp), Field(json_schema_extra={"pattern": TIMESTAMP_PATTERN})
]
