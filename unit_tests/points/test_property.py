"""Random sequences of additions, negatives and spends against the store (moto), compared step by step with a
tiny in-memory reference: balances, no payer below zero, oldest points first, refusals exactly when short."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from embedded_stack.provision import Provisioned
from lambdas.points import ledger, store
from lambdas.points.models import NewTransaction
from lambdas.shared.errors import Conflict

PAYERS = ("A", "B", "C")
EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
NOW = datetime(2024, 1, 1, tzinfo=UTC)


@dataclass
class Reference:
    """Lots as [timestamp, id, payer, remaining]; spend and take back oldest first, refuse when short."""

    lots: list[list] = field(default_factory=list)
    payers: list[str] = field(default_factory=list)

    def add(self, payer: str, points: int, hour: int, lot_id: str) -> bool:
        if points > 0:
            self.lots.append([hour, lot_id, payer, points])
            if payer not in self.payers:
                self.payers.append(payer)
            return True
        return self._take(-points, payer) is not None

    def spend(self, points: int) -> list[tuple[str, int]] | None:
        return self._take(points, None)

    def balances(self) -> dict[str, int]:
        return {payer: sum(lot[3] for lot in self.lots if lot[2] == payer) for payer in self.payers}

    def _take(self, points: int, payer: str | None) -> list[tuple[str, int]] | None:
        mine = sorted((lot for lot in self.lots if payer in (None, lot[2]) and lot[3]), key=lambda lot: lot[:2])
        if sum(lot[3] for lot in mine) < points:
            return None
        given: dict[str, int] = {}
        for lot in mine:
            taken = min(points, lot[3])
            lot[3] -= taken
            points -= taken
            given[lot[2]] = given.get(lot[2], 0) - taken
            if not points:
                break
        return list(given.items())


operations = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.sampled_from(PAYERS), st.integers(1, 50), st.integers(0, 5)),
        st.tuples(st.just("negative"), st.sampled_from(PAYERS), st.integers(1, 60), st.integers(0, 5)),
        st.tuples(st.just("spend"), st.integers(1, 120)),
    ),
    min_size=1,
    max_size=10,
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=operations)
def test_the_store_agrees_with_the_reference(aws: Provisioned, operations: list[tuple]) -> None:
    owner = str(uuid.uuid4())
    reference = Reference()
    for number, operation in enumerate(operations):
        if operation[0] == "spend":
            expected = reference.spend(operation[1])
            try:
                actual = [
                    (entry.payer, entry.points)
                    for entry in ledger.spend(owner, operation[1], NOW + timedelta(seconds=number))
                ]
            except Conflict:
                actual = None
            assert actual == expected, operation
        else:
            _, payer, points, hour = operation
            points = points if operation[0] == "add" else -points
            # Ids in arrival order, so that lots of one instant are ordered alike here and in the store.
            lot_id = str(uuid.UUID(int=number + 1))
            accepted = reference.add(payer, points, hour, lot_id)
            new = NewTransaction(payer=payer, points=points, timestamp=(EPOCH + timedelta(hours=hour)).isoformat())
            try:
                ledger.add(owner, new, NOW + timedelta(seconds=number), new_id=lambda lot_id=lot_id: lot_id)
                stored = True
            except Conflict:
                stored = False
            assert stored == accepted, operation
        balances = ledger.balances(owner)
        assert balances == reference.balances()
        assert list(balances) == reference.payers
        assert all(points >= 0 for points in balances.values())
    store.delete_ledger(owner)  # keeps moto's table, which it copies in every transaction, small
