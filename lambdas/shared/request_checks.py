"""Checks every request passes before Powertools validates it, with what each operation declares in its OpenAPI.

Powertools' validation picks a body parser by a case-sensitive prefix of Content-Type (so `APPLICATION/JSON`
is refused and `application/jsonx` parsed as JSON), decodes bodies without catching bad UTF-8, and turns a
form-encoded body's keys into error field names. These checks run first, per RFC 9110:

- Content-Type: type and subtype compare case-insensitively, parameters are allowed (`charset` must be UTF-8 for
  JSON); a body whose media type the operation does not declare is a 415 naming the expected ones. A request
  without Content-Type is read as JSON, as API Gateway does. A multipart body needs its boundary parameter.
- The body must be UTF-8 (a JSON body) and JSON within `json_body`'s limits: 400 on `body`.
- A JSON object with fields its schema does not declare is refused at once, without validating the rest, and the
  error names no field: only the count and the allowed names, so that nothing the caller sent is echoed.
- A query parameter given more than once, where the operation takes one value, is a 400 "must be given once".

The operations are read from the resolver's public OpenAPI schema once per container, on the first request that
needs them (a request with a body or a repeated query parameter).
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import Message
from typing import TYPE_CHECKING, Any

from lambdas.shared import json_body
from lambdas.shared.errors import INVALID_REQUEST, DomainError, FieldError, InvalidInput, UnsupportedMediaType

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
CONTENT_TYPE = "header.Content-Type"
_UTF8 = ("utf-8", "utf8")


@dataclass(frozen=True)
class Operation:
    media_types: tuple[str, ...]  # request body media types; empty when the operation takes no body
    single_query: frozenset[str]  # query parameters that take one value
    body_fields: tuple[str, ...] | None  # the JSON body's fields when its schema allows no others


class Parsed(threading.local):
    """The JSON body this thread's current request was parsed into, for the resolver's body deserializer."""

    text: str | None = None
    value: Any = None


parsed = Parsed()


def parse_json_body(text: str) -> Any:
    """The resolver's JSON deserializer: the body `check` already parsed, or `text` parsed with the same limits."""
    if parsed.text is not None and text == parsed.text:
        return parsed.value
    return json_body.parse(text)


class OperationIndex:
    """`(method, resource path)` -> Operation, read from `app`'s OpenAPI schema on first use."""

    def __init__(self, app: APIGatewayRestResolver) -> None:
        self._app = app
        self._operations: dict[tuple[str, str], Operation] | None = None
        self._lock = threading.Lock()

    def get(self, method: str, path: str) -> Operation | None:
        if self._operations is None:
            with self._lock:
                if self._operations is None:
                    self._operations = operations(json.loads(self._app.get_openapi_json_schema()))
        return self._operations.get((method.upper(), path))


def operations(schema: Mapping[str, Any]) -> dict[tuple[str, str], Operation]:
    found = {}
    components = schema.get("components", {}).get("schemas", {})
    for path, methods in schema.get("paths", {}).items():
        for method, operation in methods.items():
            content = operation.get("requestBody", {}).get("content", {})
            single = frozenset(
                parameter["name"]
                for parameter in operation.get("parameters", [])
                if parameter.get("in") == "query" and not _is_array(parameter.get("schema", {}))
            )
            body_schema = _resolve(content.get(JSON, {}).get("schema", {}), components)
            closed = body_schema.get("additionalProperties") is False
            found[(method.upper(), path)] = Operation(
                media_types=tuple(content),
                single_query=single,
                body_fields=tuple(body_schema.get("properties", {})) if closed else None,
            )
    return found


def _is_array(schema: Mapping[str, Any]) -> bool:
    return schema.get("type") == "array" or any(_is_array(option) for option in schema.get("anyOf", []))


def _resolve(schema: Mapping[str, Any], components: Mapping[str, Any]) -> Mapping[str, Any]:
    reference = schema.get("$ref", "")
    return components.get(reference.rsplit("/", 1)[-1], {}) if reference else schema


