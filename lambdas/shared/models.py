from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


def no_control_characters(value: str) -> str:
    """A pydantic validator for one-line text (names, file names): no control or other unprintable character."""
    if any(not character.isprintable() for character in value):
        raise ValueError("must not contain control characters")
    return value


class RequestModel(BaseModel):
    """A JSON request body: camelCase fields, unknown fields are an error, strings are trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, alias_generator=to_camel)


class ResponseModel(BaseModel):
    """A JSON response body: camelCase fields."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    def to_json(self) -> dict[str, object]:
        return self.model_dump(mode="json", by_alias=True)
