"""An item's attribute values are answered as they are stored.

moto writes every response through a serializer driven by botocore's shapes: for each attribute value (a structure
of ten members, S to BOOL) it looks for each member under its name and its aliases, so an 11-attribute GetItem
spends about 1 ms there and a Query of a page of items ten times that. An attribute value that is one string,
number, boolean, null, string set or number set, in the JSON types the serializer would write, is written as it
is: the serializer's output for it is that value itself. Binary values, maps and lists go through the serializer
(maps and lists member by member, so their plain values take the same path).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import moto.core.serialize as moto_serialize


def install() -> None:
    json_serializer = moto_serialize.BaseJSONSerializer
    json_serializer._serialize_type_structure = _plain_attribute_values_as_they_are(  # type: ignore[method-assign]
        json_serializer._serialize_type_structure
    )


# The members of DynamoDB's AttributeValue whose JSON the serializer writes unchanged, and the Python type of each.
_PLAIN_ATTRIBUTE_TYPES: dict[str, type] = {"S": str, "N": str, "BOOL": bool, "NULL": bool, "SS": list, "NS": list}
_DYNAMODB_SERVICES = frozenset({"dynamodb", "dynamodbstreams"})

SerializeStructure = Callable[[Any, dict[str, Any], Any, Any, str], None]


def _plain_attribute_values_as_they_are(serialize_structure: SerializeStructure) -> SerializeStructure:
    @functools.wraps(serialize_structure)
    def serialize(self: Any, serialized: dict[str, Any], value: Any, shape: Any, key: str) -> None:
        if (
            key
            and shape.name == "AttributeValue"
            and self.service_model.service_name in _DYNAMODB_SERVICES
            and _is_plain_attribute_value(value)
        ):
            serialized[self.get_serialized_name(shape, key)] = value
            return
        serialize_structure(self, serialized, value, shape, key)

    return serialize


def _is_plain_attribute_value(value: Any) -> bool:
    if type(value) is not dict or len(value) != 1:
        return False
    ((kind, content),) = value.items()
    plain_type = _PLAIN_ATTRIBUTE_TYPES.get(kind)
    if plain_type is None or type(content) is not plain_type:
        return False
    return plain_type is not list or all(type(each) is str for each in content)
