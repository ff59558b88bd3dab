"""Points ledgers in DynamoDB (catalog.POINTS_TABLE), one partition per user.

Items, all under ``pk = <the user's Cognito sub>``, by sort key ``sk``:
- ``BALANCE``: the ledger head: ``version`` (bumped by every change) and, while a large spend is being applied,
  ``saga``/``sagaSteps``.
- ``BALANCE#<payer key>``: one payer's ``balance`` and name (``payer``, ``firstSeen`` for the answer's order).
  The head sorts first, so one strongly consistent Query ``begins_with(sk, "BALANCE")`` reads the head and every
  balance: that is GET /points/balance, and the first read of every spend, whatever the history.
- ``LOT#<payer key>#<timestamp>#<id>``: an open lot, with ``remaining`` points. Per payer, a Query returns the
  oldest first. A spend merges the per-payer streams lazily (rules.oldest_first); a payer's first page is its
  oldest lot and each next page is twice the last, so a spend reads at most about twice the lots it consumes plus
  one per payer; a used-up lot is deleted (the transaction stays in the history), so the range later spends read
  holds open lots only.
- ``TX#<recordedAt>#<id>``: the history, additions, negatives and spends, newest first, paginated by the same
  opaque cursor as /sla-errors.
- ``SAGA#<id>#<step>``: the steps of a spend too large for one transaction (below).
The payer key is a hash of the name: names may hold `#`; the name itself is kept in the items.

Concurrency: optimistic. An addition is one TransactWriteItems (lot, balance, history, ``ADD version 1`` on the
head) and never reads. A spend or a negative reads the head and balances, plans from the oldest lots, and writes
one TransactWriteItems conditioned on the head's ``version`` being the one it read and on every lot it touches
still holding the ``remaining`` it read; balances are conditioned not to go below zero. Anything committed in
between (a spend, a negative, even an addition of older points, which would change what "oldest" means) bumps the
version, the transaction is cancelled, and the spend starts again from a fresh read (at most MAX_ATTEMPTS
times, then 429). A 409 (not enough points) is only answered after a ConditionCheck transaction confirmed that the
head still has the version the plan was read at: a Query is not isolated from transactions, a transaction is.

Spends larger than a transaction (100 items: the head, every lot touched, every payer, the history entry) are a
roll-forward saga, still all-or-nothing: (1) the plan is cut into steps of at most 99 writes, each stored as an
item ``SAGA#<id>#<n>`` (invisible: nothing points at it yet); (2) the commit point: one conditional write sets the
head's ``saga`` (version as read, no other saga pending); (3) each step is one transaction that applies its writes
and deletes its step item, so it applies exactly once whoever runs it; (4) the head's ``saga`` is removed. Every
writer's head condition requires no pending saga, and every reader that finds one (balance, spend, negative,
addition after a refusal) first rolls it forward, so no one ever sees half a spend. A failure before (2) changes
nothing visible; after (2) the spend has happened, and the next caller on that ledger finishes it.

A test interleaves competing writes through `interleave(stage)` (a seam, no-op in production), called between a
spend's reads and its write and between saga stages.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import uuid4

from aws_lambda_powertools import Logger

from lambdas.catalog import POINTS_TABLE
from lambdas.points import idempotency, rules
from lambdas.points.models import HistoryEntry, NewTransaction, PayerPoints, Transaction
from lambdas.shared import attribute_values
from lambdas.shared.aws import client, table_name
from lambdas.shared.errors import Conflict, TooManyRequests
from lambdas.sla_errors.rules import format_timestamp, sort_key

HEAD = "BALANCE"
BALANCE = "BALANCE#"
LOT = "LOT#"
HISTORY = "TX#"
SAGA = "SAGA#"
MAX_ATTEMPTS = 5
MAX_TRANSACTION_ITEMS = 100
FIRST_LOT_PAGE = 1  # per payer: the merge needs each payer's oldest lot; most spends take few more
LOT_PAGE = 100
BATCH_WRITE = 25
logger = Logger()


def interleave(stage: str) -> None:
    """A seam for deterministic interleaving tests; nothing happens here in production."""


@dataclass(frozen=True)
class Ledger:
    version: int
    saga: str | None
    saga_steps: int
    balances: dict[str, int]  # payer: points, in the order payers first appeared


@dataclass(frozen=True)
class HistoryPageRead:
    items: list[HistoryEntry]
    last_sort_key: str | None  # set when there may be more


class _TryAgain(Exception):
    """Another change committed first: read again and replan."""


# ---------------------------------------------------------------------------------------------- reads


def balances(user: str) -> dict[str, int]:
    return _ledger(user).balances


def history_page(user: str, limit: int, after: str | None = None) -> HistoryPageRead:
    """Up to `limit` history entries, newest first, continuing after sort key `after` (`<recordedAt>#<id>`)."""
    request: dict[str, Any] = {
        "TableName": _table(),
        "KeyConditionExpression": "pk = :user AND begins_with(sk, :history)",
        "ExpressionAttributeValues": {":user": {"S": user}, ":history": {"S": HISTORY}},
        "ScanIndexForward": False,
        "Limit": limit + 1,  # one more: a full last page then ends the list
    }
    if after is not None:
        request["ExclusiveStartKey"] = {"pk": {"S": user}, "sk": {"S": HISTORY + after}}
    response = client("dynamodb").query(**request)
    items = [_plain(item) for item in response.get("Items", [])]
    page, more = items[:limit], len(items) > limit or "LastEvaluatedKey" in response
    last = page[-1]["sk"].removeprefix(HISTORY) if page and more else None
    return HistoryPageRead([_history_entry(item) for item in page], last)


def _ledger(user: str) -> Ledger:
    """The head and every balance, in one strongly consistent Query; a pending saga is finished first."""
    for _ in range(MAX_ATTEMPTS):
        items = _query_all(
            {
                "KeyConditionExpression": "pk = :user AND begins_with(sk, :balance)",
                "ExpressionAttributeValues": {":user": {"S": user}, ":balance": {"S": HEAD}},
            }
        )
        head = next((item for item in items if item["sk"] == HEAD), {})
        payers = sorted((item for item in items if item["sk"] != HEAD), key=lambda i: (i["firstSeen"], i["payer"]))
        ledger = Ledger(
            version=int(head.get("version", 0)),
            saga=head.get("saga"),
            saga_steps=int(head.get("sagaSteps", 0)),
            balances={item["payer"]: int(item["balance"]) for item in payers},
        )
        if ledger.saga is None:
            return ledger
        _roll_forward(user, ledger.saga, ledger.saga_steps)
    raise TooManyRequests("The points ledger is busy with other changes: try again.")


def _open_lots(user: str, payer: str) -> Iterator[rules.Lot]:
    """One payer's open lots, oldest first, a page at a time as the consumer asks for more."""
    request: dict[str, Any] = {
        "TableName": _table(),
        "KeyConditionExpression": "pk = :user AND begins_with(sk, :lots)",
        "ExpressionAttributeValues": {":user": {"S": user}, ":lots": {"S": f"{LOT}{rules.payer_key(payer)}#"}},
        "ConsistentRead": True,
        "Limit": FIRST_LOT_PAGE,
    }
    while True:
        response = client("dynamodb").query(**request)
        for item in map(_plain, response.get("Items", [])):
            yield rules.Lot(
                payer=item["payer"],
                timestamp=datetime.fromisoformat(item["timestamp"].replace("Z", "+00:00")),
                id=item["id"],
                remaining=int(item["remaining"]),
            )
        if "LastEvaluatedKey" not in response:
            return
        request |= {"ExclusiveStartKey": response["LastEvaluatedKey"], "Limit": min(2 * request["Limit"], LOT_PAGE)}


