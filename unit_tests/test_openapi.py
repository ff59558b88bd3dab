"""The OpenAPI document describes the answers the API really gives."""

from __future__ import annotations

import json
import re

from lambdas.identity.password_policy import policy_pattern
from lambdas.platform.openapi import document
from lambdas.tenants.website import WEBSITE_PATTERN
from lambdas.users.form import FILE_FIELD, TEXT_FIELDS


def operations() -> dict[str, dict]:
    return {f"{method.upper()} {path}": op for path, ops in document()["paths"].items() for method, op in ops.items()}


def test_no_operation_documents_powertools_422() -> None:
    text = json.dumps(document())

    assert "HTTPValidationError" not in text
    assert {name for name, op in operations().items() if "422" in op["responses"]} == {
        "POST /sla-errors",
        "GET /sla-errors",
        "POST /points/transactions",
        "POST /points/spend",
    }
    assert set(document()["components"]["schemas"]) >= {"Error", "Tenant", "TenantPage"}


def test_every_error_answer_uses_the_one_error_schema() -> None:
    for name, operation in operations().items():
        for status, answer in operation["responses"].items():
            if int(status) >= 400:
                assert answer["content"] == {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}, (
                    name,
                    status,
                )


def test_no_content_answers_document_no_body() -> None:
    no_content = {name: op["responses"]["204"] for name, op in operations().items() if "204" in op["responses"]}

    assert set(no_content) >= {"DELETE /points", "DELETE /users/{id}"}
    assert all("content" not in answer for answer in no_content.values())


def test_points_bounds_are_json_schema_keywords() -> None:
    schemas = document()["components"]["schemas"]

    assert schemas["NewTransaction"]["properties"]["points"] | {"description": ""} == {
        "description": "",
        "title": "Points",
        "type": "integer",
        "minimum": -1_000_000_000,
        "maximum": 1_000_000_000,
        "not": {"const": 0},
    }
    assert schemas["Spend"]["properties"]["points"] | {"description": ""} == {
        "description": "",
        "title": "Points",
        "type": "integer",
        "minimum": 1,
        "maximum": 1_000_000_000,
    }


def test_each_operation_documents_the_errors_it_can_answer() -> None:
    found = {name: sorted(int(status) for status in op["responses"]) for name, op in operations().items()}

    assert found["POST /tenants"] == [201, 400, 401, 403, 409, 413, 415, 429, 500]
    assert found["GET /tenants/{tenantId}"] == [200, 400, 401, 404, 429, 500]
    assert found["GET /tenants"] == [200, 400, 401, 429, 500]
    assert found["POST /auth/signup"] == [201, 400, 409, 413, 415, 429, 500]
    assert found["POST /auth/login"] == [200, 400, 401, 403, 413, 415, 429, 500]
    assert found["GET /health"] == [200, 429, 500]


def test_the_validation_rules_are_in_the_schemas() -> None:
    schemas = document()["components"]["schemas"]

    assert schemas["NewTenant"]["properties"]["website"]["pattern"] == WEBSITE_PATTERN
    password = schemas["SignUp"]["properties"]["password"]
    assert password["pattern"] == policy_pattern()
    # The lengths are the pattern's (12 to 256), stated nowhere else (models.py says why).
    matches = [bool(re.fullmatch(password["pattern"], "aA1!" + "x" * more)) for more in (7, 8, 252, 253)]
    assert matches == [False, True, True, False]
    assert "minLength" not in password and "maxLength" not in password
    assert schemas["NewTenant"]["additionalProperties"] is False


def test_the_user_form_names_exactly_the_parts_the_form_parser_takes() -> None:
    form = document()["paths"]["/user"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]

    assert set(form["properties"]) == set(form["required"]) == {*TEXT_FIELDS, FILE_FIELD}
    assert form["additionalProperties"] is False  # another part is a 400 (unit_tests/users/test_handler.py)
