"""The rules of a file SLA breach record, and of the list's window and cursor. No AWS here.

Times: a request gives RFC 3339 date-times (JSON Schema's `date-time`: ``2024-05-01T06:00:00Z``, ``...+02:00``),
written in the years 2000 to 2100 (`TIMESTAMP_PATTERN` documents exactly what is accepted); a time without a zone
is refused, since it names no instant. They are kept in UTC. Fractions of a second beyond microseconds (Go and
.NET send up to 9 digits) are truncated.

Ordering: records sort on `expectedAt` in UTC, written fixed-width so that string order is time order, followed
by the id so that two breaches due at the same instant still have distinct, stable positions.

Cursor: base64url (unpadded) of ``{"after": <sort key of the page's last item>, "query": <digest of the
filters>}``. It is checked on the way in: anything that does not decode to exactly that shape, with a well-formed
sort key inside the list's window, is refused with 400 rather than handed to DynamoDB; a cursor from a list with
other filters is refused too, since it would position this list at a meaningless place.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from lambdas.shared import pagination
from lambdas.shared.errors import InvalidInput, Unprocessable

# The years a time may fall in: a breach of a file due in year 1 or 9999 is a typo, and the bounds keep every
# stored time in the fixed-width, four-digit form the sort keys need.
FIRST_YEAR = 2000
LAST_YEAR = 2100
# How far in the future a reported time may be, to allow for the reporter's clock being ahead of ours.
CLOCK_SKEW = timedelta(minutes=5)

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
_SORT_KEY = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z#[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
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


def sort_key(expected_at: datetime, record_id: str) -> str:
    return f"{_fixed_width(expected_at)}#{record_id}"


def _fixed_width(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    # Not strftime: its %Y does not zero-pad years before 1000 on every platform.
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T"
        f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}.{moment.microsecond:06d}Z"
    )


def delay_minutes(expected_at: datetime, received_at: datetime | None, now: datetime) -> int:
    """Whole minutes the file was late: until it arrived, or until `now` if it has not. Checks that the times
    describe a breach that can have happened."""
    if received_at is not None:
        if received_at < expected_at:
            raise Unprocessable("body.receivedAt", "must not be before expectedAt")
        if received_at > now + CLOCK_SKEW:
            raise Unprocessable("body.receivedAt", "must not be in the future")
        end = received_at
    else:
        if expected_at > now + CLOCK_SKEW:
            raise Unprocessable("body.expectedAt", "is in the future: a file that is not yet due cannot be late")
        end = now
    # Within the clock skew allowance, a file due "after now" is simply not late yet.
    return max(0, math.floor((end - expected_at).total_seconds() / 60))


@dataclass(frozen=True)
class Window:
    """A list's filters: one file name or all, and an inclusive range of expectedAt."""

    file_name: str | None = None
    start: datetime | None = None
    end: datetime | None = None

    def __post_init__(self) -> None:
        if self.start is not None and self.end is not None and self.end < self.start:
            raise Unprocessable("query.to", "must not be before from")

    def sort_key_range(self) -> tuple[str | None, str | None]:
        """Bounds of the sort key, both inclusive: every key of a record due in the window lies between them."""
        low = _fixed_width(self.start) if self.start is not None else None
        # `~` sorts after every character of an id, so this bounds every record due at `end` exactly.
        high = f"{_fixed_width(self.end)}#~" if self.end is not None else None
        return low, high

    def digest(self) -> str:
        return pagination.scope_of(self.file_name, _optional(self.start), _optional(self.end))


def _optional(moment: datetime | None) -> str | None:
    return _fixed_width(moment) if moment is not None else None


def encode_cursor(after: str, window: Window) -> str:
    return pagination.encode(after, window.digest())


def decode_cursor(cursor: str, window: Window) -> str:
    """The sort key a page continues after; InvalidInput if `cursor` is not one this list returned."""
    after = pagination.decode(cursor, window.digest())
    low, high = window.sort_key_range()
    if (
        not _SORT_KEY.match(after)
        or not _valid_sort_key(after)
        or (low is not None and after < low)
        or (high is not None and after > high)
    ):
        raise InvalidInput("query.cursor", "is not a cursor returned by this list: start again without it")
    return after


def _valid_sort_key(key: str) -> bool:
    moment, record_id = key.split("#")
    try:
        datetime.fromisoformat(moment.replace("Z", "+00:00"))
        UUID(record_id)
    except ValueError:
        return False
    return True
