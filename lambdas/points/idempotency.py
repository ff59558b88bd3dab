"""`Idempotency-Key` for the points routes that change a ledger, by Powertools' idempotency utility.

The record's key is a hash of the caller's sub, the operation and the header's value, so two users (or one user's
spend and transaction) never share a key; it starts with `points#<sub>#` (Powertools' `key_prefix`), so that
deleting an account (`forget`) finds its records: a Scan of a table whose records live a day.
The request body is hashed alongside: the same key with another body is
refused (422) instead of answering for a request the caller did not make. A request that failed (a 4xx or a fault)
leaves no record, so it can be retried with the same key; a request still running answers 409.
"""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from lambdas.catalog import POINTS_IDEMPOTENCY_TABLE
from lambdas.shared.aws import client, table_name
from lambdas.shared.errors import Conflict, DomainError, FieldError, InvalidInput

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

HEADER = "Idempotency-Key"
FIELD = f"header.{HEADER}"
MAX_KEY = 255
EXPIRES_AFTER_SECONDS = 24 * 60 * 60


class KeyReused(DomainError):
    status = HTTPStatus.UNPROCESSABLE_ENTITY

    def __init__(self) -> None:
        message = "This Idempotency-Key was already used for a different request: use a new key."
        super().__init__(message, (FieldError(FIELD, message),))


def checked_key(value: str | None) -> str | None:
    """The header's value, if it is 1 to MAX_KEY printable ASCII characters without spaces; else a 400."""
    if value is None:
        return None
    if not 0 < len(value) <= MAX_KEY or not all(33 <= ord(character) <= 126 for character in value):
        raise InvalidInput(FIELD, f"must be 1 to {MAX_KEY} printable ASCII characters without spaces, such as a UUID")
    return value


def once(
    *,
    sub: str,
    operation: str,
    key: str | None,
    request: dict[str, Any],
    context: LambdaContext | None,
    apply: Callable[[], dict[str, Any]],
) -> dict[str, Any]:
    """`apply()`'s answer; with a key, the first answer stored for it, applied once."""
    if key is None:
        return apply()
    # Imported here, by the requests that carry a key: Powertools' DynamoDB persistence layer imports all of boto3,
    # which would otherwise weigh on every cold start of the function (docs/benchmarks.md, "Cold start").
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    config = IdempotencyConfig(
        event_key_jmespath="[sub, operation, key]",
        payload_validation_jmespath="request",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=EXPIRES_AFTER_SECONDS,
        hash_function="sha256",
    )
    if context is not None:
        config.register_lambda_context(context)  # an in-progress record expires with the invocation
    persistence = DynamoDBPersistenceLayer(
        table_name=table_name(POINTS_IDEMPOTENCY_TABLE), boto3_client=client("dynamodb")
    )

    @idempotent_function(
        data_keyword_argument="call", persistence_store=persistence, config=config, key_prefix=key_prefix(sub)
    )
    def points_request(call: dict[str, Any]) -> dict[str, Any]:
        return apply()

    try:
        return points_request(call={"sub": sub, "operation": operation, "key": key, "request": request})
    except IdempotencyValidationError:
        raise KeyReused() from None
    except IdempotencyAlreadyInProgressError:
        raise Conflict(
            FIELD, "A request with this Idempotency-Key is still being processed: try again shortly."
        ) from None


def key_prefix(sub: str) -> str:
    return f"points#{sub}"


def forget(sub: str) -> None:
    """Deletes every idempotency record of `sub`'s requests. A Scan: records are found by their key's prefix only,
    and the table holds a day of keyed requests (they expire after EXPIRES_AFTER_SECONDS)."""
    dynamodb = client("dynamodb")
    table = table_name(POINTS_IDEMPOTENCY_TABLE)
    request: dict[str, Any] = {
        "TableName": table,
        "FilterExpression": "begins_with(id, :prefix)",
        "ExpressionAttributeValues": {":prefix": {"S": f"{key_prefix(sub)}#"}},
        "ProjectionExpression": "id",
        "ConsistentRead": True,
    }
    while True:
        response = dynamodb.scan(**request)
        for item in response.get("Items", []):
            dynamodb.delete_item(TableName=table, Key={"id": item["id"]})
        if "LastEvaluatedKey" not in response:
            return
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
