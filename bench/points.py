"""Points ledger: what a balance and a spend cost with a long history, against a short one, in the same run.

Two ledgers in one table, each of three payers: a short one (10 transactions) and a long one (10,000
transactions in its history, seven in ten of their lots used up, as a real ledger's would be; each payer keeps
open lots in both).
Rounds interleave the two, and each row gives median seconds per request of each, their ratio, and the ratio's
min-max over the rounds. `points_spend_items_read` counts the DynamoDB items each spend reads (the Items its
Query and GetItem calls return): the cost that must not grow with history.

Where: the points function's Lambda handler, called in-process with the events API Gateway sends, against moto's
in-memory DynamoDB (`mock_aws`), with the embedded stack's moto patches installed (moto would otherwise copy the
whole table in each TransactWriteItems and walk it in each Query: costs of moto's, not of the ledger's).

`python -m bench.points` prints the rows as JSON.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from bench.common import interleaved, per_call_seconds, row

CALLS = int(os.environ.get("BENCH_POINTS_CALLS", 20))
SHORT, LONG = 10, 10_000
PAYERS = ("DANNON", "UNILEVER", "MILLER COORS")
LOT_POINTS = 10_000  # no lot is used up by the run's 1-point spends: both ledgers keep every payer throughout


@contextmanager
def _moto() -> Iterator[None]:
    os.environ |= {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
    os.environ.pop("AWS_ENDPOINT_URL", None)
    from moto import mock_aws

    import embedded_stack.moto as adapted_moto
    from embedded_stack.provision import provision
    from lambdas.shared.aws import client

    adapted_moto.install()  # as the embedded stack runs moto: without, every transaction copies the whole table
    with mock_aws():
        client.cache_clear()
        os.environ |= provision().environment()
        yield
    client.cache_clear()


def _seed(user: str, transactions: int) -> None:
    """The state `transactions` leave: every one in the history, and as open lots, what spends and negatives
    left of them (three lots in ten, one of each payer; the rest used up, so deleted). Written directly in
    batches: 10,000 requests through moto take longer than the measurement."""
    from datetime import UTC, datetime, timedelta

    from lambdas.points import keys, rules, store

    start, now = datetime(2020, 1, 1, tzinfo=UTC), datetime.now(UTC)
    items: list[dict[str, Any]] = [{"pk": user, "sk": keys.HEAD, "version": transactions}]
    balances = dict.fromkeys(PAYERS, 0)
    for number in range(transactions):
        payer, moment, lot_id = PAYERS[number % len(PAYERS)], start + timedelta(minutes=number), str(uuid.uuid4())
        recorded_at = now + timedelta(microseconds=number)
        items.append(
            keys.history_item(
                user, recorded_at, lot_id, kind="transaction", payer=payer, points=LOT_POINTS, timestamp=moment
            )
        )
        if number % 10 >= 7:
            balances[payer] += LOT_POINTS
            items.append(keys.lot_item(user, rules.Lot(payer, moment, lot_id, LOT_POINTS)))
    items += [
        keys.balance_item(user, payer, balance, first_seen=str(rank))
        for rank, (payer, balance) in enumerate(balances.items())
    ]
    store.put_items(items)


def _request(user: str, method: str, path: str, body: Any = None) -> Callable[[], dict[str, Any]]:
    from embedded_stack.apigateway.events import lambda_context, proxy_event
    from lambdas.points.handler import lambda_handler

    claims = {"sub": user, "email": f"{user}@example.com", "token_use": "id"}
    event = proxy_event(
        method,
        path,
        resource=path,
        body=json.dumps(body) if body is not None else None,
        headers={"Content-Type": "application/json"},
        claims=claims,
    )

    def call() -> dict[str, Any]:
        response = lambda_handler(event, lambda_context("points"))
        assert response["statusCode"] in (200, 201), response
        return response

    return call


def run() -> list[dict[str, Any]]:
    logging.getLogger().setLevel(logging.WARNING)
    with _moto():
        from lambdas.shared.aws import client

        short, long = str(uuid.uuid4()), str(uuid.uuid4())
        _seed(short, SHORT)
        _seed(long, LONG)
        # Enough points to spend 1 point per call through every round.
        for user in (short, long):
            top_up = {"payer": "TOP UP", "points": 1_000_000, "timestamp": "2030-01-01T00:00:00Z"}
            _request(user, "POST", "/points/transactions", top_up)()

        items_read = [0]

        def count(parsed: dict[str, Any], **_: Any) -> None:
            items_read[0] += len(parsed.get("Items", ())) + ("Item" in parsed)

        def items_per_spend(spend: Callable[[], Any]) -> Callable[[], float]:
            def one() -> float:
                before = items_read[0]
                spend()
                return items_read[0] - before

            return one

        client("dynamodb").meta.events.register("after-call.dynamodb.*", count)
        balance = {user: _request(user, "GET", "/points/balance") for user in (short, long)}
        spend = {user: _request(user, "POST", "/points/spend", {"points": 1}) for user in (short, long)}
        balances = interleaved(
            lambda: per_call_seconds(balance[long], CALLS), lambda: per_call_seconds(balance[short], CALLS)
        )
        spends = interleaved(
            lambda: per_call_seconds(spend[long], CALLS), lambda: per_call_seconds(spend[short], CALLS)
        )
        reads = interleaved(items_per_spend(spend[long]), items_per_spend(spend[short]))
        client("dynamodb").meta.events.unregister("after-call.dynamodb.*", count)
    where = f"in-process handler, moto mock_aws; {LONG} vs {SHORT} transactions, interleaved rounds"
    return [
        row("points_balance", *balances, "s/request", f"GET /points/balance; {where}"),
        row("points_spend", *spends, "s/request", f"POST /points/spend of 1 point; {where}"),
        row("points_spend_items_read", *reads, "items/spend", f"DynamoDB items read per spend; {where}"),
    ]


if __name__ == "__main__":
    print(json.dumps(run(), indent=1))
