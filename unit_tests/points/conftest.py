"""moto copies a whole table in every TransactWriteItems, once per item the transaction names, to roll back on
failure: a 100-item transaction on a table of a few hundred items costs seconds. The embedded stack's moto
adaptations (embedded_stack.moto.transactions) save only the items a transaction names, with the same outcome;
they make these tests fast."""

from __future__ import annotations

import pytest

import embedded_stack.moto as adapted_moto


@pytest.fixture(autouse=True, scope="session")
def _transactions_without_table_copies() -> None:
    adapted_moto.install()
