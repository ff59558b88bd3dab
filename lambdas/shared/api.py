"""The REST resolver every function uses, and the one mapping from errors to HTTP responses.

Every error body has the same shape: ``{"message": ..., "requestId": ..., "errors": [{"field", "message"}]}``
(``errors`` only where a field is at fault; at most MAX_ERRORS of them, with ``errorsNotShown`` counting the rest).
The request id is API Gateway's, so a caller can quote it and an operator can find the request in the access log
and in the function's JSON log. No error quotes what the caller sent: field names come from the operation's
schema (never from the keys of a body), and pydantic's messages are used only for the error types whose text is
made from the schema alone.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping, Sequence
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.utilities.typing import LambdaContext

from lambdas.catalog import AUTHORIZER_NAME, cors
from lambdas.shared import request_checks
from lambdas.shared.errors import INVALID_REQUEST, DomainError, FieldError

logger = Logger()

MAX_ERRORS = 20
NOT_FOUND = "No resource was found at this path."
INTERNAL_ERROR = "The request failed because of an internal error: quote the requestId when reporting it."

_PYDANTIC_PREFIXES = ("Value error, ", "Assertion failed, ")
# A location part that may name a field: anything else in a location came from the request (e.g. a dict key).
_SAFE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$")
# pydantic error types whose `msg` is made from the schema alone (never from the input), as pydantic words it.
_SCHEMA_MESSAGES = frozenset(
    {
        "missing", "string_type", "string_too_short", "string_too_long", "string_pattern_mismatch", "literal_error",
        "enum", "int_type", "int_parsing", "int_from_float", "bool_type", "bool_parsing", "greater_than",
        "greater_than_equal", "less_than", "less_than_equal", "too_short", "too_long", "list_type", "none_required",
        "multiple_of",
    }
)  # fmt: skip
_OUR_MESSAGES = {
    "extra_forbidden": "is not an allowed field",
    "model_type": "must be a JSON object",
    "model_attributes_type": "must be a JSON object",
    "dict_type": "must be a JSON object",
    "uuid_type": "must be a UUID",
    "uuid_parsing": "must be a UUID",
    "json_invalid": "is not valid JSON",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
}


ERROR_SCHEMA_REF = "#/components/schemas/Error"


def responses(success: int, description: str, errors: Mapping[int, str]) -> dict[int, Any]:
    """A route's `responses=`: its success (content from its return type) and the errors only it answers, with
    the shared error schema. The OpenAPI document adds the errors every route may answer (lambdas/platform/openapi)."""
    error = {"application/json": {"schema": {"$ref": ERROR_SCHEMA_REF}}}
    return {success: {"description": description}} | {
        status: {"description": why, "content": error} for status, why in errors.items()
    }


def resolver() -> APIGatewayRestResolver:
    # debug=False whatever POWERTOOLS_DEV says: debug mode prints every event, passwords and tokens included.
    app = APIGatewayRestResolver(
        enable_validation=True, debug=False, json_body_deserializer=request_checks.parse_json_body
    )
    app.configure_openapi(
        title="serverless-platform API",
        security_schemes={
            AUTHORIZER_NAME: {  # type: ignore[dict-item]
                "type": "apiKey",
                "name": "Authorization",
                "in": "header",
                "description": "A Cognito ID token from POST /auth/login, as `Bearer <token>`.",
            }
        },
    )

    def error(
        status: HTTPStatus, message: str, errors: Sequence[FieldError] = (), headers: Mapping[str, str] | None = None
    ) -> Response:
        return Response(
            status_code=status,
            content_type=content_types.APPLICATION_JSON,
            body=error_body(message, app.current_event.request_context.request_id or "", errors),
            headers=dict(headers or {}),
        )

    @app.exception_handler(RequestValidationError)
    def invalid_request(exc: RequestValidationError) -> Response:
        return error(HTTPStatus.BAD_REQUEST, INVALID_REQUEST, validation_errors(exc.errors()))

    @app.exception_handler(DomainError)
    def domain_error(exc: DomainError) -> Response:
        return error(exc.status, exc.message, exc.errors, exc.headers)

    @app.not_found
    def not_found(_: NotFoundError) -> Response:
        return error(HTTPStatus.NOT_FOUND, NOT_FOUND)

    @app.exception_handler(Exception)
    def internal_error(_: Exception) -> Response:
        logger.exception("unhandled error")
        return error(HTTPStatus.INTERNAL_SERVER_ERROR, INTERNAL_ERROR)

    return app


def error_body(message: str, request_id: str, errors: Sequence[FieldError] = ()) -> dict[str, Any]:
    body: dict[str, Any] = {"message": message, "requestId": request_id}
    if errors:
        body["errors"] = [{"field": e.field, "message": e.message} for e in errors[:MAX_ERRORS]]
        if len(errors) > MAX_ERRORS:
            body["errorsNotShown"] = len(errors) - MAX_ERRORS
    return body


def lambda_handler_for(
    app: APIGatewayRestResolver, logger: Logger
) -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    """The Lambda entry point of a function that serves `app`, with the request id as the log's correlation id.

    Each request passes `request_checks` (media type, encoding, JSON limits, unknown fields, repeated query
    parameters) before the resolver validates it. `log_event=False` holds even if POWERTOOLS_LOGGER_LOG_EVENT is
    set: an event carries the caller's ID token in its `Authorization` header, and bodies carry passwords and tokens.
    """
    operations = request_checks.OperationIndex(app)

    @logger.inject_lambda_context(log_event=False)
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        # Looked up, not given as `correlation_id_path`: Powertools evaluates that JMESPath expression on every
        # invocation, which costs more than the rest of the decorator.
        logger.set_correlation_id((event.get("requestContext") or {}).get("requestId"))
        refused = _refusal(event, operations)
        return with_cors_headers(event, refused if refused is not None else app.resolve(event, context))

    return lambda_handler


# --- CORS (the edge's hook; lambdas/catalog/cors.py) -------------------------------------------------------------
def with_cors_headers(event: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
    """Adds the CORS headers an allowed `Origin` gets to any answer, errors included. Powertools' CORSConfig takes
    exact origins only, not `http://localhost:*`."""
    origin = next((v for k, v in (event.get("headers") or {}).items() if k.lower() == "origin"), None)
    if origin is None:  # not a browser's cross-origin call: nothing to add, and no need to read the allowed list
        return result
    added = cors.response_headers(origin, cors.from_environment(os.environ))
    if added:
        headers = result.setdefault("multiValueHeaders", {})
        for name, value in added.items():
            headers[name] = [*headers.get(name, []), value] if name == "Vary" else [value]
    return result


def _refusal(event: dict[str, Any], operations: request_checks.OperationIndex) -> dict[str, Any] | None:
    if not event.get("body") and not event.get("multiValueQueryStringParameters"):
        request_checks.parsed.text = None
        return None
    operation = operations.get(str(event.get("httpMethod", "")), str(event.get("resource", "")))
    if operation is None:
        return None  # no such route: the resolver answers
    try:
        request_checks.check(event, operation)
    except DomainError as refused:
        request_id = str((event.get("requestContext") or {}).get("requestId") or "")
        return {
            "statusCode": int(refused.status),
            "headers": {"Content-Type": content_types.APPLICATION_JSON},
            "body": json.dumps(error_body(refused.message, request_id, refused.errors), separators=(",", ":")),
            "isBase64Encoded": False,
        }
    return None


def validation_errors(errors: Sequence[Any]) -> list[FieldError]:
    """Pydantic's errors as `location.field: why`, e.g. ``body.website``, ``query.limit``."""
    result = []
    for err in errors:
        kind = str(err.get("type", ""))
        location = [part for part in err.get("loc", ()) if part != "__root__"]
        if kind == "extra_forbidden" and location:
            location = location[:-1]  # the last part is the caller's key
        field = ".".join(
            str(part) if isinstance(part, int) or _SAFE_NAME.match(str(part)) else "*" for part in location
        )
        result.append(FieldError(field or "body", _message(kind, str(err.get("msg", "")))))
    return result


def _message(kind: str, message: str) -> str:
    if kind in _OUR_MESSAGES:
        return _OUR_MESSAGES[kind]
    if kind in _SCHEMA_MESSAGES:
        return message
    if kind in ("value_error", "assertion_error"):
        # Our validators' messages; a library's (email-validator) may quote the input after a colon.
        for prefix in _PYDANTIC_PREFIXES:
            message = message.removeprefix(prefix)
        return message.split(": ", 1)[0]
    return "is not valid"
