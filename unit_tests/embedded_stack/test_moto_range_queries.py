"""A Query on moto reads its range, not the table (embedded_stack.moto.range_queries): the same answers as moto's
own Query, for any key condition, start key, limit and direction, without walking the table."""

from __future__ import annotations

import copy
import pickle
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from moto import mock_aws
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table

import embedded_stack.moto as adapted_moto

ACCOUNT = "123456789012"
REGION = "us-east-1"
PREFIXES = ("", "A", "AB", "B#", "é", "BALANCE")

adapted_moto.install()
moto_query = Table.query.__wrapped__  # type: ignore[attr-defined]


def ledger(range_type: str, sort_keys: list[Any], other_partition_keys: list[Any]) -> Table:
    table = Table(
        "ledger",
        account_id=ACCOUNT,
        region=REGION,
        schema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        attr=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": range_type}],
    )
    for user, keys in (("mine", sort_keys), ("theirs", other_partition_keys)):
        for key in keys:
            table.put_item({"pk": {"S": user}, "sk": {range_type: str(key)}, "note": {"S": f"{user} {key}"}})
    return table


def answer(query: Any, table: Table, condition: tuple[str, list[Any]] | None, **options: Any) -> Any:
    comparison, values = condition or (None, [])
    range_type = table.attr[1]["AttributeType"]
    objects = [DynamoType({range_type: str(value)}) for value in values]
    results, scanned, last_key = query(
        table,
        DynamoType({"S": "mine"}),
        comparison,
        objects,
        options.get("limit"),
        options.get("start"),
        options.get("forward", True),
        None,
        None,
        True,
        None,
        hash_key_conditions=[("pk", DynamoType({"S": "mine"}))],
        range_key_conditions=[("sk", comparison, objects)] if comparison else [],
    )
    return [item.to_json() for item in results], scanned, last_key


# Few characters, short keys: conditions often meet keys, and a range often ends right where a page does.
text_keys = st.text(alphabet="AB#é", max_size=4)


@st.composite
def text_conditions(draw: st.DrawFn) -> tuple[str, list[Any]] | None:
    comparison = draw(st.sampled_from([None, "EQ", "LT", "LE", "GT", "GE", "BETWEEN", "BEGINS_WITH"]))
    if comparison is None:
        return None
    if comparison == "BEGINS_WITH":
        return comparison, [draw(st.sampled_from(PREFIXES) | text_keys)]
    if comparison == "BETWEEN":
        return comparison, sorted([draw(text_keys), draw(text_keys)])
    return comparison, [draw(text_keys)]


@settings(max_examples=300, deadline=None)
@given(
    keys=st.sets(text_keys, max_size=30),
    others=st.sets(text_keys, max_size=5),
    condition=text_conditions(),
    limit=st.none() | st.integers(1, 4),
    forward=st.booleans(),
    start=st.none() | text_keys,
)
@example(keys={"A", "B"}, others=set(), condition=("BEGINS_WITH", ["A"]), limit=1, forward=True, start=None)
@example(keys={"A", "B"}, others=set(), condition=("GE", ["B"]), limit=1, forward=False, start=None)
def test_a_query_on_text_keys_answers_as_moto_does(
    keys: set[str],
    others: set[str],
    condition: tuple[str, list[Any]] | None,
    limit: int | None,
    forward: bool,
    start: str | None,
) -> None:
    table = ledger("S", sorted(keys, key=hash), sorted(others))  # put in no particular order
    start_key = None if start is None else {"pk": {"S": "mine"}, "sk": {"S": start}}
    options = {"limit": limit, "forward": forward, "start": start_key}

    assert answer(Table.query, table, condition, **options) == answer(moto_query, table, condition, **options)


@settings(max_examples=150, deadline=None)
@given(
    keys=st.sets(st.integers(-50, 50), max_size=30),
    comparison=st.sampled_from(["EQ", "LT", "LE", "GT", "GE", "BETWEEN"]),
    values=st.lists(st.integers(-60, 60), min_size=2, max_size=2).map(sorted),
    limit=st.none() | st.integers(1, 5),
    forward=st.booleans(),
)
def test_a_query_on_number_keys_answers_as_moto_does(
    keys: set[int], comparison: str, values: list[int], limit: int | None, forward: bool
) -> None:
    table = ledger("N", sorted(keys, key=lambda key: hash(str(key))), [])
    condition = (comparison, values if comparison == "BETWEEN" else values[:1])
    options = {"limit": limit, "forward": forward}

    assert answer(Table.query, table, condition, **options) == answer(moto_query, table, condition, **options)


