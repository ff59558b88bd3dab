"""The rules of a file SLA breach record, and of the list's window. No AWS here.

Times are read and written by lambdas.shared.timestamps; records sort on `expectedAt` (lambdas.shared.sort_keys:
the instant in UTC, fixed-width, then the id, so that two breaches due at the same instant still have distinct,
stable positions). A list's cursor is bound to its window's filters and must lie inside its range
(lambdas.shared.pagination).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from lambdas.shared import pagination, sort_keys
from lambdas.shared.errors import Unprocessable

# How far in the future a reported time may be, to allow for the reporter's clock being ahead of ours.
CLOCK_SKEW = timedelta(minutes=5)


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
        return sort_keys.key_range(self.start, self.end)

    @property
    def listing(self) -> pagination.Listing:
        """The cursors of this window's list: bound to its filters, positioned inside its range."""
        low, high = self.sort_key_range()
        return pagination.Listing.of(self.file_name, _optional(self.start), _optional(self.end), low=low, high=high)


def _optional(moment: datetime | None) -> str | None:
    return sort_keys.fixed_width(moment) if moment is not None else None
