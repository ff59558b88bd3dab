"""moto's endpoint as the functions call it: the stack's (`make run`) against moto's own server as it ships.

The candidate is the moto endpoint of `python -m embedded_stack` (in a scratch directory: its adaptations, its
snapshots every 2 s, its server keeping connections open). The baseline is moto 5.2.5's `ThreadedMotoServer`
(Werkzeug's threaded server, which closes the connection after every answer), with copies of the stack's tenants
and points tables (same keys and indexes). Both run in child processes; this process is the client, as a Lambda
container is: one boto3 client per endpoint, made once, its connections pooled.

- moto_getitem_p50: a GetItem of one tenant as lambdas/tenants stores it (eleven attributes);
- moto_putitem_p50: a conditional PutItem of a new tenant (`attribute_not_exists(pk)`), the table growing alike on
  both sides;
- moto_query_page_p50: a Query answering one page of PAGE such items, from a partition of the stack's points table
  (the catalog's table with a sort key, copied as the tenants table is), as a list route reads.

Medians of REQUESTS calls per round, ROUNDS rounds, the two endpoints interleaved (which goes first alternates).

`python -m bench.moto_server` runs it alone (about a minute and a half).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import boto3

from bench.common import interleaved, python, row
from bench.local_stack import start_stack, stop

ROUNDS = 5
REQUESTS = 300
PAGE = 25
PAGE_PARTITION = {"S": "BENCH#PAGE"}

MOTO_AS_SHIPPED = """
import json, logging, sys
logging.getLogger("werkzeug").setLevel(logging.WARNING)
from moto.moto_server.threaded_moto_server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
host, port = server.get_host_and_port()
print(json.dumps({"endpoint": f"http://{host}:{port}"}), flush=True)
sys.stdin.read()
server.stop()
"""


def dynamodb_at(endpoint: str, region: str) -> Any:
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
    )


def tenant_item() -> dict[str, Any]:
    """A tenant as lambdas.tenants.store writes it."""
    tenant_id, now = str(uuid.uuid4()), "2026-12-06T03:00:00.000000+00:00"
    return {
        "pk": {"S": f"TENANT#{tenant_id}"},
        "id": {"S": tenant_id},
        "name": {"S": "Acme Corporation"},
        "website": {"S": f"{uuid.uuid4().hex}.example"},
        "contactEmail": {"S": "owner@acme.example"},
        "plan": {"S": "free"},
        "owner": {"S": str(uuid.uuid4())},
        "bucket": {"S": "shard#3"},
        "createdAtId": {"S": f"{now}#{tenant_id}"},
        "createdAt": {"S": now},
        "updatedAt": {"S": now},
    }


def copy_table(source: Any, target: Any, table: str) -> None:
    description = source.describe_table(TableName=table)["Table"]
    indexes = [
        {key: index[key] for key in ("IndexName", "KeySchema", "Projection")}
        for index in description.get("GlobalSecondaryIndexes", [])
    ]
    target.create_table(
        TableName=table,
        KeySchema=description["KeySchema"],
        AttributeDefinitions=description["AttributeDefinitions"],
        BillingMode="PAY_PER_REQUEST",
        **({"GlobalSecondaryIndexes": indexes} if indexes else {}),
    )


def fill_a_page(dynamodb: Any, table: str) -> None:
    for number in range(PAGE):
        item = tenant_item() | {"pk": PAGE_PARTITION, "sk": {"S": f"{number:04}"}}
        dynamodb.put_item(TableName=table, Item=item)


def p50_seconds(call: Callable[[], Any]) -> Callable[[], float]:
    def median() -> float:
        seconds = []
        for _ in range(REQUESTS):
            started = time.perf_counter()
            call()
            seconds.append(time.perf_counter() - started)
        return statistics.median(seconds)

    return median


def run() -> list[dict[str, Any]]:
    with ExitStack() as cleanup, tempfile.TemporaryDirectory() as scratch:
        stack, _, outputs = start_stack(Path(scratch))
        cleanup.callback(stop, stack)
        shipped = python("-c", MOTO_AS_SHIPPED, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        cleanup.callback(stop, shipped)
        assert shipped.stdout is not None
        shipped_endpoint = json.loads(shipped.stdout.readline())["endpoint"]

        table, region = outputs["tables"]["tenants"], outputs["region"]
        stack_dynamodb = dynamodb_at(outputs["awsEndpoint"], region)
        shipped_dynamodb = dynamodb_at(shipped_endpoint, region)
        copy_table(stack_dynamodb, shipped_dynamodb, table)
        read = tenant_item()
        key = {"pk": read["pk"]}
        for dynamodb in (stack_dynamodb, shipped_dynamodb):
            dynamodb.put_item(TableName=table, Item=read)

        def get(dynamodb: Any) -> Callable[[], float]:
            return p50_seconds(lambda: dynamodb.get_item(TableName=table, Key=key))

        def put(dynamodb: Any) -> Callable[[], float]:
            return p50_seconds(
                lambda: dynamodb.put_item(
                    TableName=table, Item=tenant_item(), ConditionExpression="attribute_not_exists(pk)"
                )
            )

        paged = outputs["tables"]["points"]
        copy_table(stack_dynamodb, shipped_dynamodb, paged)
        for dynamodb in (stack_dynamodb, shipped_dynamodb):
            fill_a_page(dynamodb, paged)

        def query(dynamodb: Any) -> Callable[[], float]:
            return p50_seconds(
                lambda: dynamodb.query(
                    TableName=paged,
                    KeyConditionExpression="pk = :pk",
                    ExpressionAttributeValues={":pk": PAGE_PARTITION},
                    Limit=PAGE,
                )
            )

        rows = []
        for name, measure, what in (
            ("moto_getitem_p50", get, "GetItem of an 11-attribute tenant"),
            ("moto_putitem_p50", put, "conditional PutItem of a new tenant"),
            ("moto_query_page_p50", query, f"Query answering a page of {PAGE} such items"),
        ):
            measure(stack_dynamodb)()  # warm: connections, moto's first-call imports
            measure(shipped_dynamodb)()
            candidate, baseline = interleaved(measure(stack_dynamodb), measure(shipped_dynamodb), ROUNDS)
            note = f"{what}, boto3 as a function calls it: the stack's moto endpoint / moto's ThreadedMotoServer"
            rows.append(row(name, candidate, baseline, "s/request", note))
        shipped.stdin.close()
        return rows


if __name__ == "__main__":
    from bench.common import table as markdown_table

    print(markdown_table(run()))
