"""Points ledger: what a balance and a spend cost with a long history, against a short one, in the same run.

Two ledgers in one table, each of three payers: a short one (10 transactions) and a long one (10,000
transactions in its history, nine in ten of their lots used up, as a real ledger's would be).
Rounds interleave the two, and each row gives median seconds per request of each, their ratio, and the ratio's
min-max over the rounds. `points_spend_items_read` counts the DynamoDB items each spend reads (the Items its
Query and GetItem calls return): the cost that must not grow with history.

Where: the points function's Lambda handler, called in-process with the events API Gateway sends, against moto's
in-memory DynamoDB (`mock_aws`). moto copies a whole table in each TransactWriteItems unless the embedded stack's
moto patches are installed (embedded_stack.moto_patches, when present): that copy is moto's, not the ledger's.

`python -m bench.points` prints the rows as JSON.
"""

from __future__ import annotations

import json
import logging
import os
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

ROUNDS = 7
CALLS = 20
SHORT, LONG = 10, 10_000
PAYERS = ("DANNON", "UNILEVER", "MILLER COORS")


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

    from embedded_stack.provision import provision
    from lambdas.shared.aws import client

    try:
        from embedded_stack import moto_patches  # type: ignore[attr-defined]

        moto_patches.install()
    except ImportError:  # without the patches every transaction copies the table: both ledgers pay it alike
        pass
    with mock_aws():
        client.cache_clear()
        os.environ |= provision().environment()
        yield
    client.cache_clear()


def _seed(user: str, transactions: int) -> None:
    """The state `transactions` leave: every one in the history, and as open lots, what spends and negatives
    left of them (one lot in ten; the rest used up, so deleted). Written directly in batches: 10,000 requests
    through moto take longer than the measurement."""
    from datetime import UTC, datetime, timedelta

    from lambdas.points import rules, store
    from lambdas.sla_errors.rules import format_timestamp

    start, now = datetime(2020, 1, 1, tzinfo=UTC), datetime.now(UTC)
    items: list[dict[str, Any]] = [{"pk": user, "sk": store.HEAD, "version": transactions}]
    balances = dict.fromkeys(PAYERS, 0)
    for number in range(transactions):
        payer, moment, lot_id = PAYERS[number % len(PAYERS)], start + timedelta(minutes=number), str(uuid.uuid4())
        items.append(
            store._history_item(
                user,
                now + timedelta(microseconds=number),
                lot_id,
                kind="transaction",
                payer=payer,
                points=100,
                timestamp=moment,
            )
        )
        if number % 10 == 9:
            lot = rules.Lot(payer, moment, lot_id, 100)
            balances[payer] += 100
            items.append(
                {
                    "pk": user,
                    "sk": f"{store.LOT}{rules.payer_key(payer)}#{lot.order}",
                    "id": lot_id,
                    "payer": payer,
                    "timestamp": format_timestamp(moment),
                    "remaining": 100,
                }
            )
    items += [
        {
            "pk": user,
            "sk": store.BALANCE + rules.payer_key(payer),
            "payer": payer,
            "firstSeen": str(rank),
            "balance": balance,
        }
        for rank, (payer, balance) in enumerate(balances.items())
    ]
    store._batch_write([{"PutRequest": {"Item": store._item(item)}} for item in items])


def _request(user: str, method: str, path: str, body: Any = None) -> Callable[[], dict[str, Any]]:
    from embedded_stack.events import lambda_context, proxy_event
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


def _seconds(action: Callable[[], Any]) -> float:
    started = time.perf_counter()
    for _ in range(CALLS):
        action()
    return (time.perf_counter() - started) / CALLS


def _row(name: str, unit: str, candidate: list[float], baseline: list[float], note: str) -> dict[str, Any]:
    ratios = [c / b for c, b in zip(candidate, baseline, strict=True)]
    median_candidate, median_baseline = statistics.median(candidate), statistics.median(baseline)
    return {
        "name": name,
        "candidate": median_candidate,
        "baseline": median_baseline,
        "unit": unit,
        "ratio": median_candidate / median_baseline,
        "min": min(ratios),
        "max": max(ratios),
        "note": note,
    }


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

        client("dynamodb").meta.events.register("after-call.dynamodb.*", count)

        def items_per_spend(spend: Callable[[], Any]) -> float:
            before = items_read[0]
            spend()
            return items_read[0] - before

        balance = {user: _request(user, "GET", "/points/balance") for user in (short, long)}
        spend = {user: _request(user, "POST", "/points/spend", {"points": 1}) for user in (short, long)}
        samples: dict[str, list[float]] = {name: [] for name in ("bl", "bs", "sl", "ss", "il", "is")}
        for _ in range(ROUNDS):
            samples["bl"].append(_seconds(balance[long]))
            samples["bs"].append(_seconds(balance[short]))
            samples["sl"].append(_seconds(spend[long]))
            samples["ss"].append(_seconds(spend[short]))
            samples["il"].append(items_per_spend(spend[long]))
            samples["is"].append(items_per_spend(spend[short]))
        client("dynamodb").meta.events.unregister("after-call.dynamodb.*", count)
    where = f"in-process handler, moto mock_aws; {LONG} vs {SHORT} transactions, {ROUNDS} interleaved rounds"
    return [
        _row("points_balance", "s/request", samples["bl"], samples["bs"], f"GET /points/balance; {where}"),
        _row("points_spend", "s/request", samples["sl"], samples["ss"], f"POST /points/spend of 1 point; {where}"),
        _row("points_spend_items_read", "items/spend", samples["il"], samples["is"], f"DynamoDB items read; {where}"),
    ]


if __name__ == "__main__":
    print(json.dumps(run(), indent=1))
