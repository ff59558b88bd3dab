"""The rules of a points ledger. No AWS here.

A positive transaction opens a *lot*: `points` of one payer, dated by the transaction's `timestamp`. Points are
spent oldest lot first, by `timestamp` (then by id, so that two lots of one instant have a stable order), whatever
order the transactions arrived in. A negative transaction takes points back from its payer's oldest open lots.
Neither may take more than is there: no payer's balance ever goes below zero.

`consume` walks lots in the order it is given them and stops as soon as it has enough, so a caller that hands it a
lazy, oldest-first stream (``oldest_first`` over per-payer streams) reads only the lots a spend consumes.
"""

from __future__ import annotations

import hashlib
import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from lambdas.shared.sort_keys import sort_key

MAX_POINTS = 1_000_000_000
MAX_PAYER = 100


@dataclass(frozen=True)
class Lot:
    """Open points of one payer: `remaining` of the transaction `id`, dated `timestamp`."""

    payer: str
    timestamp: datetime
    id: str
    remaining: int

    @property
    def order(self) -> str:
        """Fixed-width `<timestamp>#<id>`: string order is spending order."""
        return sort_key(self.timestamp, self.id)


@dataclass(frozen=True)
class Take:
    """`points` taken from `lot`; the lot is used up when they are all it had."""

    lot: Lot
    points: int

    @property
    def empties_lot(self) -> bool:
        return self.points == self.lot.remaining


def payer_key(payer: str) -> str:
    """A fixed-length, separator-free stand-in for a payer's name in a key (names may contain `#`)."""
    return hashlib.sha256(payer.encode("utf-8")).hexdigest()[:32]


def oldest_first(*streams: Iterable[Lot]) -> Iterator[Lot]:
    """Merges streams that are each oldest first into one, pulling from each only as far as needed."""
    return heapq.merge(*streams, key=lambda lot: lot.order)


def consume(lots: Iterable[Lot], points: int) -> list[Take] | None:
    """Takes `points` (> 0) from `lots` in their order; None if they hold fewer points in all."""
    takes: list[Take] = []
    needed = points
    for lot in lots:
        if lot.remaining <= 0:
            continue
        taken = min(needed, lot.remaining)
        takes.append(Take(lot, taken))
        needed -= taken
        if needed == 0:
            return takes
    return None


def by_payer(takes: Iterable[Take]) -> list[tuple[str, int]]:
    """Points taken per payer, as negative numbers, payers in the order their points were first taken."""
    totals: dict[str, int] = {}
    for take in takes:
        totals[take.lot.payer] = totals.get(take.lot.payer, 0) - take.points
    return list(totals.items())
