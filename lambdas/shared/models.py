from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator
from pydantic.alias_generators import to_camel


def no_control_characters(value: str) -> str:
    """A pydantic validator for one-line text (names, file names): no control or other unprintable character."""
    if any(not character.isprintable() for character in value):
        raise ValueError("must not contain control characters")
    return value


def _is_unicode(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class RequestModel(BaseModel):
    """A JSON request body: camelCase fields, unknown fields are an error, strings are trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, alias_generator=to_camel)

    @field_validator("*", mode="before")
    @classmethod
    def _valid_unicode(cls, value: Any) -> Any:
        # JSON may escape a lone surrogate (`"\ud800"`): Python keeps it, and Cognito, DynamoDB and every UTF-8
        # encoder refuse it later (a password with one could be set but never typed at login).
        if isinstance(value, str) and not _is_unicode(value):
            raise ValueError("must not contain unpaired surrogates (it is not valid Unicode)")
        return value


class ResponseModel(BaseModel):
    """A JSON response body: camelCase fields."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    def to_json(self) -> dict[str, object]:
        return self.model_dump(mode="json", by_alias=True)
