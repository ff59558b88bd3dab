"""DynamoDB attribute values from the plain values the stores keep, and back, without importing boto3.

boto3's TypeSerializer lives in `boto3.dynamodb.types`, whose import loads all of boto3 (its resources layer and
s3transfer) into functions that otherwise need only botocore: tens of milliseconds of every cold start
(docs/benchmarks.md, "Cold start"). Reads use Powertools' TypeDeserializer, boto3's own without boto3. Writes cover
what the stores write, the JSON values of their models: strings, integers, booleans, null, lists and maps; a float
is refused as boto3 refuses it, since DynamoDB numbers are decimal.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from aws_lambda_powertools.shared.dynamodb_deserializer import TypeDeserializer

_deserializer = TypeDeserializer()


def to_item(values: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: attribute_value(value) for name, value in values.items()}


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _deserializer.deserialize(value) for name, value in item.items()}


def attribute_value(value: Any) -> dict[str, Any]:
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, int | Decimal):
        return {"N": str(value)}
    if isinstance(value, list | tuple):
        return {"L": [attribute_value(element) for element in value]}
    if isinstance(value, Mapping):
        return {"M": to_item(value)}
    raise TypeError(f"{type(value).__name__} is not a value the stores write to DynamoDB")
