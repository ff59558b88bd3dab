"""Three fixes to moto 5.2.5 for a long-running, concurrent local stack (`install()` applies them all, once).

1. Requests are serialised per service. moto's backends are plain Python objects without locks, and its server
   runs each request in a thread: two TransactWriteItems at once interleave inside
   `DynamoDBBackend.transact_write_items` (one's rollback puts back a table copy taken before the other's writes),
   which loses committed items and answers 500. `SerialisedDispatcher` is moto's WSGI dispatcher with one lock per
   service backend, taken for the whole request; `all_services_locked()` takes every lock, for a consistent
   snapshot (embedded_stack.persistence). Requests to different services still run side by side.

2. A transaction no longer copies its tables. `transact_write_items` deep-copies every table it touches before
   writing, to roll back on failure: each transaction costs O(table size), so a create gets slower as the table
   grows. `_undoable_transact_write_items` saves only the items the transaction names and puts them back when it
   fails; moto's own table copy is made a no-op (`_CopyKeepingTables`, which moto's dynamodb models module sees as
   `copy`, returns a Table itself; nothing else in that module deep-copies a Table).

3. Model instances are not tracked. Every moto model (`BaseModel.__new__`) appends itself to its class's
   `instances_tracked` list, for the `/moto-api/data.json` dashboard, and nothing ever removes it: every item
   version written, every item copy `update_item` makes and every table copy above stays in memory for the life
   of the process (128 → 312 MB over 300 tenant creates). `_new_untracked` creates the instance only, so what moto
   drops is freed; the dashboard (unused here) lists nothing. (Weak references would keep it, at 500 bytes per
   live item: as much again as the item itself.)
"""

from __future__ import annotations

import contextlib
import copy
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import moto.dynamodb.models as dynamodb_models
from moto.core.common_models import BaseModel
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table
from moto.moto_server.werkzeug_app import DomainDispatcherApplication

_INSTALLED_MARK = "_embedded_stack_patch"
_install_lock = threading.Lock()

TransactWriteItems = Callable[[DynamoDBBackend, list[dict[str, Any]]], None]


def install() -> None:
    """Applies the fixes to moto's classes in this process (its server and `mock_aws` alike); idempotent."""
    with _install_lock:
        if is_installed():
            return
        BaseModel.__new__ = _new_untracked  # type: ignore[assignment,method-assign]
        dynamodb_models.copy = _CopyKeepingTables  # type: ignore[assignment]
        original: TransactWriteItems = DynamoDBBackend.transact_write_items
        DynamoDBBackend.transact_write_items = _undoable(original)  # type: ignore[method-assign]


def is_installed() -> bool:
    return bool(getattr(DynamoDBBackend.transact_write_items, _INSTALLED_MARK, False))


# 1. One lock per service ---------------------------------------------------------------------------------------


class SerialisedDispatcher(DomainDispatcherApplication):
    """moto's server application, running one request at a time per service backend."""

    def __init__(
        self, create_app: Callable[[str], Any], on_request: Callable[[dict[str, Any]], None] | None = None
    ) -> None:
        super().__init__(create_app)
        self._service_locks: dict[int, threading.Lock] = {}
        self._locks_lock = threading.Lock()
        self._on_request = on_request

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        backend_app = self.get_application(environ)
        with self._lock_for(backend_app):
            if self._on_request:
                self._on_request(environ)
            # The body is read under the lock too: the response then owes nothing to the backend's state.
            response = backend_app(environ, start_response)
            try:
                return list(response)
            finally:
                if hasattr(response, "close"):
                    response.close()

    def _lock_for(self, backend_app: Any) -> threading.Lock:
        with self._locks_lock:
            return self._service_locks.setdefault(id(backend_app), threading.Lock())

    @contextlib.contextmanager
    def all_services_locked(self) -> Iterator[None]:
        """No request runs in any service meanwhile (locks taken in a fixed order: requests hold only one)."""
        with self._locks_lock:
            locks = [self._service_locks[key] for key in sorted(self._service_locks)]
        with contextlib.ExitStack() as held:
            for lock in locks:
                held.enter_context(lock)
            yield


# 2. Transactions that save only what they touch ------------------------------------------------------------------


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
    setattr(undoable_transact_write_items, _INSTALLED_MARK, True)
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


# 3. Untracked model instances ---------------------------------------------------------------------------------


def _new_untracked(cls: type[BaseModel], *args: Any, **kwargs: Any) -> BaseModel:
    return object.__new__(cls)
