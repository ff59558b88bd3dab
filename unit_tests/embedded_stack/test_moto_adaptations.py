"""moto as the embedded stack runs it: serialised per service, transactions without table copies, no instance kept
forever, a service found once per host, plain attribute values answered as they are (embedded_stack.moto),
and served with connections kept open (embedded_stack.moto.server)."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import uuid
from collections.abc import Iterator
from typing import Any
from unittest import mock

import boto3
import moto.backends
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from hypothesis import given, settings
from hypothesis import strategies as st
from moto.core.serialize import BaseJSONSerializer, XFormedAttributePicker, get_serializer_class
from moto.core.utils import get_service_model
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import Item
from moto.dynamodb.models.table import Table
from moto.moto_server.werkzeug_app import create_backend_app

import embedded_stack.moto as adapted_moto
from embedded_stack.moto.server import MotoServer
from embedded_stack.provision import Provisioned
from lambdas.shared.aws import client

KEY_FREE = "attribute_not_exists(pk)"


@pytest.fixture(autouse=True)
def patched() -> None:
    adapted_moto.install()


@pytest.fixture
def moto_server() -> Iterator[str]:
    """moto's server as the stack serves it, on a free port, in this process."""
    listening = socket.create_server(("127.0.0.1", 0))
    server = MotoServer(adapted_moto.SerialisedDispatcher(create_backend_app), listening, stop_seconds=0.05)
    yield f"http://127.0.0.1:{server.port}"
    server.stop()


def dynamodb_at(endpoint: str) -> Any:
    # No retries: a 500 from moto must show, not be retried away.
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 1}),
    )


def create_table(dynamodb: Any, name: str) -> None:
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def tenant_create(table: str, website: str) -> list[dict[str, Any]]:
    tenant_id = str(uuid.uuid4())
    return [
        {
            "Put": {
                "TableName": table,
                "Item": {"pk": {"S": f"TENANT#{tenant_id}"}, "website": {"S": website}},
                "ConditionExpression": KEY_FREE,
            }
        },
        {
            "Put": {
                "TableName": table,
                "Item": {"pk": {"S": f"WEBSITE#{website}"}, "tenantId": {"S": tenant_id}},
                "ConditionExpression": KEY_FREE,
            }
        },
    ]


def test_installing_twice_wraps_moto_once() -> None:
    once = DynamoDBBackend.transact_write_items
    adapted_moto.install()

    assert adapted_moto.is_installed()
    assert DynamoDBBackend.transact_write_items is once


def test_fifty_concurrent_tenant_creates_all_succeed_and_leave_every_reservation(moto_server: str) -> None:
    table = f"race-{uuid.uuid4().hex[:8]}"
    create_table(dynamodb_at(moto_server), table)
    errors: list[Exception] = []
    start = threading.Barrier(50)

    def create(number: int) -> None:
        dynamodb = dynamodb_at(moto_server)
        start.wait()
        try:
            dynamodb.transact_write_items(TransactItems=tenant_create(table, f"site-{number}.example"))
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=create, args=(number,)) for number in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    items = dynamodb_at(moto_server).scan(TableName=table, ConsistentRead=True)["Items"]
    tenants = {item["pk"]["S"].removeprefix("TENANT#"): item["website"]["S"] for item in items if "website" in item}
    reservations = {
        item["pk"]["S"].removeprefix("WEBSITE#"): item["tenantId"]["S"] for item in items if "tenantId" in item
    }
    assert len(tenants) == 50
    assert {website: tenant for tenant, website in tenants.items()} == reservations


