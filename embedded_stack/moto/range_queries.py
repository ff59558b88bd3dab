"""A Query reads its range, not the table.

moto answers every Query on a table by sorting *all* the table's items (`Table.all_items`), keeping its
partition's and sorting those again: each Query costs O(table size), so a ledger's balance, or a list of SLA
errors, gets slower with everyone's history. A table's partitions are kept as `_SortedPartition`s (a dict that also
holds its sort keys in order), and a Query on the table itself hands moto only the items its key condition, start
key and limit can reach (found by bisection), so it costs O(log partition + page). moto still does the rest
(conditions, filter, projection, LastEvaluatedKey); a Query on an index, with a legacy QueryFilter or with
begins_with on a binary key goes to moto unchanged.
"""

from __future__ import annotations

import bisect
import functools
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table


def install() -> None:
    Table.__init__ = _with_sorted_partitions(Table.__init__)  # type: ignore[method-assign]
    Table.query = _reading_its_range(Table.query)  # type: ignore[method-assign]


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
