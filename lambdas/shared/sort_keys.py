"""List positions: ``<instant>#<id>``, the sort key of every list (tenants, users, SLA errors, a points history).

The instant is written fixed-width in UTC with microseconds, so that string order is time order; the id (a UUID)
gives two items of one instant distinct, stable positions. Tenants written before the keys were shared carry
milliseconds (``...00.123Z#<id>``): still accepted as positions, and they sort among the others by time, except
within their own millisecond.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from uuid import UUID

_SORT_KEY = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.(?:\d{6}|\d{3})Z#[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
)
# Sorts after every character of an id: `<instant>#~` bounds every key of that instant from above.
_AFTER_EVERY_ID = "~"


def sort_key(moment: datetime, item_id: str) -> str:
    return f"{fixed_width(moment)}#{item_id}"


def fixed_width(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    # Not strftime: its %Y does not zero-pad years before 1000 on every platform.
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T"
        f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}.{moment.microsecond:06d}Z"
    )


def key_range(start: datetime | None, end: datetime | None) -> tuple[str | None, str | None]:
    """Inclusive bounds of the keys of every item whose instant lies from `start` to `end` (None: unbounded)."""
    low = fixed_width(start) if start is not None else None
    high = f"{fixed_width(end)}#{_AFTER_EVERY_ID}" if end is not None else None
    return low, high


def is_sort_key(value: str) -> bool:
    """Whether `value` is a position a list writes (a cursor's, which clients hand back): a real instant, a UUID."""
    if not _SORT_KEY.match(value):
        return False
    moment, item_id = value.split("#")
    try:
        datetime.fromisoformat(moment.replace("Z", "+00:00"))
        UUID(item_id)
    except ValueError:
        return False
    return True