# ---------------------------------------------------------------------------------------------- writes


def add(user: str, new: NewTransaction, now: datetime, new_id: Callable[[], str] = lambda: str(uuid4())) -> Transaction:
    """Records a transaction: a positive one opens a lot, a negative one takes from its payer's oldest lots."""
    transaction = Transaction(
        id=new_id(), payer=new.payer, points=new.points, timestamp=format_timestamp(new.timestamp)
    )
    history = _history_item(
        user, now, transaction.id, kind="transaction", payer=new.payer, points=new.points, timestamp=new.timestamp
    )
    if new.points < 0:
        _consume(user, -new.points, payer=new.payer, history=history)
    else:
        _open_lot(user, transaction, new.timestamp, now, history)
    return transaction


def spend(user: str, points: int, now: datetime, new_id: Callable[[], str] = lambda: str(uuid4())) -> list[PayerPoints]:
    """Spends `points` from the oldest lots of any payer: what each payer gave, in the order consumed."""
    spend_id = new_id()

    def history(takes: list[rules.Take]) -> dict[str, Any]:
        consumed = [{"payer": payer, "points": taken} for payer, taken in rules.by_payer(takes)]
        return _history_item(user, now, spend_id, kind="spend", payer=None, points=-points, timestamp=now) | {
            "consumed": consumed
        }

    takes = _consume(user, points, payer=None, history=history)
    return [PayerPoints(payer=payer, points=taken) for payer, taken in rules.by_payer(takes)]


