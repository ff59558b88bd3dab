"""Six fixes to moto 5.2.5 for a long-running, concurrent local stack (`install()` applies them all, once).

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

4. A Query reads its range, not the table. moto answers every Query on a table by sorting *all* the table's items
   (`Table.all_items`), keeping its partition's and sorting those again: each Query costs O(table size), so a
   ledger's balance, or a list of SLA errors, gets slower with everyone's history. A table's partitions are kept
   as `_SortedPartition`s (a dict that also holds its sort keys in order), and a Query on the table itself hands
   moto only the items its key condition, start key and limit can reach (found by bisection), so it costs
   O(log partition + page). moto still does the rest (conditions, filter, projection, LastEvaluatedKey); a Query
   on an index, with a legacy QueryFilter or with begins_with on a binary key goes to moto unchanged.

5. A request finds its service and action without reading moto's package. For every request, moto's dispatcher
   lists the directories of moto's package (`list_of_moto_modules`: a directory listing and a `stat` per entry, to
   ask whether the host names a service), and each response class lists its methods with `inspect.getmembers`, to
   ask whether the action is one: a tenth of a GetItem's time. `SerialisedDispatcher` remembers each host's service
   (for at most `HOSTS_REMEMBERED` hosts: a host comes from the caller's credential scope), and a class's method
   names are listed once.

6. An item's attribute values are answered as they are stored. moto writes every response through a serializer
   driven by botocore's shapes: for each attribute value (a structure of ten members, S to BOOL) it looks for each
   member under its name and its aliases, so an 11-attribute GetItem spends about 1 ms there and a Query of a page
   of items ten times that. An attribute value that is one string, number, boolean, null, string set or number set,
   in the JSON types the serializer would write, is written as it is: the serializer's output for it is that value
   itself. Binary values, maps and lists go through the serializer (maps and lists member by member, so their
   plain values take the same path).
"""

from __future__ import annotations

import bisect
import contextlib
import copy
import functools
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import moto.core.responses as moto_responses
import moto.core.serialize as moto_serialize
import moto.dynamodb.models as dynamodb_models
from moto.core.common_models import BaseModel
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table
from moto.moto_server.werkzeug_app import DomainDispatcherApplication

_INSTALLED_MARK = "_embedded_stack_patch"
HOSTS_REMEMBERED = 256
_install_lock = threading.Lock()

TransactWriteItems = Callable[[DynamoDBBackend, list[dict[str, Any]]], None]


def install() -> None:
    """Applies the fixes to moto's classes in this process (its server and `mock_aws` alike); idempotent."""
    with _install_lock:
        if is_installed():
            return
        BaseModel.__new__ = _new_untracked  # type: ignore[assignment,method-assign]
        dynamodb_models.copy = _CopyKeepingTables  # type: ignore[assignment]
        Table.__init__ = _with_sorted_partitions(Table.__init__)  # type: ignore[method-assign]
        Table.query = _reading_its_range(Table.query)  # type: ignore[method-assign]
        moto_responses.method_names_from_class = functools.cache(moto_responses.method_names_from_class)
        json_serializer = moto_serialize.BaseJSONSerializer
        json_serializer._serialize_type_structure = _plain_attribute_values_as_they_are(  # type: ignore[method-assign]
            json_serializer._serialize_type_structure
        )
        # Last: `is_installed()` looks for this one.
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
        # Called under moto's dispatcher lock; the answer depends on the host alone.
        self.get_backend_for_host = functools.lru_cache(maxsize=HOSTS_REMEMBERED)(super().get_backend_for_host)

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


# 4. Queries that read their range -----------------------------------------------------------------------------


