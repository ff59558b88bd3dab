"""The REST resolver every function uses, and the one mapping from errors to HTTP responses.

Every error body has the same shape: ``{"message": ..., "requestId": ..., "errors": [{"field", "message"}]}``
(``errors`` only where a field is at fault). The request id is API Gateway's, so a caller can quote it and an
operator can find the request in the access log and in the function's JSON log.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from lambdas.catalog import AUTHORIZER_NAME, cors
from lambdas.shared.errors import DomainError, FieldError

logger = Logger()

_PYDANTIC_PREFIXES = ("Value error, ", "Assertion failed, ")


def resolver() -> APIGatewayRestResolver:
    # debug=False whatever POWERTOOLS_DEV says: debug mode prints every event, passwords and tokens included.
    app = APIGatewayRestResolver(enable_validation=True, debug=False)
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

    def request_id() -> str:
        event = app.current_event
        return event.request_context.request_id or ""

    def error(status: HTTPStatus, message: str, errors: Sequence[FieldError] = ()) -> Response:
        body: dict[str, Any] = {"message": message, "requestId": request_id()}
        if errors:
            body["errors"] = [{"field": e.field, "message": e.message} for e in errors]
        return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body)

    @app.exception_handler(RequestValidationError)
    def invalid_request(exc: RequestValidationError) -> Response:
        return error(HTTPStatus.BAD_REQUEST, "Invalid request", validation_errors(exc.errors()))

    @app.exception_handler(DomainError)
    def domain_error(exc: DomainError) -> Response:
        return error(exc.status, exc.message, exc.errors)

    @app.not_found
    def not_found(_: NotFoundError) -> Response:
        return error(HTTPStatus.NOT_FOUND, "Not Found")

    @app.exception_handler(Exception)
    def internal_error(_: Exception) -> Response:
        logger.exception("unhandled error")
        return error(HTTPStatus.INTERNAL_SERVER_ERROR, "Internal server error")

    return app


def lambda_handler_for(
    app: APIGatewayRestResolver, logger: Logger
) -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    """The Lambda entry point of a function that serves `app`, with the request id as the log's correlation id.

    `log_event=False` holds even if POWERTOOLS_LOGGER_LOG_EVENT is set: an event carries the caller's ID token in
    its `Authorization` header, and bodies carry passwords and tokens.
    """

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return with_cors_headers(event, app.resolve(event, context))

    return lambda_handler


# --- CORS (the edge's hook; lambdas/catalog/cors.py) -------------------------------------------------------------
def with_cors_headers(event: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
    """Adds the CORS headers an allowed `Origin` gets to any answer, errors included. Powertools' CORSConfig takes
    exact origins only, not `http://localhost:*`."""
    origin = next((v for k, v in (event.get("headers") or {}).items() if k.lower() == "origin"), None)
    added = cors.response_headers(origin, cors.from_environment(os.environ))
    if added:
        headers = result.setdefault("multiValueHeaders", {})
        for name, value in added.items():
            headers[name] = [*headers.get(name, []), value] if name == "Vary" else [value]
    return result


def validation_errors(errors: Sequence[Any]) -> list[FieldError]:
    """Pydantic's errors as `location.field: why`, e.g. ``body.website``, ``query.limit``."""
    result = []
    for err in errors:
        if err.get("type") == "json_invalid":
            result.append(FieldError("body", "is not valid JSON"))
            continue
        location = [str(part) for part in err.get("loc", ()) if part != "__root__"]
        message = str(err.get("msg", "is invalid"))
        for prefix in _PYDANTIC_PREFIXES:
            message = message.removeprefix(prefix)
        result.append(FieldError(".".join(location) or "body", message))
    return result