def delete_ledger(user: str) -> None:
    """Deletes every item of the user's ledger: Query for the keys, BatchWriteItem to delete them."""
    keys = _query_all(
        {
            "KeyConditionExpression": "pk = :user",
            "ExpressionAttributeValues": {":user": {"S": user}},
            "ProjectionExpression": "pk, sk",
        }
    )
    _batch_write([{"DeleteRequest": {"Key": _item(key)}} for key in keys])


def delete_everything_owned_by(user: str) -> None:
    """DELETE /me (lambdas/accounts): the user's ledger and its Idempotency-Key records. Idempotent."""
    delete_ledger(user)
    idempotency.forget(user)


def _open_lot(user: str, transaction: Transaction, timestamp: datetime, now: datetime, history: dict) -> None:
    payer = transaction.payer
    lot = {
        "pk": user,
        "sk": f"{LOT}{rules.payer_key(payer)}#{sort_key(timestamp, transaction.id)}",
        "id": transaction.id,
        "payer": payer,
        "timestamp": transaction.timestamp,
        "remaining": transaction.points,
    }
    table = _table()
    writes = [
        {
            "Update": {
                "TableName": table,
                "Key": _key(user, HEAD),
                # No read, no version to match: but a pending saga must be finished before anything else changes.
                "UpdateExpression": "ADD version :one",
                "ConditionExpression": "attribute_not_exists(saga)",
                "ExpressionAttributeValues": {":one": {"N": "1"}},
            }
        },
        {"Put": {"TableName": table, "Item": _item(lot), "ConditionExpression": "attribute_not_exists(sk)"}},
        {
            "Update": {
                "TableName": table,
                "Key": _key(user, BALANCE + rules.payer_key(payer)),
                "UpdateExpression": (
                    "SET payer = :payer, firstSeen = if_not_exists(firstSeen, :now) ADD balance :points"
                ),
                "ExpressionAttributeValues": _item(
                    {":payer": payer, ":now": format_timestamp(now), ":points": transaction.points}
                ),
            }
        },
        {"Put": {"TableName": table, "Item": _item(history)}},
    ]
    for _ in range(MAX_ATTEMPTS):
        try:
            _transact(writes)
            return
        except _TryAgain:
            _ledger(user)  # finishes the saga that refused the write, if that was the reason
    raise TooManyRequests("The points ledger is busy with other changes: try again.")


def _consume(
    user: str,
    points: int,
    *,
    payer: str | None,
    history: dict[str, Any] | Callable[[list[rules.Take]], dict[str, Any]],
) -> list[rules.Take]:
    """Takes `points` from the oldest lots (of `payer`, or of anyone), with `history` recording it."""
    for _ in range(MAX_ATTEMPTS):
        ledger = _ledger(user)
        payers = [name for name, balance in ledger.balances.items() if balance > 0 and payer in (None, name)]
        available = sum(ledger.balances[name] for name in payers)
        takes = None
        if available >= points:
            takes = rules.consume(rules.oldest_first(*(_open_lots(user, name) for name in payers)), points)
        if takes is None:
            if _unchanged(user, ledger.version):
                whose = "The payer has" if payer is not None else "The ledger has"
                raise Conflict("body.points", f"{whose} fewer points than that: nothing was changed.")
            continue
        interleave("planned")
        entry = history(takes) if callable(history) else history
        writes = [*_consumption_writes(user, takes), {"Put": {"TableName": _table(), "Item": _item(entry)}}]
        try:
            if len(writes) < MAX_TRANSACTION_ITEMS:
                _transact([_head_write(user, ledger.version), *writes])
            else:
                _run_saga(user, ledger.version, writes)
        except _TryAgain:
            continue
        return takes
    raise TooManyRequests("The points ledger is busy with other changes: try again.")


