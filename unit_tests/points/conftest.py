"""moto copies a whole table in every TransactWriteItems, once per item the transaction names, to roll back on
failure: a 100-item transaction on a table of a few hundred items costs seconds. The embedded stack's moto patches
(embedded_stack.moto_patches, from the local-stack work) save only the items a transaction names, with the same
outcome; they make these tests fast where they exist."""

from __future__ import annotations

import importlib

import pytest


@pytest.fixture(autouse=True, scope="session")
def _transactions_without_table_copies() -> None:
    try:
        moto_patches = importlib.import_module("embedded_stack.moto_patches")
    except ImportError:
        return
    moto_patches.install()
