"""Points ledgers in DynamoDB (catalog.POINTS_TABLE): the requests, and nothing decided here.

The key layout is keys.py; when these requests are made, retried or answered with a 409 is ledger.py. Reads are
strongly consistent Queries on the user's partition. Writes that change a ledger are single TransactWriteItems,
built from the transaction items below; `transact` reports a cancelled one as `Refused` (a condition failed or
another transaction was in flight: nothing was written). BatchWriteItem only stores a large spend's steps and
empties a ledger.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lambdas.catalog import POINTS_TABLE
from lambdas.points import idempotency, keys, rules
from lambdas.points.models import HistoryEntry
from lambdas.shared import attribute_values
from lambdas.shared.aws import client, table_name
from lambdas.shared.pagination import Page, query_page
from lambdas.shared.timestamps import format_timestamp

FIRST_LOT_PAGE = 1  # per payer: the merge needs each payer's oldest lot; most spends take few more
LOT_PAGE = 100
BATCH_WRITE = 25
BATCH_ATTEMPTS = 5


class Refused(Exception):
    """A transaction wrote nothing: one of its conditions failed, or another transaction was in flight."""


@dataclass(frozen=True)
class Ledger:
    """The head and every balance, as one read found them."""

    version: int
    saga: str | None
    saga_steps: int
    balances: dict[str, int]  # payer: points, in the order payers first appeared


# ---------------------------------------------------------------------------------------------- reads


def read_ledger(user: str) -> Ledger:
    """The head and every balance, in one strongly consistent Query (paged only past 1 MB of payers)."""
    items = _query_all(
        {
            "KeyConditionExpression": "pk = :user AND begins_with(sk, :balance)",
            "ExpressionAttributeValues": {":user": {"S": user}, ":balance": {"S": keys.HEAD}},
        }
    )
    head = next((item for item in items if item["sk"] == keys.HEAD), {})
    payers = sorted((item for item in items if item["sk"] != keys.HEAD), key=lambda i: (i["firstSeen"], i["payer"]))
    return Ledger(
        version=int(head.get("version", 0)),
        saga=head.get("saga"),
        saga_steps=int(head.get("sagaSteps", 0)),
        balances={item["payer"]: int(item["balance"]) for item in payers},
    )


def open_lots(user: str, payer: str) -> Iterator[rules.Lot]:
    """One payer's open lots, oldest first, a page at a time as the consumer asks for more: the first page is
    the oldest lot, each next page twice the last."""
    request: dict[str, Any] = {
        "TableName": table(),
        "KeyConditionExpression": "pk = :user AND begins_with(sk, :lots)",
        "ExpressionAttributeValues": {":user": {"S": user}, ":lots": {"S": keys.lots_prefix(payer)}},
        "ConsistentRead": True,
        "Limit": FIRST_LOT_PAGE,
    }
    while True:
        response = client("dynamodb").query(**request)
        yield from (keys.lot_of(_plain(item)) for item in response.get("Items", []))
        if "LastEvaluatedKey" not in response:
            return
        request |= {"ExclusiveStartKey": response["LastEvaluatedKey"], "Limit": min(2 * request["Limit"], LOT_PAGE)}


def history_page(user: str, limit: int, after: str | None = None) -> Page[HistoryEntry]:
    """Up to `limit` history entries, newest first, continuing after sort key `after` (`<recordedAt>#<id>`)."""
    request: dict[str, Any] = {
        "TableName": table(),
        "KeyConditionExpression": "pk = :user AND begins_with(sk, :history)",
        "ExpressionAttributeValues": {":user": {"S": user}, ":history": {"S": keys.HISTORY}},
        "ScanIndexForward": False,
    }
    if after is not None:
        request["ExclusiveStartKey"] = keys.key(user, keys.HISTORY + after)
    page = query_page(request, limit, lambda item: item["sk"]["S"].removeprefix(keys.HISTORY))
    return Page([keys.history_entry(_plain(item)) for item in page.items], page.last_sort_key)


def saga_step(user: str, saga_id: str, number: int) -> list[dict[str, Any]] | None:
    """The writes of a saga's step, or None once it is applied (its item is deleted with them)."""
    found = client("dynamodb").get_item(
        TableName=table(), Key=keys.key(user, keys.saga_step_sk(saga_id, number)), ConsistentRead=True
    )
    if "Item" not in found:
        return None
    return [_with_table(write) for write in json.loads(found["Item"]["writes"]["S"])]