def check(event: dict[str, Any], operation: Operation) -> None:
    """Raises the DomainError `event` deserves before validation, if any; keeps a parsed JSON body in `parsed`.

    A JSON body's Content-Type is rewritten to plain `application/json`: Powertools compares it case-sensitively.
    """
    parsed.text, parsed.value = None, None
    _check_query(event, operation)
    body = event.get("body")
    if not operation.media_types or not body:
        return
    media_type, parameters = media_type_of(_header(event, "content-type"))
    if media_type not in operation.media_types:
        raise _unsupported(media_type, operation.media_types)
    if media_type == MULTIPART and not parameters.get("boundary"):
        raise InvalidInput(CONTENT_TYPE, "must have a boundary parameter, as multipart/form-data requires")
    if media_type != JSON:
        return
    if parameters.get("charset", "utf-8").lower() not in _UTF8:
        raise UnsupportedMediaType(
            "The body must be JSON in UTF-8.", (FieldError(CONTENT_TYPE, "must have charset utf-8, if any"),)
        )
    _set_header(event, "content-type", JSON)
    text = _text(body, bool(event.get("isBase64Encoded")))
    value = json_body.parse(text)
    _check_fields(value, operation.body_fields)
    parsed.text, parsed.value = text, value


def media_type_of(header: str | None) -> tuple[str, dict[str, str]]:
    """RFC 9110's media type of a Content-Type value, lower-case, and its parameters; JSON when absent."""
    if header is None or not header.strip():
        return JSON, {}
    message = Message()
    message["content-type"] = header
    media_type = message.get_content_type() if "/" in header.split(";", 1)[0] else "invalid"
    # email's parser turns a malformed value into text/plain: compare with what was sent to notice.
    if media_type == "text/plain" and not header.lower().lstrip().startswith("text/plain"):
        media_type = "invalid"
    parameters = {name.lower(): str(value) for name, value in (message.get_params(header="content-type") or [])[1:]}
    return media_type, parameters


def _check_query(event: Mapping[str, Any], operation: Operation) -> None:
    repeated = sorted(
        name
        for name, values in (event.get("multiValueQueryStringParameters") or {}).items()
        if name in operation.single_query and values is not None and len(values) > 1
    )
    if repeated:
        errors = tuple(FieldError(f"query.{name}", "must be given once") for name in repeated)
        raise DomainError(INVALID_REQUEST, errors)


def _header(event: Mapping[str, Any], name: str) -> str | None:
    return next((value for key, value in (event.get("headers") or {}).items() if key.lower() == name), None)


def _set_header(event: dict[str, Any], name: str, value: str) -> None:
    for field, single in (("headers", True), ("multiValueHeaders", False)):
        headers = event.get(field) or {}
        for key in [key for key in headers if key.lower() == name]:
            del headers[key]
        event[field] = {**headers, name: value if single else [value]}


def _unsupported(media_type: str, expected: tuple[str, ...]) -> UnsupportedMediaType:
    names = " or ".join(expected)
    if media_type == FORM and JSON in expected:
        # curl -d sends this unless told otherwise: say what to do.
        message = "The body must be JSON: send it with the header Content-Type: application/json."
    else:
        message = f"The body must be sent as {names}."
    return UnsupportedMediaType(message, (FieldError(CONTENT_TYPE, f"must be {names}"),))


def _text(body: str, base64_encoded: bool) -> str:
    try:
        if base64_encoded:
            return base64.b64decode(body, validate=True).decode("utf-8")
        body.encode("utf-8")  # a str from a non-UTF-8 body may hold lone surrogates
    except (binascii.Error, UnicodeError):
        raise InvalidInput("body", "is not valid UTF-8") from None
    return body


def _check_fields(value: Any, allowed: tuple[str, ...] | None) -> None:
    if allowed is None or not isinstance(value, dict):
        return
    unknown = sum(1 for name in value if name not in allowed)
    if unknown:
        fields = ", ".join(allowed)
        plural = "fields that are" if unknown > 1 else "a field that is"
        raise InvalidInput("body", f"has {plural} not allowed ({unknown}); the allowed fields are: {fields}")
