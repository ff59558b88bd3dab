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

Contention (`contention()`): CONTENDERS concurrent POST /points/spend on one ledger, every one of which the points
allow, against the same number spread over as many ledgers, one each, through the embedded stack as `make run`
starts it (functions in their containers, over HTTP). Rows: the p50 and p99 latency of each burst, and the count
of each answer in the note: on one ledger every spend but one per round of commits loses a race and retries
after a backoff (lambdas/points/ledger.py), on many ledgers none does.

`python -m bench.points [history|contention]` prints the rows as JSON (default: both).
"""

from __future__ import annotations

import json
import logging
import os
import statistics
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import requests

from bench.common import interleaved, per_call_seconds, row

CALLS = int(os.environ.get("BENCH_POINTS_CALLS", 20))
SHORT, LONG = 10, 10_000
PAYERS = ("DANNON", "UNILEVER", "MILLER COORS")
LOT_POINTS = 10_000  # no lot is used up by the run's 1-point spends: both ledgers keep every payer throughout
CONTENDERS = int(os.environ.get("BENCH_POINTS_CONTENDERS", 50))
SPEND = 100


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
    return history() + contention()


def history() -> list[dict[str, Any]]:
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


class _Burst:
    """One burst of concurrent spends: each one's seconds and status code."""

    def __init__(self) -> None:
        self.seconds: list[float] = []
        self.answers: Counter[int] = Counter()

    def p(self, percentile: int) -> float:
        return statistics.quantiles(self.seconds, n=100, method="inclusive")[percentile - 1]


def _burst(api: str, spenders: list[str]) -> _Burst:
    """Tops up each spender's ledger with SPEND points for each of its spends, then sends every spend at once."""
    for token in set(spenders):
        top_up = {"payer": "BENCH", "points": SPEND * spenders.count(token), "timestamp": "2020-01-01T00:00:00Z"}
        response = requests.post(f"{api}/points/transactions", json=top_up, headers={"Authorization": token})
        response.raise_for_status()
    start = threading.Barrier(len(spenders))
    burst = _Burst()

    def spend(token: str) -> tuple[float, int]:
        session = requests.Session()
        start.wait()
        began = time.perf_counter()
        status = session.post(
            f"{api}/points/spend", json={"points": SPEND}, headers={"Authorization": token}
        ).status_code
        return time.perf_counter() - began, status

    with ThreadPoolExecutor(max_workers=len(spenders)) as pool:
        for seconds, status in pool.map(spend, spenders):
            burst.seconds.append(seconds)
            burst.answers[status] += 1
    return burst


def contention() -> list[dict[str, Any]]:
    from bench.servers import embedded_stack
    from bench.stack import signed_in

    with embedded_stack() as (outputs, _):
        api = outputs["apiUrl"]
        with requests.Session() as session:
            tokens = [signed_in(session, api) for _ in range(CONTENDERS)]
        one_ledger, many_ledgers = [tokens[0]] * CONTENDERS, tokens
        _burst(api, many_ledgers)  # warms every container the bursts will use: cold starts are not the question
        one, many = interleaved(lambda: _burst(api, one_ledger), lambda: _burst(api, many_ledgers))
        bursts: dict[str, list[_Burst]] = {"one": one, "many": many}

    def answers(side: str) -> str:
        total = sum((burst.answers for burst in bursts[side]), Counter[int]())
        return ", ".join(f"{count} x {status}" for status, count in sorted(total.items()))

    where = (
        f"{CONTENDERS} concurrent POST /points/spend of {SPEND} (all affordable), through `make run`'s stack; "
        f"one ledger: {answers('one')} / one ledger each: {answers('many')}"
    )
    return [
        row(
            f"points_contention_p{percentile}",
            [burst.p(percentile) for burst in bursts["one"]],
            [burst.p(percentile) for burst in bursts["many"]],
            "s",
            f"p{percentile} of {where}",
        )
        for percentile in (50, 99)
    ]


if __name__ == "__main__":
    parts = {"history": history, "contention": contention}
    print(json.dumps([r for name in (sys.argv[1:] or parts) for r in parts[name]()], indent=1))
