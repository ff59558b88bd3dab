"""One OpenAPI document for the whole API, merged from every function's resolver by Powertools, and made true.

Powertools documents a 422 HTTPValidationError on every operation; the API answers 400 with the one error shape
(`lambdas/shared/api.py`). So the 422 and its schemas go, the `Error` schema comes in, and each operation gets
the errors it can answer, besides those its route declares (`lambdas.shared.api.responses`):

- every operation: 429 (API Gateway's throttling) and 500 (a fault, with only a request id);
- with parameters or a body: 400; with a body: 413 (over API Gateway's 10 MB) and 415 (another media type);
- protected (`security`): 401 (no valid ID token: API Gateway's authorizer answers);
- with path parameters: 404 (no such item, or not the caller's).

A 204 has no body, where Powertools documents a JSON `null`; an optional parameter is a string (or integer) that
may be left out, where Powertools documents `anyOf: [string, null]`.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge

from lambdas import catalog
from lambdas.shared.api import ERROR_SCHEMA_REF, MAX_ERRORS

TITLE = "serverless-platform API"
VERSION = "1.0.0"

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Every error: a sentence, the request id to quote, and the fields at fault, if any.",
    "required": ["message"],
    "properties": {
        "message": {"type": "string", "description": "What went wrong, as a sentence."},
        "requestId": {"type": "string", "description": "API Gateway's request id."},
        "errors": {
            "type": "array",
            "maxItems": MAX_ERRORS,
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {
                    "field": {"type": "string", "description": "Location-qualified: body.email, query.limit, …"},
                    "message": {"type": "string", "description": "Why, with the field as its subject."},
                },
            },
        },
        "errorsNotShown": {"type": "integer", "minimum": 1, "description": "Errors beyond the first ones listed."},
    },
}
ERRORS = {
    400: "The request is invalid: `errors` names each field at fault",
    401: "No valid Cognito ID token",
    404: "Not found, or not the caller's",
    413: "The body is over 10 MB",
    415: "The body is not of a media type the operation takes",
    429: "Too many requests: try again later",
    500: "An internal fault: quote the requestId",
}
_POWERTOOLS_ONLY = ("HTTPValidationError", "ValidationError", "ResponseValidationError")


@cache
def document() -> dict[str, Any]:
    """The document without `servers`: the caller knows the base URL (the stage path, when deployed)."""
    merge = OpenAPIMerge(title=TITLE, version=VERSION, on_conflict="error")
    for function in catalog.FUNCTIONS:
        if function.serves_api:
            merge.add_schema(json.loads(function.resolver().get_openapi_json_schema(title=TITLE, version=VERSION)))
    return truthful(json.loads(json.dumps(merge.get_openapi_schema())))


def truthful(document: dict[str, Any]) -> dict[str, Any]:
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name in _POWERTOOLS_ONLY:
        schemas.pop(name, None)
    schemas["Error"] = ERROR_SCHEMA
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            answers = operation.setdefault("responses", {})
            if "HTTPValidationError" in json.dumps(answers.get("422", {})):
                del answers["422"]
            for parameter in operation.get("parameters", []):
                parameter["schema"] = _never_null(parameter["schema"])
            if "204" in answers:  # Powertools gives "No Content" the JSON body `null`; the API sends no body
                answers["204"].pop("content", None)
            for status in _errors_of(operation):
                answers.setdefault(str(status), _error(ERRORS[status]))
    return document


def _never_null(schema: dict[str, Any]) -> dict[str, Any]:
    """An optional parameter is absent, never null: `str | None` is documented as the string alone."""
    choices = schema.get("anyOf", [])
    if len(choices) == 2 and {"type": "null"} in choices:
        (value,) = (choice for choice in choices if choice != {"type": "null"})
        rest = {key: item for key, item in schema.items() if key != "anyOf"}
        return {**value, **rest}
    return schema


def _errors_of(operation: dict[str, Any]) -> list[int]:
    statuses = [429, 500]
    parameters = operation.get("parameters", [])
    if parameters or "requestBody" in operation:
        statuses.append(400)
    if "requestBody" in operation:
        statuses += [413, 415]
    if any(requirement for requirement in operation.get("security", [])):
        statuses.append(401)
    if any(parameter.get("in") == "path" for parameter in parameters):
        statuses.append(404)
    return sorted(statuses)


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": ERROR_SCHEMA_REF}}}}


def document_for(base_path: str) -> dict[str, Any]:
    return {**document(), "servers": [{"url": base_path or "/"}]}