def test_a_request_waits_for_the_one_in_flight_in_its_service_but_not_in_another(
    moto_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    inside, release = threading.Event(), threading.Event()
    list_tables = DynamoDBBackend.list_tables

    def list_tables_held(backend: DynamoDBBackend, *args: Any, **kwargs: Any) -> Any:
        if not inside.is_set():
            inside.set()
            release.wait(10)
        return list_tables(backend, *args, **kwargs)

    monkeypatch.setattr(DynamoDBBackend, "list_tables", list_tables_held)
    first = threading.Thread(target=lambda: dynamodb_at(moto_server).list_tables())
    first.start()
    assert inside.wait(10)
    second_done = threading.Event()
    second = threading.Thread(target=lambda: (dynamodb_at(moto_server).describe_limits(), second_done.set()))
    second.start()

    s3 = boto3.client(
        "s3", endpoint_url=moto_server, region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t"
    )
    s3.list_buckets()  # another service answers meanwhile
    assert not second_done.wait(0.3)  # the same service waits
    release.set()
    first.join(10)
    second.join(10)
    assert second_done.is_set()


def test_a_connection_stays_open_across_requests(moto_server: str) -> None:
    connection = http.client.HTTPConnection(moto_server.removeprefix("http://"), timeout=10)
    answers, sockets = [], []
    try:
        for _ in range(3):
            connection.request("GET", "/")  # unsigned: moto's default service, S3 (ListBuckets)
            answer = connection.getresponse()
            answer.read()
            answers.append(answer)
            sockets.append(connection.sock)  # http.client drops its socket after an answer that closes it
    finally:
        connection.close()

    assert [answer.status for answer in answers] == [200, 200, 200]
    assert not any(answer.will_close for answer in answers)
    assert sockets[0] is not None and all(sock is sockets[0] for sock in sockets)


def test_s3_metadata_keeps_the_underscores_in_its_keys_as_motos_own_server_does(moto_server: str) -> None:
    s3 = boto3.client(
        "s3", endpoint_url=moto_server, region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t"
    )
    s3.create_bucket(Bucket="metadata")
    s3.put_object(Bucket="metadata", Key="k", Body=b"x", Metadata={"snake_case": "1", "kebab-case": "2"})

    assert s3.head_object(Bucket="metadata", Key="k")["Metadata"] == {"snake_case": "1", "kebab-case": "2"}


def test_a_hosts_service_is_found_once_not_by_listing_motos_package_each_request(
    moto_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    listings = []
    list_of_moto_modules = moto.backends.list_of_moto_modules

    def counted() -> Any:
        listings.append(1)
        return list_of_moto_modules()

    monkeypatch.setattr(moto.backends, "list_of_moto_modules", counted)
    dynamodb = dynamodb_at(moto_server)
    tables = [dynamodb.list_tables()["TableNames"] for _ in range(3)]

    assert tables[0] == tables[1] == tables[2]
    assert len(listings) == 1


def put(table: str, pk: str, **attributes: str) -> dict[str, Any]:
    item = {"pk": {"S": pk}} | {name: {"S": value} for name, value in attributes.items()}
    return {"Put": {"TableName": table, "Item": item, "ConditionExpression": KEY_FREE}}


def items_of(table: str) -> dict[str, dict[str, Any]]:
    return {item["pk"]["S"]: item for item in client("dynamodb").scan(TableName=table)["Items"]}


@pytest.fixture
def table(aws: Provisioned) -> str:
    name = f"undo-{uuid.uuid4().hex[:8]}"
    create_table(client("dynamodb"), name)
    client("dynamodb").put_item(TableName=name, Item={"pk": {"S": "kept"}, "count": {"N": "1"}})
    return name


def test_a_cancelled_transaction_undoes_the_writes_it_made_before_the_failing_condition(table: str) -> None:
    before = items_of(table)
    update = {
        "Update": {
            "TableName": table,
            "Key": {"pk": {"S": "kept"}},
            "UpdateExpression": "SET #count = #count + :one",
            "ExpressionAttributeNames": {"#count": "count"},
            "ExpressionAttributeValues": {":one": {"N": "1"}},
        }
    }
    delete = {"Delete": {"TableName": table, "Key": {"pk": {"S": "absent"}}}}
    must_exist = put(table, "missing")
    must_exist["Put"]["ConditionExpression"] = "attribute_exists(pk)"

    with pytest.raises(ClientError) as cancelled:
        client("dynamodb").transact_write_items(
            TransactItems=[put(table, "new"), update, delete, must_exist]  # the last one fails its condition
        )

    assert cancelled.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert items_of(table) == before


def test_a_transaction_naming_one_item_twice_is_refused_and_undone(table: str) -> None:
    before = items_of(table)

    with pytest.raises(ClientError) as refused:
        client("dynamodb").transact_write_items(TransactItems=[put(table, "twice"), put(table, "twice")])

    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert items_of(table) == before


def test_a_cancelled_transaction_on_a_table_with_a_sort_key_is_undone(aws: Provisioned) -> None:
    name = f"sorted-{uuid.uuid4().hex[:8]}"
    client("dynamodb").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    client("dynamodb").put_item(TableName=name, Item={"pk": {"S": "a"}, "sk": {"S": "1"}, "v": {"S": "old"}})

    def put_sorted(sk: str, condition: str) -> dict[str, Any]:
        item = {"pk": {"S": "a"}, "sk": {"S": sk}, "v": {"S": "new"}}
        return {"Put": {"TableName": name, "Item": item, "ConditionExpression": condition}}

    with pytest.raises(ClientError):
        client("dynamodb").transact_write_items(
            TransactItems=[
                put_sorted("1", "attribute_exists(pk)"),  # overwrites the existing item
                put_sorted("2", KEY_FREE),  # adds one
                put_sorted("3", "attribute_exists(pk)"),  # fails: there is no such item
            ]
        )

    items = client("dynamodb").query(
        TableName=name, KeyConditionExpression="pk = :a", ExpressionAttributeValues={":a": {"S": "a"}}
    )["Items"]
    assert [(item["sk"]["S"], item["v"]["S"]) for item in items] == [("1", "old")]


def test_a_transaction_does_not_copy_its_table(table: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse_copy(self: Table, memo: dict[int, Any]) -> Table:
        raise AssertionError("the table was deep-copied")

    monkeypatch.setattr(Table, "__deepcopy__", refuse_copy, raising=False)

    client("dynamodb").transact_write_items(TransactItems=[put(table, "one"), put(table, "two")])
    with pytest.raises(ClientError):
        client("dynamodb").transact_write_items(TransactItems=[put(table, "three"), put(table, "one")])

    assert set(items_of(table)) == {"kept", "one", "two"}


def test_items_that_were_overwritten_are_not_kept_alive(table: str) -> None:
    tracked_before = len(Item.instances_tracked)  # type: ignore[attr-defined]
    for count in range(200):
        client("dynamodb").put_item(TableName=table, Item={"pk": {"S": "kept"}, "count": {"N": str(count)}})
        client("dynamodb").update_item(
            TableName=table,
            Key={"pk": {"S": "kept"}},
            UpdateExpression="SET extra = :x",
            ExpressionAttributeValues={":x": {"S": "x"}},
        )

    # moto's list would hold all 400 versions and the update's copies.
    assert len(Item.instances_tracked) == tracked_before  # type: ignore[attr-defined]
    assert items_of(table)["kept"]["count"] == {"N": "199"}


# 6. Attribute values answered as they are ------------------------------------------------------------------------
def scalar_values() -> st.SearchStrategy[dict[str, Any]]:
    texts = st.text(max_size=6)
    numbers = st.from_regex(r"-?[0-9]{1,6}(\.[0-9]{1,3})?", fullmatch=True)
    return st.one_of(
        texts.map(lambda text: {"S": text}),
        numbers.map(lambda number: {"N": number}),
        st.binary(max_size=6).map(lambda data: {"B": data}),
        st.booleans().map(lambda flag: {"BOOL": flag}),
        st.just({"NULL": True}),
        st.lists(texts, min_size=1, max_size=3).map(lambda texts: {"SS": texts}),
        st.lists(numbers, min_size=1, max_size=3).map(lambda numbers: {"NS": numbers}),
        st.lists(st.binary(max_size=4), min_size=1, max_size=3).map(lambda blobs: {"BS": blobs}),
        # Shapes the fast path must leave to the serializer: not the JSON types it writes unchanged.
        st.integers().map(lambda number: {"N": number}),
        st.lists(st.integers(), min_size=1, max_size=2).map(lambda numbers: {"NS": numbers}),
        st.just({"S": "two", "N": "1"}),
    )


attribute_values = st.recursive(
    scalar_values(),
    lambda children: st.one_of(
        st.dictionaries(st.text(min_size=1, max_size=4), children, max_size=3).map(lambda map_: {"M": map_}),
        st.lists(children, max_size=3).map(lambda list_: {"L": list_}),
    ),
    max_leaves=12,
)
stored_items = st.dictionaries(st.text(min_size=1, max_size=5), attribute_values, min_size=1, max_size=6)


def serialized(operation: str, result: dict[str, Any], picker: XFormedAttributePicker | None = None) -> Any:
    """The body moto's DynamoDB answers `operation` with, for the backend's `result`."""
    operation_model = get_service_model("dynamodb").operation_model(operation)
    serializer = get_serializer_class("dynamodb", "json")(
        operation_model=operation_model, pretty_print=False, value_picker=picker or XFormedAttributePicker()
    )
    return serializer.serialize(result)


def test_plain_attribute_values_are_not_looked_up_member_by_member() -> None:
    looked_up: list[str] = []

    class CountingPicker(XFormedAttributePicker):
        def __call__(self, context: Any) -> Any:
            looked_up.append(context.key)
            return super().__call__(context)

    item = {f"attribute{number}": {"S": "value"} for number in range(20)} | {"count": {"N": "1"}}
    answer = serialized("GetItem", {"Item": item}, CountingPicker())

    assert json.loads(answer["body"]) == {"Item": item}
    assert sorted(looked_up) == ["ConsumedCapacity", "Item"]  # the output's own members, not each value's ten


@settings(max_examples=300, deadline=None)
@given(item=stored_items, page=st.lists(stored_items, max_size=3))
def test_items_are_answered_exactly_as_motos_serializer_answers_them(
    item: dict[str, Any], page: list[dict[str, Any]]
) -> None:
    structure = BaseJSONSerializer._serialize_type_structure
    results = {"GetItem": {"Item": item}, "Query": {"Items": page, "Count": len(page), "ScannedCount": len(page)}}

    with_fast_path = {operation: serialized(operation, result) for operation, result in results.items()}
    with mock.patch.object(BaseJSONSerializer, "_serialize_type_structure", structure.__wrapped__):
        as_moto_ships = {operation: serialized(operation, result) for operation, result in results.items()}

    assert with_fast_path == as_moto_ships
