"""File SLA breach records in DynamoDB (catalog.SLA_ERRORS_TABLE).

Visibility: every authenticated caller reads every record. A breach concerns a file, and whoever acts on it
(operations, the file's owner) is rarely who reported it: often a monitor with its own account. `reportedBy`
keeps who reported it, for audit. Were records ever to be private, the `bucket` key would become the reporter's
sub (and byFileName's key `<sub>#<fileName>`), so that every list stays one Query.

Items: key `id`; `bucket` (one constant value) and `fileName` are the partition keys of the byExpectedAt and
byFileName indexes, `expectedAtId` (shared.sort_keys) their sort key. Lists read an index, newest expectedAt first,
never Scan. Index reads are eventually consistent: a record may reach a list a moment after its POST answers;
GET by id reads the table, consistently.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import uuid4

from lambdas.catalog import SLA_ERRORS_TABLE
from lambdas.shared import attribute_values
from lambdas.shared.aws import client, table_name
from lambdas.shared.pagination import Page, query_page
from lambdas.shared.sort_keys import sort_key
from lambdas.shared.timestamps import format_timestamp
from lambdas.sla_errors import rules
from lambdas.sla_errors.models import NewSlaError, SlaError

ALL = "all"  # the byExpectedAt partition every record is in
BY_EXPECTED_AT = "byExpectedAt"
BY_FILE_NAME = "byFileName"
MAX_ID_ATTEMPTS = 3
_RECORD_FIELDS = frozenset(SlaError.model_fields[name].alias or name for name in SlaError.model_fields)


def record(
    new: NewSlaError, reporter: str, now: datetime, new_id: Callable[[], str] = lambda: str(uuid4())
) -> SlaError:
    delay = rules.delay_minutes(new.expected_at, new.received_at, now)
    dynamodb = client("dynamodb")
    for _ in range(MAX_ID_ATTEMPTS):
        sla_error = SlaError(
            id=new_id(),
            file_name=new.file_name,
            expected_at=format_timestamp(new.expected_at),
            received_at=format_timestamp(new.received_at) if new.received_at else None,
            severity=new.severity,
            message=new.message,
            source=new.source,
            delay_minutes=delay,
            reported_by=reporter,
            reported_at=format_timestamp(now),
        )
        item = {
            **{name: value for name, value in sla_error.to_json().items() if value is not None},
            "bucket": ALL,
            "expectedAtId": sort_key(new.expected_at, sla_error.id),
        }
        try:
            dynamodb.put_item(
                TableName=table_name(SLA_ERRORS_TABLE),
                Item=attribute_values.to_item(item),
                ConditionExpression="attribute_not_exists(id)",
            )
        except dynamodb.exceptions.ConditionalCheckFailedException:
            continue  # the random id is taken: draw another
        return sla_error
    raise RuntimeError(f"no free SLA error id after {MAX_ID_ATTEMPTS} attempts")


def delete_everything_owned_by(reporter: str) -> None:
    """DELETE /me (lambdas/accounts): every record `reporter` filed. A Query of the one byExpectedAt partition,
    filtered on `reportedBy`: it reads every record (breaches are rare), and needs no index of its own."""
    dynamodb = client("dynamodb")
    table = table_name(SLA_ERRORS_TABLE)
    request: dict[str, Any] = {
        "TableName": table,
        "IndexName": BY_EXPECTED_AT,
        "KeyConditionExpression": "#bucket = :all",
        "FilterExpression": "reportedBy = :reporter",
        "ExpressionAttributeNames": {"#bucket": "bucket"},
        "ExpressionAttributeValues": {":all": {"S": ALL}, ":reporter": {"S": reporter}},
        "ProjectionExpression": "id",
    }
    while True:
        response = dynamodb.query(**request)
        for item in response.get("Items", []):
            dynamodb.delete_item(TableName=table, Key={"id": item["id"]})
        if "LastEvaluatedKey" not in response:
            return
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def get(record_id: str) -> SlaError | None:
    response = client("dynamodb").get_item(
        TableName=table_name(SLA_ERRORS_TABLE), Key={"id": {"S": record_id}}, ConsistentRead=True
    )
    return _record(response["Item"]) if "Item" in response else None


def list_page(window: rules.Window, limit: int, after: str | None = None) -> Page[SlaError]:
    """Up to `limit` records due in `window`, newest first, continuing after sort key `after`."""
    if window.file_name is not None:
        index, partition_key, partition = BY_FILE_NAME, "fileName", window.file_name
    else:
        index, partition_key, partition = BY_EXPECTED_AT, "bucket", ALL
    condition = "#partition = :partition"
    values: dict[str, Any] = {":partition": {"S": partition}}
    low, high = window.sort_key_range()
    if low is not None and high is not None:
        condition += " AND expectedAtId BETWEEN :low AND :high"
    elif low is not None:
        condition += " AND expectedAtId >= :low"
    elif high is not None:
        condition += " AND expectedAtId <= :high"
    values |= {name: {"S": value} for name, value in ((":low", low), (":high", high)) if value is not None}
    request: dict[str, Any] = {
        "TableName": table_name(SLA_ERRORS_TABLE),
        "IndexName": index,
        "KeyConditionExpression": condition,
        "ExpressionAttributeNames": {"#partition": partition_key},
        "ExpressionAttributeValues": values,
        "ScanIndexForward": False,
    }
    if after is not None:
        record_id = after.split("#", 1)[1]
        request["ExclusiveStartKey"] = {
            "id": {"S": record_id},
            partition_key: {"S": partition},
            "expectedAtId": {"S": after},
        }
    page = query_page(request, limit, lambda item: item["expectedAtId"]["S"])
    return Page([_record(item) for item in page.items], page.last_sort_key)


def _record(item: dict[str, Any]) -> SlaError:
    values = attribute_values.from_item(item)
    fields = {name: value for name, value in values.items() if name in _RECORD_FIELDS}
    fields.setdefault("receivedAt", None)
    fields.setdefault("message", None)
    fields.setdefault("source", None)
    return SlaError.model_validate(fields)
