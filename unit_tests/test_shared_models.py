"""The shared request models' rules: what JSON Schema's words mean, the API takes."""

from __future__ import annotations

from typing import Annotated, Any

import jsonschema_rs
import pytest
from pydantic import BeforeValidator, TypeAdapter, ValidationError

from lambdas.shared.models import json_integer

INTEGER = TypeAdapter(Annotated[int, BeforeValidator(json_integer)])
DOCUMENTED = jsonschema_rs.validator_for({"type": "integer"})


@pytest.mark.parametrize(
    ("value", "taken_as"),
    [
        (5, 5),
        (-5, -5),
        (0, 0),
        (5131.0, 5131),  # JSON Schema's integer: a number with no fractional part
        (-0.0, 0),
        (1e20, 10**20),
        (5.5, None),
        (float("inf"), None),
        (float("nan"), None),
        ("5", None),
        (True, None),
        (False, None),
        (None, None),
        ([5], None),
    ],
)
def test_an_integer_is_what_json_schema_calls_one(value: Any, taken_as: int | None) -> None:
    try:
        taken = INTEGER.validate_python(value)
    except ValidationError as error:
        assert taken_as is None
        assert error.errors()[0]["msg"] == "Value error, must be an integer: not a fraction, a string or a boolean"
    else:
        assert taken == taken_as and type(taken) is int
    if value == value and value not in (float("inf"),):  # NaN and infinity are not JSON
        assert DOCUMENTED.is_valid(value) == (taken_as is not None)
