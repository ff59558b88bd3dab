"""List positions (lambdas.shared.sort_keys): string order is time order, and only positions a list writes pass."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from lambdas.shared.sort_keys import is_sort_key, key_range, sort_key

ID = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


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


def test_sort_keys_order_by_time_in_utc_whatever_the_zone() -> None:
    paris = timezone(timedelta(hours=1))
    earlier = sort_key(datetime(2024, 5, 1, 6, 0, tzinfo=paris), ID)
    later = sort_key(datetime(2024, 5, 1, 5, 30, tzinfo=UTC), ID)

    assert earlier == f"2024-05-01T05:00:00.000000Z#{ID}"
    assert earlier < later


@pytest.mark.parametrize(
    "position",
    [
        f"2024-05-01T05:00:00.000000Z#{ID}",
        f"2024-05-01T05:00:00.123Z#{ID}",  # a tenant written before the keys were shared: milliseconds
    ],
)
def test_a_position_a_list_writes_is_accepted(position: str) -> None:
    assert is_sort_key(position)


@pytest.mark.parametrize(
    "position",
    [
        "",
        ID,
        f"2024-05-01T05:00:00.000000Z#{ID.upper()}",
        f"2024-13-01T05:00:00.000000Z#{ID}",  # the right shape, but no such month
        f"2024-02-30T05:00:00.000000Z#{ID}",
        f"2024-05-01T05:00:00Z#{ID}",
        f"2024-05-01T05:00:00.0000Z#{ID}",
        f"2024-05-01T05:00:00.000000Z#{ID}#x",
        f"2024-05-01T05:00:00.000000Z#{ID[:-1]}g",
        f"2024-05-01T05:00:00.000000Z#{ID.replace('-', 'x', 1)}",
    ],
)
def test_a_position_no_list_writes_is_refused(position: str) -> None:
    assert not is_sort_key(position)


def test_a_range_of_one_instant_covers_every_key_at_it_and_no_other() -> None:
    low, high = key_range(utc(2024, 5, 1, 6), utc(2024, 5, 1, 6))

    assert low is not None and high is not None
    assert low <= sort_key(utc(2024, 5, 1, 6), "00000000-0000-0000-0000-000000000000") <= high
    assert low <= sort_key(utc(2024, 5, 1, 6), "ffffffff-ffff-ffff-ffff-ffffffffffff") <= high
    assert not low <= sort_key(utc(2024, 5, 1, 6, 0, 0, 1), ID) <= high
    assert not low <= sort_key(utc(2024, 5, 1, 5, 59, 59, 999999), ID) <= high


def test_an_open_range() -> None:
    assert key_range(None, None) == (None, None)
    assert key_range(utc(2024, 5, 1), None) == ("2024-05-01T00:00:00.000000Z", None)
    assert key_range(None, utc(2024, 5, 1)) == (None, "2024-05-01T00:00:00.000000Z#~")
