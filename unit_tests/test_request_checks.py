"""Malformed and hostile requests get a clear 4xx from every function, and no error quotes what was sent."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import pytest

from embedded_stack.apigateway.events import lambda_context, proxy_event
from embedded_stack.provision import Provisioned
from lambdas.shared import json_body
from lambdas.shared.api import MAX_ERRORS, error_body, validation_errors
from lambdas.shared.errors import FieldError
from lambdas.shared.request_checks import media_type_of, operations
from lambdas.tenants import handler as tenants
from testkit import HttpResult, call

SECRET = "Hunter2-Secret-Value!"
TENANT = {"name": "Acme", "website": "acme.example", "contactEmail": "ops@acme.example"}


def post_tenant(body: str | bytes, content_type: str | None, *, binary: bool = False) -> HttpResult:
    headers = {"Content-Type": content_type} if content_type is not None else {}
    event = proxy_event(
        "POST",
        "/tenants",
        resource="/tenants",
        body=body,
        binary=binary,
        headers=headers,
        claims={"sub": str(uuid.uuid4()), "token_use": "id"},
    )
    result = tenants.lambda_handler(event, lambda_context("tenants"))
    return HttpResult(result["statusCode"], result.get("headers") or {}, result.get("body") or "")


def fields(result: HttpResult) -> dict[str, str]:
    return {error["field"]: error["message"] for error in result.json().get("errors", [])}


@pytest.mark.parametrize(
    "content_type", ["application/json", "APPLICATION/JSON; charset=utf-8", 'Application/Json;charset="UTF-8"', None]
)
def test_json_is_json_in_any_case_with_parameters(aws: Provisioned, content_type: str | None) -> None:
    result = post_tenant(json.dumps({**TENANT, "website": f"{uuid.uuid4().hex}.example"}), content_type)

    assert result.status == 201, result.body


@pytest.mark.parametrize(
    ("content_type", "binary"),
    [
        ("text/plain", False),
        ("application/xml", False),
        ("application/jsonx", False),
        ("application/json-patch+json", False),
        ("application/octet-stream", True),
        ("multipart/form-data", True),
        ("not a media type", False),
    ],
)
def test_any_other_media_type_is_415_naming_json(aws: Provisioned, content_type: str, binary: bool) -> None:
    result = post_tenant(json.dumps(TENANT), content_type, binary=binary)

    assert result.status == 415, result.body
    assert result.json()["message"] == "The body must be sent as application/json."
    assert fields(result) == {"header.Content-Type": "must be application/json"}
    assert result.headers["Content-Type"] == "application/json"


def test_a_json_body_in_another_charset_is_415(aws: Provisioned) -> None:
    result = post_tenant(json.dumps(TENANT), "application/json; charset=iso-8859-1")

    assert result.status == 415
    assert "UTF-8" in result.json()["message"]


def test_curls_default_form_encoding_is_415_saying_to_send_json_and_quotes_nothing(aws: Provisioned) -> None:
    # What `curl -d '{"email":...,"password":...}'` sends without -H 'Content-Type: application/json'.
    body = json.dumps({"email": "ada@example.com", "password": SECRET})
    event = proxy_event(
        "POST", "/auth/login", resource="/auth/login", body=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )  # fmt: skip
    from lambdas.identity import handler as identity

    result = identity.lambda_handler(event, lambda_context("identity"))

    assert result["statusCode"] == 415
    answer = json.loads(result["body"])
    assert answer["message"] == "The body must be JSON: send it with the header Content-Type: application/json."
    assert SECRET not in result["body"] and "ada@example.com" not in result["body"]


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ("[" * 1000 + "]" * 1000, "more than 32 levels deep"),
        ('{"name": ' + "[" * 33 + "]" * 33 + "}", "more than 32 levels deep"),
        ('{"name": ' + "1" * 5000 + "}", "more than 64 digits"),
        ('{"name": -' + "9" * 65 + "}", "more than 64 digits"),
        ('{"name": NaN}', "NaN and Infinity are not JSON"),
        ('{"name": "' + SECRET, "is not valid JSON"),
    ],
)
def test_json_beyond_the_limits_is_400_on_the_body(aws: Provisioned, body: str, says: str) -> None:
    result = post_tenant(body, "application/json")

    assert result.status == 400, result.body
    assert says in fields(result)["body"]
    assert SECRET not in result.body


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    text = json.dumps({"name": "[" * 100, "tags": [[["x"]]]})

    assert json_body.parse(text) == {"name": "[" * 100, "tags": [[["x"]]]}


def test_a_body_that_is_not_utf8_is_400(aws: Provisioned) -> None:
    as_api_gateway_passes_it_binary = post_tenant(b'{"name": "\xff\xfe"}', "application/json", binary=True)
    as_a_string_with_lone_surrogates = post_tenant('{"name": "\udcff"}', "application/json")

    for result in (as_api_gateway_passes_it_binary, as_a_string_with_lone_surrogates):
        assert result.status == 400, result.body
        assert fields(result) == {"body": "is not valid UTF-8"}


def test_a_base64_json_body_in_utf8_is_read(aws: Provisioned) -> None:
    body = json.dumps({**TENANT, "name": "Bücher", "website": f"{uuid.uuid4().hex}.example"}).encode("utf-8")

    result = post_tenant(body, "application/json", binary=True)

    assert result.status == 201, result.body
    assert result.json()["name"] == "Bücher"


def test_a_hundred_thousand_unknown_fields_are_one_short_error_naming_none(aws: Provisioned) -> None:
    body = {**TENANT, **{f"{SECRET}{number}": number for number in range(100_000)}}

    result = post_tenant(json.dumps(body), "application/json")

    assert result.status == 400
    assert len(result.body) < 500
    assert fields(result) == {
        "body": "has fields that are not allowed (100000); the allowed fields are: name, website, contactEmail, plan"
    }
    assert SECRET not in result.body


def test_errors_are_capped_with_a_count_of_the_rest() -> None:
    errors = [FieldError(f"body.items.{number}", "is not valid") for number in range(MAX_ERRORS + 7)]

    body = error_body("The request is invalid.", "r-1", errors)

    assert len(body["errors"]) == MAX_ERRORS
    assert body["errorsNotShown"] == 7


def test_a_repeated_query_parameter_that_takes_one_value_is_400(aws: Provisioned) -> None:
    result = call("GET", "/sla-errors", query={"limit": ["1", "2"], "fileName": ["a.csv", "b.csv"]})

    assert result.status == 400, result.body
    assert fields(result) == {"query.fileName": "must be given once", "query.limit": "must be given once"}


def test_a_query_parameter_given_once_passes(aws: Provisioned) -> None:
    assert call("GET", "/sla-errors", query={"limit": ["1"]}).status == 200


@pytest.mark.parametrize(
    ("error", "field", "message"),
    [
        ({"type": "extra_forbidden", "loc": ("body", f"{SECRET}"), "msg": "Extra inputs"},
         "body", "is not an allowed field"),
        ({"type": "extra_forbidden", "loc": ("body", "items", 0, "x y"), "msg": "x"},
         "body.items.0", "is not an allowed field"),
        ({"type": "string_type", "loc": ("body", "tags", "weird key!"), "msg": "Input should be a valid string"},
         "body.tags.*", "Input should be a valid string"),
        ({"type": "uuid_parsing", "loc": ("path", "tenantId"), "msg": f"invalid character: found `{SECRET}`"},
         "path.tenantId", "must be a UUID"),
        ({"type": "value_error", "loc": ("body", "email"),
          "msg": f"value is not a valid email address: invalid characters: '{SECRET}'"},
         "body.email", "value is not a valid email address"),
        ({"type": "url_parsing", "loc": ("body", "link"), "msg": f"Input should be a valid URL, {SECRET}"},
         "body.link", "is not valid"),
        ({"type": "missing", "loc": ("body", "__root__"), "msg": "Field required"}, "body", "Field required"),
    ],
)  # fmt: skip
def test_validation_errors_name_schema_locations_and_never_quote_input(
    error: dict[str, Any], field: str, message: str
) -> None:
    assert validation_errors([error]) == [FieldError(field, message)]


def test_an_invalid_uuid_in_the_path_is_not_quoted(aws: Provisioned) -> None:
    result = call("GET", f"/tenants/{SECRET}")

    assert result.status == 400
    assert fields(result) == {"path.tenantId": "must be a UUID"}
    assert SECRET not in result.body


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("application/json", ("application/json", {})),
        ("APPLICATION/JSON; Charset=UTF-8", ("application/json", {"charset": "UTF-8"})),
        ('multipart/form-data; boundary="a b"', ("multipart/form-data", {"boundary": "a b"})),
        (None, ("application/json", {})),
        ("   ", ("application/json", {})),
        ("json", ("invalid", {})),
        ("text/plain", ("text/plain", {})),
    ],
)
def test_media_types_are_read_as_rfc_9110_says(header: str | None, expected: tuple[str, dict[str, str]]) -> None:
    assert media_type_of(header) == expected


def test_operations_are_read_from_the_openapi_schema() -> None:
    schema = {
        "paths": {
            "/things": {
                "post": {
                    "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/T"}}}},
                    "parameters": [
                        {"name": "one", "in": "query", "schema": {"type": "integer"}},
                        {"name": "many", "in": "query", "schema": {"anyOf": [{"type": "array"}, {"type": "null"}]}},
                        {"name": "id", "in": "path", "schema": {"type": "string"}},
                    ],
                },
                "get": {},
            }
        },
        "components": {"schemas": {"T": {"properties": {"a": {}}, "additionalProperties": False}}},
    }

    found = operations(schema)

    assert found[("POST", "/things")].media_types == ("application/json",)
    assert found[("POST", "/things")].single_query == frozenset({"one"})
    assert found[("POST", "/things")].body_fields == ("a",)
    assert found[("GET", "/things")].media_types == ()
    assert found[("GET", "/things")].body_fields is None


def test_a_multipart_route_needs_a_boundary() -> None:
    from lambdas.shared.request_checks import InvalidInput, Operation, check

    operation = Operation(media_types=("multipart/form-data",), single_query=frozenset(), body_fields=None)
    event = {"body": base64.b64encode(b"--x\r\n").decode(), "isBase64Encoded": True,
             "headers": {"content-type": "multipart/form-data"}}  # fmt: skip

    with pytest.raises(InvalidInput) as refused:
        check(event, operation)
    assert refused.value.errors == (
        FieldError("header.Content-Type", "must have a boundary parameter, as multipart/form-data requires"),
    )
    check({**event, "headers": {"Content-Type": "multipart/form-data; boundary=x"}}, operation)
