"""Tenants in DynamoDB.

One table, two kinds of item: ``TENANT#<id>`` holds the tenant; ``WEBSITE#<domain>`` reserves its website.
A create writes both in one TransactWriteItems, each put conditional on its key being free, so the id and the
website are both unique without a read first, and a failed create writes nothing. The cancellation reasons say
which condition failed: the website item means 409, the tenant item means the random id collided, and the
create tries again with a new id. It also tries again on a TransactionConflict (another create of the same website
in flight at the same moment, which botocore does not retry): the next attempt sees that create's outcome.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from lambdas.catalog import TENANTS_TABLE
from lambdas.shared.aws import client, table_name
from lambdas.shared.errors import Conflict
from lambdas.tenants.models import NewTenant, Tenant

MAX_ATTEMPTS = 3
_KEY_FREE = "attribute_not_exists(pk)"
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


class _TryAgain(Exception):
    """The transaction wrote nothing, and another attempt may succeed: the id was taken, or it lost a race."""


def create_tenant(new: NewTenant, new_id: Callable[[], str] = lambda: str(uuid4())) -> Tenant:
    for _ in range(MAX_ATTEMPTS):
        tenant = Tenant(id=new_id(), **new.model_dump())
        try:
            _insert(tenant)
        except _TryAgain:
            continue
        return tenant
    raise RuntimeError(f"no tenant written after {MAX_ATTEMPTS} attempts: ids taken or transactions in conflict")


def get_tenant(tenant_id: str) -> Tenant | None:
    response = client("dynamodb").get_item(
        TableName=table_name(TENANTS_TABLE), Key=_key(f"TENANT#{tenant_id}"), ConsistentRead=True
    )
    if "Item" not in response:
        return None
    item = {name: _deserializer.deserialize(value) for name, value in response["Item"].items()}
    return Tenant.model_validate(item)


def _insert(tenant: Tenant) -> None:
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    tenant_item = {"pk": f"TENANT#{tenant.id}", **tenant.to_json(), "createdAt": now, "updatedAt": now}
    website_item = {"pk": f"WEBSITE#{tenant.website}", "tenantId": tenant.id, "createdAt": now}
    dynamodb = client("dynamodb")
    table = table_name(TENANTS_TABLE)
    try:
        dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": _item(tenant_item), "ConditionExpression": _KEY_FREE}},
                {"Put": {"TableName": table, "Item": _item(website_item), "ConditionExpression": _KEY_FREE}},
            ]
        )
    except dynamodb.exceptions.TransactionCanceledException as error:
        tenant_reason, website_reason = (
            reason.get("Code") for reason in error.response.get("CancellationReasons", [{}, {}])
        )
        if website_reason == "ConditionalCheckFailed":
            raise Conflict("website", f"{tenant.website} is already registered by another tenant") from error
        if tenant_reason == "ConditionalCheckFailed" or "TransactionConflict" in (tenant_reason, website_reason):
            raise _TryAgain from error
        raise


def _key(pk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}}


def _item(values: dict[str, Any]) -> dict[str, Any]:
    return {name: _serializer.serialize(value) for name, value in values.items()}
