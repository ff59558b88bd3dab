"""The points function's tables and grants, as the catalog declares them and the stacks build them."""

from __future__ import annotations

import boto3

from embedded_stack.provision import Provisioned
from infra.functions import access_statements
from lambdas import catalog

TABLE_ARNS = {table.name: f"arn:aws:dynamodb:us-east-1:123456789012:table/{table.name}" for table in catalog.TABLES}


def test_the_points_role_grants_only_what_the_store_and_idempotency_call_on_their_two_tables() -> None:
    statements = access_statements(catalog.POINTS, TABLE_ARNS, {}, None)

    grants = {(action, resource) for s in statements for action in s["Action"] for resource in s["Resource"]}
    ledger, idempotency = TABLE_ARNS["points"], TABLE_ARNS["points_idempotency"]
    assert grants == {
        *(
            (f"dynamodb:{action}", ledger)
            for action in (
                "BatchWriteItem",
                "ConditionCheckItem",
                "DeleteItem",
                "GetItem",
                "PutItem",
                "Query",
                "UpdateItem",
            )
        ),
        *((f"dynamodb:{action}", idempotency) for action in ("DeleteItem", "GetItem", "PutItem", "UpdateItem")),
    }
    assert not any(action == "dynamodb:Scan" for action, _ in grants)
    assert catalog.POINTS in catalog.FUNCTIONS


def test_both_tables_are_provisioned_with_their_keys_and_the_idempotency_ttl(aws: Provisioned) -> None:
    dynamodb = boto3.client("dynamodb")

    ledger = dynamodb.describe_table(TableName=aws.tables["points"])["Table"]
    ttl = dynamodb.describe_time_to_live(TableName=aws.tables["points_idempotency"])["TimeToLiveDescription"]

    assert ledger["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert not ledger.get("GlobalSecondaryIndexes")
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expiration"}
