"""The `chalice local` baseline of bench/local_stack.py: the same two routes as the embedded stack's, in the
shortest code Chalice allows. `/health`, and one DynamoDB GetItem per request on the stack's own tenants table
(in the same moto server, whose endpoint and table name come from the environment)."""

from __future__ import annotations

import os
from typing import Any

import boto3
from chalice import Chalice, NotFoundError

app = Chalice(app_name="chalice-baseline")
dynamodb = boto3.client("dynamodb")


@app.route("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.route("/tenants/{tenant_id}")
def tenant(tenant_id: str) -> dict[str, Any]:
    response = dynamodb.get_item(
        TableName=os.environ["TENANTS_TABLE"], Key={"pk": {"S": f"TENANT#{tenant_id}"}}, ConsistentRead=True
    )
    if "Item" not in response:
        raise NotFoundError("no such tenant")
    return {name: next(iter(value.values())) for name, value in response["Item"].items()}
