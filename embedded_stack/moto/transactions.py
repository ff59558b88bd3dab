"""A transaction no longer copies its tables.

moto's `transact_write_items` deep-copies every table it touches before writing, to roll back on failure: each
transaction costs O(table size), so a create gets slower as the table grows. `_undoable` saves only the items the
transaction names and puts them back when it fails; moto's own table copy is made a no-op (`_CopyKeepingTables`,
which moto's dynamodb models module sees as `copy`, returns a Table itself; nothing else in that module
deep-copies a Table).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import moto.dynamodb.models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table

INSTALLED_MARK = "_embedded_stack_patch"

TransactWriteItems = Callable[[DynamoDBBackend, list[dict[str, Any]]], None]


def install() -> None:
    dynamodb_models.copy = _CopyKeepingTables  # type: ignore[assignment]
    original: TransactWriteItems = DynamoDBBackend.transact_write_items
    DynamoDBBackend.transact_write_items = _undoable(original)  # type: ignore[method-assign]


def is_installed() -> bool:
    return bool(getattr(DynamoDBBackend.transact_write_items, INSTALLED_MARK, False))


class _CopyKeepingTables:
    """The `copy` module as moto's DynamoDB backend sees it: a Table is not copied (see the module's docstring)."""

    @staticmethod
    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        if isinstance(value, Table):
            return value
        return copy.deepcopy(value, memo)


_SavedItems = dict[tuple[str, DynamoType, DynamoType | None], Item | None]


def _undoable(transact_write_items: TransactWriteItems) -> TransactWriteItems:
    def undoable_transact_write_items(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        saved = _items_named(backend, transact_items)
        try:
            transact_write_items(backend, transact_items)
        except BaseException:
            _put_back(backend, saved)
            raise

    undoable_transact_write_items.__wrapped__ = transact_write_items  # type: ignore[attr-defined]
    setattr(undoable_transact_write_items, INSTALLED_MARK, True)
    return undoable_transact_write_items


def _items_named(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> _SavedItems:
    """A copy of each item the transaction names (None for an absent one), by table and key."""
    saved: _SavedItems = {}
    for request in transact_items:
        for operation, parameters in request.items():
            table = backend.tables.get(parameters.get("TableName")) if isinstance(parameters, dict) else None
            if table is None:
                continue  # moto refuses the request before writing anything
            attributes = parameters.get("Item") if operation == "Put" else parameters.get("Key")
            try:
                hash_key = DynamoType(attributes[table.hash_key_attr])
                range_key = DynamoType(attributes[table.range_key_attr]) if table.range_key_attr else None
            except (KeyError, TypeError):
                continue  # an incomplete key: moto refuses it before writing anything
            current = table.get_item(hash_key, range_key)
            saved.setdefault((table.name, hash_key, range_key), copy.deepcopy(current))
    return saved


def _put_back(backend: DynamoDBBackend, saved: _SavedItems) -> None:
    for (table_name, hash_key, range_key), item in saved.items():
        table = backend.tables.get(table_name)
        if table is None:
            continue
        if range_key is None:
            if item is None:
                table.items.pop(hash_key, None)
            else:
                table.items[hash_key] = item
        elif item is None:
            table.items.get(hash_key, {}).pop(range_key, None)
        else:
            table.items[hash_key][range_key] = item