def test_following_the_last_evaluated_key_reads_every_page_once() -> None:
    table = ledger("S", [f"TX#{number:03}" for number in range(25)] + ["BALANCE", "LOT#1"], [])
    pages, start = [], None
    while True:
        items, _, start = answer(Table.query, table, ("BEGINS_WITH", ["TX#"]), limit=10, forward=False, start=start)
        pages.append([item["Attributes"]["sk"]["S"] for item in items])
        if start is None:
            break

    assert [len(page) for page in pages] == [10, 10, 5]
    assert [key for page in pages for key in page] == [f"TX#{number:03}" for number in reversed(range(25))]


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        client.create_table(
            TableName="ledger",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        yield client


def test_a_query_through_the_api_never_walks_the_table(dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    for user in ("mine", "theirs"):
        for number in range(5):
            dynamodb.put_item(TableName="ledger", Item={"pk": {"S": user}, "sk": {"S": f"TX#{number}"}})
    dynamodb.delete_item(TableName="ledger", Key={"pk": {"S": "mine"}, "sk": {"S": "TX#2"}})

    def walked(_: Table) -> None:
        raise AssertionError("the Query walked the whole table")

    monkeypatch.setattr(Table, "all_items", walked)
    response = dynamodb.query(
        TableName="ledger",
        KeyConditionExpression="pk = :user AND begins_with(sk, :history)",
        ExpressionAttributeValues={":user": {"S": "mine"}, ":history": {"S": "TX#"}},
        ScanIndexForward=False,
        Limit=3,
    )

    assert [item["sk"]["S"] for item in response["Items"]] == ["TX#4", "TX#3", "TX#1"]
    assert response["LastEvaluatedKey"] == {"pk": {"S": "mine"}, "sk": {"S": "TX#1"}}


def partition_of(table: Table) -> Any:
    return table.items[DynamoType({"S": "mine"})]


def sort_keys(partition: Any) -> list[str]:
    return [key.value for key in partition.ordered_keys()]


def test_a_partition_keeps_its_keys_in_order_through_every_change_and_copy() -> None:
    partition = partition_of(ledger("S", ["m", "c", "x"], []))
    item = partition[DynamoType({"S": "c"})]

    partition[DynamoType({"S": "a"})] = item
    partition[DynamoType({"S": "c"})] = item  # replaced: still one key
    del partition[DynamoType({"S": "m"})]
    assert partition.pop(DynamoType({"S": "absent"}), None) is None
    partition.update({DynamoType({"S": "b"}): item})
    partition |= {DynamoType({"S": "z"}): item}
    assert partition.setdefault(DynamoType({"S": "b"}), None) is item
    partition.setdefault(DynamoType({"S": "d"}), item)
    popped, _ = partition.popitem()
    assert popped.value == "d"

    assert sort_keys(partition) == ["a", "b", "c", "x", "z"]
    assert sort_keys(copy.deepcopy(partition)) == sort_keys(pickle.loads(pickle.dumps(partition)))
    assert sort_keys(copy.copy(partition)) == ["a", "b", "c", "x", "z"]
    partition.clear()
    assert sort_keys(partition) == []
    with pytest.raises(KeyError):
        partition.popitem()


def test_a_query_on_an_index_or_with_a_legacy_query_filter_is_moto_s_own() -> None:
    table = ledger("S", ["a", "b"], [])
    mine = DynamoType({"S": "mine"})

    with pytest.raises(Exception, match="Invalid index"):
        Table.query(table, mine, None, [], None, None, True, None, "no-such-index")
    filtered, _, _ = Table.query(
        table,
        mine,
        None,
        [],
        None,
        None,
        True,
        None,
        note={"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "mine b"}]},
    )
    assert [item.to_json()["Attributes"]["sk"] for item in filtered] == [{"S": "b"}]