# ---------------------------------------------------------------------------------------------- writes


def transact(writes: list[dict[str, Any]]) -> None:
    """One TransactWriteItems; Refused when a condition failed or another transaction was in flight."""
    dynamodb = client("dynamodb")
    try:
        dynamodb.transact_write_items(TransactItems=writes)
    except dynamodb.exceptions.TransactionCanceledException as error:
        codes = {reason.get("Code") for reason in error.response.get("CancellationReasons", [])}
        if codes & {"ConditionalCheckFailed", "TransactionConflict"}:
            raise Refused from error
        raise
    except dynamodb.exceptions.TransactionConflictException as error:
        raise Refused from error


def put_items(items: list[dict[str, Any]]) -> None:
    """Writes plain-valued items with BatchWriteItem (no condition)."""
    _batch_write([{"PutRequest": {"Item": attribute_values.to_item(item)}} for item in items])


def delete_keys(user: str, sort_keys: list[str]) -> None:
    _batch_write([{"DeleteRequest": {"Key": keys.key(user, sk)}} for sk in sort_keys])


def delete_ledger(user: str) -> None:
    """Deletes every item of the user's ledger: Query for the keys, BatchWriteItem to delete them."""
    found = _query_all(
        {
            "KeyConditionExpression": "pk = :user",
            "ExpressionAttributeValues": {":user": {"S": user}},
            "ProjectionExpression": "pk, sk",
        }
    )
    delete_keys(user, [item["sk"] for item in found])


def delete_everything_owned_by(user: str) -> None:
    """DELETE /me (lambdas/accounts): the user's ledger and its Idempotency-Key records. Idempotent."""
    delete_ledger(user)
    idempotency.forget(user)


def put_saga_steps(user: str, saga_id: str, steps: list[list[dict[str, Any]]]) -> None:
    """Stores each step's writes as an item nothing points at yet."""
    items = [
        {"pk": user, "sk": keys.saga_step_sk(saga_id, number), "writes": json.dumps(_without_table(step))}
        for number, step in enumerate(steps)
    ]
    put_items(items)


def clear_saga(user: str, saga_id: str) -> None:
    """Removes a finished saga from the head, unless whoever finished it first already did."""
    dynamodb = client("dynamodb")
    with suppress(dynamodb.exceptions.ConditionalCheckFailedException):
        dynamodb.update_item(
            TableName=table(),
            Key=keys.key(user, keys.HEAD),
            UpdateExpression="REMOVE saga, sagaSteps",
            ConditionExpression="saga = :saga",
            ExpressionAttributeValues={":saga": {"S": saga_id}},
        )


# ---------------------------------------------------------------------------------------------- transaction items


def head_update(user: str, version: int, **sets: str | int) -> dict[str, Any]:
    """The head's update: the version as read (none yet: 0), no saga pending; bumps the version."""
    condition = "version = :read" if version else "attribute_not_exists(version)"
    assignments = ", ".join(["version = :next", *(f"{name} = :{name}" for name in sets)])
    values = {":next": version + 1, **{f":{name}": value for name, value in sets.items()}}
    if version:
        values[":read"] = version
    return {
        "Update": {
            "TableName": table(),
            "Key": keys.key(user, keys.HEAD),
            "UpdateExpression": f"SET {assignments}",
            "ConditionExpression": f"{condition} AND attribute_not_exists(saga)",
            "ExpressionAttributeValues": attribute_values.to_item(values),
        }
    }


def head_check(user: str, version: int) -> dict[str, Any]:
    """A ConditionCheck that the head still has `version` and no saga pending."""
    check = head_update(user, version)["Update"]
    del check["UpdateExpression"]
    check["ExpressionAttributeValues"].pop(":next")
    if not check["ExpressionAttributeValues"]:
        del check["ExpressionAttributeValues"]
    return {"ConditionCheck": check}


def head_bump(user: str) -> dict[str, Any]:
    """Bumps the version without reading it; refused while a saga is pending."""
    return {
        "Update": {
            "TableName": table(),
            "Key": keys.key(user, keys.HEAD),
            "UpdateExpression": "ADD version :one",
            "ConditionExpression": "attribute_not_exists(saga)",
            "ExpressionAttributeValues": {":one": {"N": "1"}},
        }
    }


