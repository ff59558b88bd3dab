"""Tenants in DynamoDB.

One table, two kinds of item: ``TENANT#<id>`` holds the tenant; ``WEBSITE#<domain>`` reserves its website.
A create writes both in one TransactWriteItems, each put conditional on its key being free, so the id and the
website are both unique without a read first, and a failed create writes nothing. The cancellation reasons say
which condition failed: the website item means 409, the tenant item means the random id collided, and the
create tries again with a new id. It also tries again on a TransactionConflict (another create of the same website
in flight at the same moment, which botocore does not retry): the next attempt sees that create's outcome.

Who sees what: a tenant item carries its `owner` (the creator's Cognito sub). Lists never Scan: a caller's own
tenants are a Query on the `byOwner` index, every tenant (for admins) a Query on `byCreatedAt`, whose partition
is one constant `bucket` (tenants are created rarely, far below a partition's write limit). Both sort on
`createdAtId` (lambdas.shared.sort_keys), newest first. Only tenant items carry `owner`, `bucket` and
`createdAtId`, so website reservations never appear in a list. Index reads are eventually consistent: a tenant
may reach a list a moment after its POST answers; GET by id reads the table, consistently.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from lambdas.catalog import TENANTS_TABLE
from lambdas.shared import attribute_values
from lambdas.shared.aws import client, table_name
from lambdas.shared.errors import Conflict
from lambdas.shared.pagination import Page, query_page
from lambdas.shared.sort_keys import sort_key
from lambdas.shared.timestamps import format_timestamp
from lambdas.tenants.models import NewTenant, Tenant

MAX_ATTEMPTS = 3
ALL = "all"  # the byCreatedAt partition every tenant is in
BY_OWNER = "byOwner"
BY_CREATED_AT = "byCreatedAt"
WEBSITE_TAKEN = "A tenant with this website already exists: each website belongs to one tenant."
_KEY_FREE = "attribute_not_exists(pk)"
_TENANT_FIELDS = frozenset(Tenant.model_fields[name].alias or name for name in Tenant.model_fields)


class _TryAgain(Exception):
    """The transaction wrote nothing, and another attempt may succeed: the id was taken, or it lost a race."""


def create_tenant(new: NewTenant, owner: str, new_id: Callable[[], str] = lambda: str(uuid4())) -> Tenant:
    for _ in range(MAX_ATTEMPTS):
        tenant = Tenant(id=new_id(), owner=owner, **new.model_dump())
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
    return _tenant(response["Item"]) if "Item" in response else None


def list_page(owner: str | None, limit: int, after: str | None = None) -> Page[Tenant]:
    """Up to `limit` tenants of `owner` (of everyone when None), newest first, continuing after sort key `after`."""
    index, partition_key, partition = (
        (BY_OWNER, "owner", owner) if owner is not None else (BY_CREATED_AT, "bucket", ALL)
    )
    request: dict[str, Any] = {
        "TableName": table_name(TENANTS_TABLE),
        "IndexName": index,
        "KeyConditionExpression": "#partition = :partition",
        "ExpressionAttributeNames": {"#partition": partition_key},
        "ExpressionAttributeValues": {":partition": {"S": partition}},
        "ScanIndexForward": False,
    }
    if after is not None:
        request["ExclusiveStartKey"] = {
            "pk": {"S": f"TENANT#{after.split('#', 1)[1]}"},
            partition_key: {"S": partition},
            "createdAtId": {"S": after},
        }
    page = query_page(request, limit, lambda item: item["createdAtId"]["S"])
    return Page([_tenant(item) for item in page.items], page.last_sort_key)


def delete_everything_owned_by(owner: str) -> None:
    """DELETE /me (lambdas/accounts): every tenant of `owner` and its website reservation, each pair in one
    transaction (a reservation is deleted only while it still names that tenant). Idempotent."""
    dynamodb = client("dynamodb")
    table = table_name(TENANTS_TABLE)
    request: dict[str, Any] = {
        "TableName": table,
        "IndexName": BY_OWNER,
        "KeyConditionExpression": "#owner = :owner",
        "ExpressionAttributeNames": {"#owner": "owner"},
        "ExpressionAttributeValues": {":owner": {"S": owner}},
    }
    while True:
        response = dynamodb.query(**request)
        for tenant in map(_tenant, response.get("Items", [])):
            dynamodb.transact_write_items(
                TransactItems=[
                    {"Delete": {"TableName": table, "Key": _key(f"TENANT#{tenant.id}")}},
                    {
                        "Delete": {
                            "TableName": table,
                            "Key": _key(f"WEBSITE#{tenant.website}"),
                            "ConditionExpression": "attribute_not_exists(pk) OR tenantId = :id",
                            "ExpressionAttributeValues": {":id": {"S": tenant.id}},
                        }
                    },
                ]
            )
        if "LastEvaluatedKey" not in response:
            return
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def _insert(tenant: Tenant) -> None:
    now = datetime.now(UTC)
    tenant_item = {
        "pk": f"TENANT#{tenant.id}",
        **tenant.to_json(),
        "bucket": ALL,
        "createdAtId": sort_key(now, tenant.id),
        "createdAt": format_timestamp(now),
        "updatedAt": format_timestamp(now),
    }
    website_item = {"pk": f"WEBSITE#{tenant.website}", "tenantId": tenant.id, "createdAt": format_timestamp(now)}
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
            # The same answer for everyone, owner or not: that the website is taken, never by which tenant.
            raise Conflict("body.website", "is already registered to a tenant", WEBSITE_TAKEN) from error
        if tenant_reason == "ConditionalCheckFailed" or "TransactionConflict" in (tenant_reason, website_reason):
            raise _TryAgain from error
        raise


def _tenant(item: dict[str, Any]) -> Tenant:
    values = attribute_values.from_item(item)
    return Tenant.model_validate({name: value for name, value in values.items() if name in _TENANT_FIELDS})


def _key(pk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}}


def _item(values: dict[str, Any]) -> dict[str, Any]:
    return attribute_values.to_item(values)
