"""The request and response models' base classes, and the text rules they share, stated as JSON Schema patterns.

Each rule is checked by a validator that names what is wrong, and documented as a pattern so that a client generated
from the OpenAPI document sends what is accepted. A pattern describes the value as sent, before the models trim it:
the whitespace they trim (Unicode's White_Space, what pydantic strips) is spelled out so that Python's, ECMAScript's
and Rust's regex engines all read the patterns alike.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from annotated_types import MaxLen
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic.alias_generators import to_camel
from pydantic.fields import FieldInfo

WHITE_SPACE = r"\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# C0 and C1 controls and the line and paragraph separators: what one-line text (a name) must not hold.
CONTROL = r"\x00-\x1f\x7f-\x9f\u2028\u2029"
# In multi-line text (a message), tab, line feed and carriage return are allowed.
_CONTROL_BUT_NEWLINES = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
_HAS_CONTROL = re.compile(f"[{CONTROL}]")
_HAS_CONTROL_BUT_NEWLINES = re.compile(f"[{_CONTROL_BUT_NEWLINES}]")


# Python reads a pattern's `$` as "at the end, or before a final line feed", ECMAScript and Rust as "at the end":
# a pattern that must not admit a final line feed says so with this lookahead after its `^`.
NO_LINE_FEED = "(?!.*\\n)"


def trimmed(core: str) -> str:
    """The pattern of a value that is `core` once the whitespace around it is trimmed."""
    return f"^[{WHITE_SPACE}]*{core}[{WHITE_SPACE}]*$"


ONE_LINE_PATTERN = trimmed(f"[^{WHITE_SPACE}{CONTROL}](?:[^{CONTROL}]*[^{WHITE_SPACE}{CONTROL}])?")
OPTIONAL_ONE_LINE_PATTERN = trimmed(f"(?:[^{WHITE_SPACE}{CONTROL}](?:[^{CONTROL}]*[^{WHITE_SPACE}{CONTROL}])?)?")
MULTI_LINE_PATTERN = trimmed(f"[^{_CONTROL_BUT_NEWLINES}]*")


def no_control_characters(value: str) -> str:
    """A pydantic validator for one-line text (names, file names): no control character and no line break."""
    if _HAS_CONTROL.search(value):
        raise ValueError("must not contain control characters or line breaks")
    return value


def no_control_characters_but_newlines(value: str | None) -> str | None:
    if value and _HAS_CONTROL_BUT_NEWLINES.search(value):
        raise ValueError("must not contain control characters other than newlines and tabs")
    return value


def one_line(max_length: int) -> Any:
    """A required one-line text: at most `max_length` characters as sent, at least one once trimmed."""
    return Annotated[
        str,
        Field(min_length=1, max_length=max_length),
        AfterValidator(no_control_characters),
        Field(json_schema_extra={"pattern": ONE_LINE_PATTERN}),
    ]


def json_integer(value: object) -> object:
    """A pydantic before-validator for an integer field: what JSON Schema's `integer` admits, and nothing else.

    JSON Schema counts a number with no fractional part as an integer, so `5.0` is 5 (as the document promises any
    client); `5.5`, `"5"` and `true` are not, though pydantic's lax mode would take `"5"`, and `True` is an int in
    Python."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if type(value) is not int:
        raise ValueError("must be an integer: not a fraction, a string or a boolean")
    return value


def _is_unicode(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class FormModel(BaseModel):
    """Request fields: unknown fields are an error, strings are trimmed, and a length limit counts the characters
    as sent (as the document's `maxLength` does), not what is left once trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _as_sent(cls, value: Any, info: ValidationInfo) -> Any:
        if not isinstance(value, str):
            return value
        # JSON may escape a lone surrogate (`"\ud800"`): Python keeps it, and Cognito, DynamoDB and every UTF-8
        # encoder refuse it later (a password with one could be set but never typed at login).
        if not _is_unicode(value):
            raise ValueError("must not contain unpaired surrogates (it is not valid Unicode)")
        limit = _max_length(cls.model_fields[info.field_name]) if info.field_name else None
        if limit is not None and len(value) > limit:
            raise ValueError(f"must be at most {limit} characters long")
        return value


def _max_length(field: FieldInfo) -> int | None:
    limits = [item.max_length for item in field.metadata if isinstance(item, MaxLen)]
    return min(limits) if limits else None


class RequestModel(FormModel):
    """A JSON request body: camelCase fields, and FormModel's rules."""

    model_config = ConfigDict(alias_generator=to_camel)


class ResponseModel(BaseModel):
    """A JSON response body: camelCase fields."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    def to_json(self) -> dict[str, object]:
        return self.model_dump(mode="json", by_alias=True)