def put(item: dict[str, Any], *, new: bool = False) -> dict[str, Any]:
    """Puts a plain-valued item; `new`: only if its key is free."""
    body: dict[str, Any] = {"TableName": table(), "Item": attribute_values.to_item(item)}
    if new:
        body["ConditionExpression"] = "attribute_not_exists(sk)"
    return {"Put": body}


def credit(user: str, payer: str, points: int, now: datetime) -> dict[str, Any]:
    """Adds `points` to `payer`'s balance, creating it (first seen `now`) if need be."""
    return {
        "Update": {
            "TableName": table(),
            "Key": keys.key(user, keys.balance_sk(payer)),
            "UpdateExpression": "SET payer = :payer, firstSeen = if_not_exists(firstSeen, :now) ADD balance :points",
            "ExpressionAttributeValues": attribute_values.to_item(
                {":payer": payer, ":now": format_timestamp(now), ":points": points}
            ),
        }
    }


def consumption(user: str, takes: list[rules.Take]) -> list[dict[str, Any]]:
    """The writes of `takes`: each lot as read (used up: deleted), each payer's balance, never below zero."""
    writes: list[dict[str, Any]] = []
    taken_by_payer: dict[str, int] = {}
    for take in takes:
        lot = take.lot
        key = keys.key(user, keys.lot_sk(lot))
        as_read = {"TableName": table(), "Key": key, "ConditionExpression": "remaining = :read"}
        read = {":read": {"N": str(lot.remaining)}}
        if take.empties_lot:
            # A used-up lot leaves the range that spends read; its transaction stays in the history.
            writes.append({"Delete": as_read | {"ExpressionAttributeValues": read}})
        else:
            left = {":left": {"N": str(lot.remaining - take.points)}}
            update = {"UpdateExpression": "SET remaining = :left", "ExpressionAttributeValues": read | left}
            writes.append({"Update": as_read | update})
        taken_by_payer[lot.payer] = taken_by_payer.get(lot.payer, 0) + take.points
    for payer, taken in taken_by_payer.items():
        writes.append(
            {
                "Update": {
                    "TableName": table(),
                    "Key": keys.key(user, keys.balance_sk(payer)),
                    "UpdateExpression": "ADD balance :minus",
                    "ConditionExpression": "balance >= :taken",
                    "ExpressionAttributeValues": {":minus": {"N": str(-taken)}, ":taken": {"N": str(taken)}},
                }
            }
        )
    return writes


def saga_step_done(user: str, saga_id: str, number: int) -> dict[str, Any]:
    """Deletes a step's item, in the transaction that applies it: so it applies once, whoever runs it."""
    key = keys.key(user, keys.saga_step_sk(saga_id, number))
    return {"Delete": {"TableName": table(), "Key": key, "ConditionExpression": "attribute_exists(sk)"}}


# ---------------------------------------------------------------------------------------------- helpers


def table() -> str:
    return table_name(POINTS_TABLE)


def _query_all(request: dict[str, Any]) -> list[dict[str, Any]]:
    dynamodb = client("dynamodb")
    request = {"TableName": table(), "ConsistentRead": True, **request}
    items: list[dict[str, Any]] = []
    while True:
        response = dynamodb.query(**request)
        items += map(_plain, response.get("Items", []))
        if "LastEvaluatedKey" not in response:
            return items
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def _batch_write(requests: list[dict[str, Any]]) -> None:
    dynamodb = client("dynamodb")
    for start in range(0, len(requests), BATCH_WRITE):
        pending = {table(): requests[start : start + BATCH_WRITE]}
        for _ in range(BATCH_ATTEMPTS):
            pending = dynamodb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            if not pending:
                break
        else:
            raise RuntimeError("DynamoDB left batch writes unprocessed after retries")


# A step's writes are stored without their table name (the stack's name may differ when it is applied).
def _without_table(writes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {kind: {k: v for k, v in body.items() if k != "TableName"}} for write in writes for kind, body in write.items()
    ]


def _with_table(write: dict[str, Any]) -> dict[str, Any]:
    return {kind: {"TableName": table(), **body} for kind, body in write.items()}


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    return attribute_values.from_item(item)