def _consumption_writes(user: str, takes: list[rules.Take]) -> list[dict[str, Any]]:
    table = _table()
    writes: list[dict[str, Any]] = []
    taken_by_payer: dict[str, int] = {}
    for take in takes:
        lot = take.lot
        key = _key(user, f"{LOT}{rules.payer_key(lot.payer)}#{lot.order}")
        read = {":read": {"N": str(lot.remaining)}}
        if take.empties_lot:
            # A used-up lot leaves the range that spends read; its transaction stays in the history.
            writes.append(
                {
                    "Delete": {
                        "TableName": table,
                        "Key": key,
                        "ConditionExpression": "remaining = :read",
                        "ExpressionAttributeValues": read,
                    }
                }
            )
        else:
            writes.append(
                {
                    "Update": {
                        "TableName": table,
                        "Key": key,
                        "UpdateExpression": "SET remaining = :left",
                        "ConditionExpression": "remaining = :read",
                        "ExpressionAttributeValues": read | {":left": {"N": str(lot.remaining - take.points)}},
                    }
                }
            )
        taken_by_payer[lot.payer] = taken_by_payer.get(lot.payer, 0) + take.points
    for name, taken in taken_by_payer.items():
        writes.append(
            {
                "Update": {
                    "TableName": table,
                    "Key": _key(user, BALANCE + rules.payer_key(name)),
                    "UpdateExpression": "ADD balance :minus",
                    "ConditionExpression": "balance >= :taken",
                    "ExpressionAttributeValues": {":minus": {"N": str(-taken)}, ":taken": {"N": str(taken)}},
                }
            }
        )
    return writes


def _head_write(user: str, version: int, **sets: str | int) -> dict[str, Any]:
    """The head's update: the version as read (none yet: 0), no saga pending; bumps the version."""
    condition = "version = :read" if version else "attribute_not_exists(version)"
    assignments = ", ".join(["version = :next", *(f"{name} = :{name}" for name in sets)])
    values = {":next": version + 1, **{f":{name}": value for name, value in sets.items()}}
    if version:
        values[":read"] = version
    return {
        "Update": {
            "TableName": _table(),
            "Key": _key(user, HEAD),
            "UpdateExpression": f"SET {assignments}",
            "ConditionExpression": f"{condition} AND attribute_not_exists(saga)",
            "ExpressionAttributeValues": _item(values),
        }
    }


def _unchanged(user: str, version: int) -> bool:
    """Whether the head still has `version`: a transaction, so serialised with every other one."""
    check = _head_write(user, version)["Update"]
    del check["UpdateExpression"]
    check["ExpressionAttributeValues"].pop(":next")
    if not check["ExpressionAttributeValues"]:
        del check["ExpressionAttributeValues"]
    try:
        _transact([{"ConditionCheck": check}])
    except _TryAgain:
        return False
    return True


# ---------------------------------------------------------------------------------------------- sagas


def _run_saga(user: str, version: int, writes: list[dict[str, Any]]) -> None:
    saga_id = uuid4().hex
    step_size = MAX_TRANSACTION_ITEMS - 1  # each step also deletes its own item
    steps = [writes[start : start + step_size] for start in range(0, len(writes), step_size)]
    step_items = [
        {"pk": user, "sk": f"{SAGA}{saga_id}#{number:06d}", "writes": json.dumps(_without_table(step))}
        for number, step in enumerate(steps)
    ]
    try:
        _batch_write([{"PutRequest": {"Item": _item(item)}} for item in step_items])
        interleave("saga-prepared")
        _transact([_head_write(user, version, saga=saga_id, sagaSteps=len(steps))])  # the commit point
    except BaseException:
        # Nothing points at the steps yet: removing them leaves the ledger exactly as it was.
        _batch_write([{"DeleteRequest": {"Key": _key(user, item["sk"])}} for item in step_items])
        raise
    interleave("saga-committed")
    try:
        _roll_forward(user, saga_id, len(steps))
    except Exception:
        # Committed: the spend has happened whatever fails now, and the next call on this ledger finishes it.
        logger.exception("spend committed but not yet fully applied", saga=saga_id)


