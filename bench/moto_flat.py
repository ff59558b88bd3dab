"""Flat under load: moto's DynamoDB over 10,000 TransactWriteItems on one table, as `make run` serves it.

The stack runs in a child process with `make run`'s settings (moto adapted by embedded_stack.moto, state
snapshots every 2 s into a temporary directory); this process sends the tenants store's transaction (two
conditional puts) to its moto endpoint, one at a time over a kept-alive connection, and reads the child's RSS
from /proc. The baseline is the same child and load a moment earlier: the first 1,000 transactions' median
against the last 1,000's, RSS before the first transaction against after the last. The min-max of the latency
ratio is over the ten blocks of 1,000 (each block's median against the first's).

A second row runs moto as it ships (its ThreadedMotoServer, no adaptation) for 1,000 transactions, the same
measurements on a tenth of the load, to show what the adaptation removes.

`python -m bench.moto_flat` (about 2 minutes on 2 cores).
"""

from __future__ import annotations

import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

TRANSACTIONS = 10_000
BLOCK = 1_000
UNPATCHED_TRANSACTIONS = 1_000
UNPATCHED_BLOCK = 100

ADAPTED_STACK = """
import json, logging, sys
logging.getLogger("werkzeug").setLevel(logging.WARNING)  # as `make run` sets it
from pathlib import Path
from embedded_stack.stack import EmbeddedStack, StackSettings
settings = StackSettings(api_port=0, aws_port=0, outputs_file=None, reload=False, state_dir=Path(sys.argv[1]))
stack = EmbeddedStack(settings).start()
print(json.dumps({"endpoint": stack.outputs["awsEndpoint"], "table": stack.outputs["tables"]["tenants"]}), flush=True)
sys.stdin.read()
stack.stop()
"""
MOTO_AS_SHIPPED = """
import json, logging, sys
logging.getLogger("werkzeug").setLevel(logging.WARNING)
import boto3
from moto.moto_server.threaded_moto_server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
host, port = server.get_host_and_port()
endpoint = f"http://{host}:{port}"
dynamodb = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="bench", aws_secret_access_key="bench")
dynamodb.create_table(TableName="tenants", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                      AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                      BillingMode="PAY_PER_REQUEST")
print(json.dumps({"endpoint": endpoint, "table": "tenants"}), flush=True)
sys.stdin.read()
server.stop()
"""


def rss_megabytes(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def tenant_transaction(table: str) -> list[dict[str, Any]]:
    """What lambdas.tenants.store writes for one create: the tenant and its website reservation."""
    tenant_id, website = str(uuid.uuid4()), f"{uuid.uuid4().hex}.example"
    free = "attribute_not_exists(pk)"
    tenant = {
        "pk": {"S": f"TENANT#{tenant_id}"},
        "id": {"S": tenant_id},
        "name": {"S": "Bench"},
        "website": {"S": website},
        "contactEmail": {"S": "ops@bench.example"},
        "plan": {"S": "free"},
        "createdAt": {"S": "2026-11-30T00:00:00.000Z"},
        "updatedAt": {"S": "2026-11-30T00:00:00.000Z"},
    }
    reservation = {"pk": {"S": f"WEBSITE#{website}"}, "tenantId": {"S": tenant_id}}
    return [
        {"Put": {"TableName": table, "Item": tenant, "ConditionExpression": free}},
        {"Put": {"TableName": table, "Item": reservation, "ConditionExpression": free}},
    ]


def measure(program: str, transactions: int, block: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as state_dir:
        child = subprocess.Popen(
            [sys.executable, "-c", program, state_dir], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        try:
            assert child.stdout is not None and child.stdin is not None
            started = json.loads(child.stdout.readline())
            dynamodb = boto3.client(
                "dynamodb",
                endpoint_url=started["endpoint"],
                region_name="us-east-1",
                aws_access_key_id="bench",
                aws_secret_access_key="bench",
                config=Config(retries={"max_attempts": 1}),
            )
            rss_before = rss_megabytes(child.pid)
            seconds = []
            for _ in range(transactions):
                items = tenant_transaction(started["table"])
                began = time.perf_counter()
                dynamodb.transact_write_items(TransactItems=items)
                seconds.append(time.perf_counter() - began)
            rss_after = rss_megabytes(child.pid)
            child.stdin.close()
            # The adapted stack writes its last snapshot and exits; moto's ThreadedMotoServer may never stop, and
            # everything is measured by now.
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=60)
        finally:
            child.kill()
    medians = [statistics.median(seconds[start : start + block]) for start in range(0, transactions, block)]
    return {"rss_before": rss_before, "rss_after": rss_after, "medians": medians}


def rows(name: str, measured: dict[str, Any], transactions: int, block: int) -> list[dict[str, Any]]:
    medians = measured["medians"]
    block_ratios = [median / medians[0] for median in medians]
    growth = measured["rss_after"] - measured["rss_before"]
    return [
        {
            "name": f"{name}_latency",
            "candidate": medians[-1],
            "baseline": medians[0],
            "unit": "s/transaction",
            "ratio": medians[-1] / medians[0],
            "ratio_min": min(block_ratios),
            "ratio_max": max(block_ratios),
            "candidate_min": medians[-1],
            "candidate_max": medians[-1],
            "baseline_min": medians[0],
            "baseline_max": medians[0],
            "rounds": len(medians),
            "note": f"median of the last {block} of {transactions} TransactWriteItems / of the first {block}",
        },
        {
            "name": f"{name}_rss",
            "candidate": measured["rss_after"],
            "baseline": measured["rss_before"],
            "unit": "MB",
            "ratio": measured["rss_after"] / measured["rss_before"],
            "ratio_min": measured["rss_after"] / measured["rss_before"],
            "ratio_max": measured["rss_after"] / measured["rss_before"],
            "candidate_min": measured["rss_after"],
            "candidate_max": measured["rss_after"],
            "baseline_min": measured["rss_before"],
            "baseline_max": measured["rss_before"],
            "rounds": 1,
            "note": f"RSS after {transactions} transactions / before: +{growth:.1f} MB",
        },
    ]


def adapted() -> list[dict[str, Any]]:
    return rows("moto_flat", measure(ADAPTED_STACK, TRANSACTIONS, BLOCK), TRANSACTIONS, BLOCK)


def as_shipped() -> list[dict[str, Any]]:
    shipped = measure(MOTO_AS_SHIPPED, UNPATCHED_TRANSACTIONS, UNPATCHED_BLOCK)
    return rows("moto_as_shipped", shipped, UNPATCHED_TRANSACTIONS, UNPATCHED_BLOCK)


def run() -> list[dict[str, Any]]:
    return adapted() + as_shipped()


if __name__ == "__main__":
    for part in (adapted, as_shipped):
        for row in part():
            print(
                f"{row['name']}: {row['candidate']:.4g} / {row['baseline']:.4g} {row['unit']} = {row['ratio']:.2f}x "
                f"(min {row['ratio_min']:.2f}x, max {row['ratio_max']:.2f}x) - {row['note']}",
                flush=True,
            )
