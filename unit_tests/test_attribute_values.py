"""The stores' attribute values are boto3's, for every value they write, and read back to what was written."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from hypothesis import given
from hypothesis import strategies as st

from lambdas.shared.attribute_values import attribute_value, from_item, to_item

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**38) + 1, 10**38 - 1) | st.text(),  # DynamoDB: 38 digits
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=12,
)


@given(st.dictionaries(st.text(min_size=1), json_values, max_size=6))
def test_items_are_what_boto3_writes_and_read_back_as_boto3_reads(values: dict[str, Any]) -> None:
    boto3_item = {name: TypeSerializer().serialize(value) for name, value in values.items()}

    assert to_item(values) == boto3_item
    assert from_item(to_item(values)) == {name: TypeDeserializer().deserialize(v) for name, v in boto3_item.items()}


def test_numbers_are_decimal_strings_both_ways() -> None:
    assert attribute_value(Decimal("12.50")) == {"N": "12.50"}
    assert from_item({"points": {"N": "-300"}}) == {"points": Decimal(-300)}


@pytest.mark.parametrize("value", [1.5, {1, 2}, b"bytes"], ids=["float", "set", "bytes"])
def test_a_value_the_stores_never_write_is_refused(value: object) -> None:
    with pytest.raises(TypeError):
        attribute_value(value)