def _roll_forward(user: str, saga_id: str, steps: int) -> None:
    """Applies every step of a committed saga not applied yet, then clears it from the head. Safe to run twice."""
    dynamodb = client("dynamodb")
    table = _table()
    for number in range(steps):
        key = _key(user, f"{SAGA}{saga_id}#{number:06d}")
        for _ in range(MAX_ATTEMPTS):
            found = dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
            if found is None:
                break  # applied by whoever ran it first
            interleave("saga-step")
            writes = [_with_table(write, table) for write in json.loads(found["writes"]["S"])]
            done = {"Delete": {"TableName": table, "Key": key, "ConditionExpression": "attribute_exists(sk)"}}
            try:
                _transact([*writes, done])
                break
            except _TryAgain:
                continue  # applied meanwhile, or a conflicting transaction in flight: look again
        else:
            raise RuntimeError(f"saga {saga_id} step {number} could not be applied")
    with suppress(dynamodb.exceptions.ConditionalCheckFailedException):  # cleared by whoever finished it first
        dynamodb.update_item(
            TableName=table,
            Key=_key(user, HEAD),
            UpdateExpression="REMOVE saga, sagaSteps",
            ConditionExpression="saga = :saga",
            ExpressionAttributeValues={":saga": {"S": saga_id}},
        )


def _without_table(writes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {kind: {k: v for k, v in body.items() if k != "TableName"}} for write in writes for kind, body in write.items()
    ]


def _with_table(write: dict[str, Any], table: str) -> dict[str, Any]:
    return {kind: {"TableName": table, **body} for kind, body in write.items()}


# ---------------------------------------------------------------------------------------------- helpers


def _transact(writes: list[dict[str, Any]]) -> None:
    """One TransactWriteItems; _TryAgain when a condition failed or another transaction was in flight."""
    dynamodb = client("dynamodb")
    try:
        dynamodb.transact_write_items(TransactItems=writes)
    except dynamodb.exceptions.TransactionCanceledException as error:
        codes = {reason.get("Code") for reason in error.response.get("CancellationReasons", [])}
        if codes & {"ConditionalCheckFailed", "TransactionConflict"}:
            raise _TryAgain from error
        raise
    except dynamodb.exceptions.TransactionConflictException as error:
        raise _TryAgain from error


def _query_all(request: dict[str, Any]) -> list[dict[str, Any]]:
    dynamodb = client("dynamodb")
    request = {"TableName": _table(), "ConsistentRead": True, **request}
    items: list[dict[str, Any]] = []
    while True:
        response = dynamodb.query(**request)
        items += map(_plain, response.get("Items", []))
        if "LastEvaluatedKey" not in response:
            return items
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def _batch_write(requests: list[dict[str, Any]]) -> None:
    dynamodb = client("dynamodb")
    table = _table()
    for start in range(0, len(requests), BATCH_WRITE):
        pending = {table: requests[start : start + BATCH_WRITE]}
        for _ in range(MAX_ATTEMPTS):
            pending = dynamodb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            if not pending:
                break
        else:
            raise RuntimeError("DynamoDB left batch writes unprocessed after retries")


def _history_item(
    user: str, now: datetime, entry_id: str, *, kind: str, payer: str | None, points: int, timestamp: datetime
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "pk": user,
        "sk": HISTORY + sort_key(now, entry_id),
        "id": entry_id,
        "kind": kind,
        "points": points,
        "timestamp": format_timestamp(timestamp),
        "recordedAt": format_timestamp(now),
    }
    if payer is not None:
        item["payer"] = payer
    return item


def _history_entry(item: dict[str, Any]) -> HistoryEntry:
    consumed = item.get("consumed")
    return HistoryEntry(
        id=item["id"],
        kind=item["kind"],
        payer=item.get("payer"),
        points=int(item["points"]),
        timestamp=item["timestamp"],
        recorded_at=item["recordedAt"],
        consumed=[PayerPoints(payer=c["payer"], points=int(c["points"])) for c in consumed] if consumed else None,
    )


def _table() -> str:
    return table_name(POINTS_TABLE)


def _key(user: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": user}, "sk": {"S": sk}}


def _item(values: dict[str, Any]) -> dict[str, Any]:
    return attribute_values.to_item(values)


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    return attribute_values.from_item(item)
