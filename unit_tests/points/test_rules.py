"""The ledger's pure rules: which lots a spend takes, in which order, and what each payer gives."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from lambdas.points import rules
from lambdas.points.rules import Lot


def lot(payer: str, remaining: int, when: str, lot_id: str = "00000000-0000-0000-0000-000000000000") -> Lot:
    return Lot(payer, datetime.fromisoformat(when).replace(tzinfo=UTC), lot_id, remaining)


# The worked example after its negative: DANNON's 300 lot has 100 left.
WORKED = [
    lot("DANNON", 100, "2020-10-31T10:00"),
    lot("UNILEVER", 200, "2020-10-31T11:00"),
    lot("MILLER COORS", 10000, "2020-11-01T14:00"),
    lot("DANNON", 1000, "2020-11-02T14:00"),
]


@pytest.mark.parametrize(
    ("lots", "points", "expected"),
    [
        (WORKED, 5000, [("DANNON", -100), ("UNILEVER", -200), ("MILLER COORS", -4700)]),
        (WORKED, 100, [("DANNON", -100)]),
        (WORKED, 101, [("DANNON", -100), ("UNILEVER", -1)]),
        (WORKED, 11300, [("DANNON", -1100), ("UNILEVER", -200), ("MILLER COORS", -10000)]),
        ([lot("A", 0, "2020-01-01T00:00"), lot("B", 5, "2020-01-02T00:00")], 5, [("B", -5)]),
    ],
)
def test_consume_takes_oldest_first_and_totals_per_payer(
    lots: list[Lot], points: int, expected: list[tuple[str, int]]
) -> None:
    takes = rules.consume(lots, points)

    assert takes is not None
    assert rules.by_payer(takes) == expected
    assert sum(take.points for take in takes) == points


@pytest.mark.parametrize(("lots", "points"), [(WORKED, 11301), ([], 1), ([lot("A", 0, "2020-01-01T00:00")], 1)])
def test_consume_is_none_when_the_lots_hold_too_few(lots: list[Lot], points: int) -> None:
    assert rules.consume(lots, points) is None


def test_a_take_says_whether_it_empties_its_lot() -> None:
    takes = rules.consume(WORKED, 150)

    assert takes is not None
    assert [take.empties_lot for take in takes] == [True, False]


def test_oldest_first_merges_per_payer_streams_in_any_arrival_order() -> None:
    dannon = [WORKED[0], WORKED[3]]
    others = [[WORKED[1]], [WORKED[2]]]
    for streams in itertools.permutations([dannon, *others]):
        assert list(rules.oldest_first(*streams)) == WORKED


def test_same_instant_lots_are_ordered_by_id() -> None:
    first = lot("B", 1, "2020-01-01T00:00", "00000000-0000-0000-0000-000000000001")
    second = lot("A", 1, "2020-01-01T00:00", "00000000-0000-0000-0000-000000000002")

    assert list(rules.oldest_first([second], [first])) == [first, second]


def test_oldest_first_reads_a_stream_only_as_far_as_needed() -> None:
    pulled: list[int] = []

    def stream(payer: str, hours: range) -> Iterator[Lot]:
        for hour in hours:
            pulled.append(hour)
            yield lot(payer, 10, f"2020-01-01T{hour:02d}:00")

    takes = rules.consume(rules.oldest_first(stream("A", range(0, 20, 2)), stream("B", range(1, 20, 2))), 25)

    assert takes is not None and len(takes) == 3
    assert sorted(pulled) == [0, 1, 2, 3]  # the three consumed, and the one that proved the third was enough


def test_payer_keys_are_fixed_length_and_distinct() -> None:
    names = ["DANNON", "dannon", "A#B", "A", "x" * 100]
    keys = [rules.payer_key(name) for name in names]

    assert len(set(keys)) == len(names)
    assert {len(key) for key in keys} == {32}
    assert not any("#" in key for key in keys)