class _SortedPartition(dict[DynamoType, Item]):
    """One partition of a table with a sort key: its items by sort key, and the sort keys in order."""

    __slots__ = ("_ordered",)

    def __init__(self) -> None:
        super().__init__()
        self._ordered: list[DynamoType] = []

    def __setitem__(self, key: DynamoType, item: Item) -> None:
        if key not in self:
            bisect.insort(self._ordered, key)
        super().__setitem__(key, item)

    def __delitem__(self, key: DynamoType) -> None:
        super().__delitem__(key)
        del self._ordered[bisect.bisect_left(self._ordered, key)]

    def pop(self, key: DynamoType, *default: Any) -> Any:
        if key not in self:
            return super().pop(key, *default)
        item = super().pop(key)
        del self._ordered[bisect.bisect_left(self._ordered, key)]
        return item

    def ordered_keys(self) -> list[DynamoType]:
        return self._ordered

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled and deep-copied as its items: the order is rebuilt as they are put back.
        return (type(self), (), None, None, iter(self.items()))

    # moto changes a partition only by the three above; the rest of dict's changes keep the order too.
    def clear(self) -> None:
        super().clear()
        self._ordered.clear()

    def update(self, other: Any = (), /) -> None:  # type: ignore[override]
        for key, item in dict(other).items():
            self[key] = item

    def __ior__(self, other: Any) -> _SortedPartition:  # type: ignore[override,misc]
        self.update(other)
        return self

    def setdefault(self, key: DynamoType, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self[key]

    def popitem(self) -> tuple[DynamoType, Item]:
        if not self:
            raise KeyError("popitem(): the partition is empty")
        key = next(reversed(self))
        return key, self.pop(key)


def _with_sorted_partitions(table_init: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(table_init)
    def init_with_sorted_partitions(table: Table, *args: Any, **kwargs: Any) -> None:
        table_init(table, *args, **kwargs)
        if table.range_key_attr:
            table.items = defaultdict(_SortedPartition)

    return init_with_sorted_partitions


class _Range:
    """A table as moto's `Table.query` sees it while answering one Query: its items are only those in range."""

    def __init__(self, table: Table, items: list[Item]) -> None:
        self._table = table
        self._items = items

    def all_items(self) -> list[Item]:
        return self._items

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)


Query = Callable[..., tuple[list[Item], int, dict[str, Any] | None]]


def _reading_its_range(query: Query) -> Query:
    @functools.wraps(query)
    def query_reading_its_range(
        table: Table,
        hash_key: DynamoType | None,
        range_comparison: str | None,
        range_objs: list[DynamoType],
        limit: int | None,
        exclusive_start_key: dict[str, Any] | None,
        scan_index_forward: bool,
        *args: Any,
        **kwargs: Any,
    ) -> tuple[list[Item], int, dict[str, Any] | None]:
        partition = table.items.get(hash_key) if hash_key is not None and table.range_key_attr else None
        window = (
            _window(table, partition, range_comparison, range_objs, limit, exclusive_start_key, scan_index_forward)
            if isinstance(partition, _SortedPartition) and _on_the_table_itself(table, args, kwargs)
            else None
        )
        if window is None:
            return query(
                table, hash_key, range_comparison, range_objs, limit, exclusive_start_key, scan_index_forward,
                *args, **kwargs,
            )  # fmt: skip
        # The start key is already applied: the window begins after it.
        return query(
            _Range(table, window), hash_key, range_comparison, range_objs, limit, None, scan_index_forward,
            *args, **kwargs,
        )  # fmt: skip

    return query_reading_its_range


def _on_the_table_itself(table: Table, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    """No index, no legacy QueryFilter, and key conditions only on the table's own keys."""
    index_name = kwargs.get("index_name", args[1] if len(args) > 1 else None)
    known = {"index_name", "consistent_read", "filter_expression", "hash_key_conditions", "range_key_conditions"}
    if index_name or set(kwargs) - known:
        return False
    range_conditions = kwargs.get("range_key_conditions") or []
    return len(kwargs.get("hash_key_conditions") or []) <= 1 and all(
        name == table.range_key_attr for name, *_ in range_conditions
    )


def _window(
    table: Table,
    partition: _SortedPartition,
    comparison: str | None,
    values: list[DynamoType],
    limit: int | None,
    start_key: dict[str, Any] | None,
    forward: bool,
) -> list[Item] | None:
    """The items moto's query would walk, in sort-key order; None when this cannot tell."""
    keys = partition.ordered_keys()
    bounds = _bounds(keys, comparison, values)
    if bounds is None:
        return None
    low, high = bounds
    if start_key:
        start = start_key.get(table.range_key_attr)
        if not isinstance(start, dict):
            return None
        if forward:
            low = max(low, bisect.bisect_right(keys, DynamoType(start), low, max(low, high)))
        else:
            high = min(high, bisect.bisect_left(keys, DynamoType(start), low, max(low, high)))
    # moto answers a LastEvaluatedKey when a full page is followed by any item of the partition, in range or not:
    # the window ends one item past the range, and one past the page.
    if forward:
        high = min(len(keys), high + 1, low + limit + 1 if limit else len(keys))
    else:
        low = max(0, low - 1, high - limit - 1 if limit else 0)
    return [partition[key] for key in keys[low:high]]


def _bounds(keys: list[DynamoType], comparison: str | None, values: list[DynamoType]) -> tuple[int, int] | None:
    """The slice of `keys` a key condition admits (it admits a contiguous run of sorted keys)."""
    everything = (0, len(keys))
    if comparison is None:
        return everything
    if comparison == "BEGINS_WITH":
        prefix = values[0].value
        if values[0].type != "S" or not isinstance(prefix, str):
            return None
        low = bisect.bisect_left(keys, values[0])
        # Truncating sorted strings keeps them sorted, so the keys with the prefix end where their truncation does.
        high = bisect.bisect_right(keys, prefix, low, key=lambda key: str(key.value)[: len(prefix)])
        return low, high
    bounds: dict[str, Callable[[], tuple[int, int]]] = {
        "EQ": lambda: (bisect.bisect_left(keys, values[0]), bisect.bisect_right(keys, values[0])),
        "LT": lambda: (0, bisect.bisect_left(keys, values[0])),
        "LE": lambda: (0, bisect.bisect_right(keys, values[0])),
        "GT": lambda: (bisect.bisect_right(keys, values[0]), len(keys)),
        "GE": lambda: (bisect.bisect_left(keys, values[0]), len(keys)),
        "BETWEEN": lambda: (bisect.bisect_left(keys, values[0]), bisect.bisect_right(keys, values[-1])),
    }
    return bounds[comparison]() if comparison in bounds else None


# 6. Attribute values answered as they are -------------------------------------------------------------------------

# The members of DynamoDB's AttributeValue whose JSON the serializer writes unchanged, and the Python type of each.
_PLAIN_ATTRIBUTE_TYPES: dict[str, type] = {"S": str, "N": str, "BOOL": bool, "NULL": bool, "SS": list, "NS": list}
_DYNAMODB_SERVICES = frozenset({"dynamodb", "dynamodbstreams"})

SerializeStructure = Callable[[Any, dict[str, Any], Any, Any, str], None]


def _plain_attribute_values_as_they_are(serialize_structure: SerializeStructure) -> SerializeStructure:
    @functools.wraps(serialize_structure)
    def serialize(self: Any, serialized: dict[str, Any], value: Any, shape: Any, key: str) -> None:
        if (
            key
            and shape.name == "AttributeValue"
            and self.service_model.service_name in _DYNAMODB_SERVICES
            and _is_plain_attribute_value(value)
        ):
            serialized[self.get_serialized_name(shape, key)] = value
            return
        serialize_structure(self, serialized, value, shape, key)

    return serialize


def _is_plain_attribute_value(value: Any) -> bool:
    if type(value) is not dict or len(value) != 1:
        return False
    ((kind, content),) = value.items()
    plain_type = _PLAIN_ATTRIBUTE_TYPES.get(kind)
    if plain_type is None or type(content) is not plain_type:
        return False
    return plain_type is not list or all(type(each) is str for each in content)
