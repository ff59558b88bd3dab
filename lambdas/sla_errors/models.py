from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from lambdas.shared.models import (
    MULTI_LINE_PATTERN,
    OPTIONAL_ONE_LINE_PATTERN,
    RequestModel,
    ResponseModel,
    no_control_characters,
    no_control_characters_but_newlines,
    one_line,
)
from lambdas.shared.timestamps import Timestamp

Severity = Literal["low", "medium", "high", "critical"]

MAX_FILE_NAME = 512
MAX_MESSAGE = 2000
MAX_SOURCE = 200


def _none_if_empty(value: str | None) -> str | None:
    return value or None


FileName = one_line(MAX_FILE_NAME)


class NewSlaError(RequestModel):
    file_name: FileName
    expected_at: Timestamp
    received_at: Timestamp | None = None  # None: the file has not arrived
    severity: Severity = "medium"
    message: Annotated[
        str | None,
        Field(max_length=MAX_MESSAGE),
        AfterValidator(no_control_characters_but_newlines),
        Field(json_schema_extra={"pattern": MULTI_LINE_PATTERN}),
        AfterValidator(_none_if_empty),
    ] = None
    source: Annotated[
        str | None,
        Field(max_length=MAX_SOURCE),
        AfterValidator(lambda value: no_control_characters(value) if value else value),
        Field(json_schema_extra={"pattern": OPTIONAL_ONE_LINE_PATTERN}),
        AfterValidator(_none_if_empty),
    ] = None


class SlaError(ResponseModel):
    id: str
    file_name: str
    expected_at: str
    received_at: str | None
    severity: Severity
    message: str | None
    source: str | None
    delay_minutes: int
    reported_by: str  # the reporter's Cognito sub
    reported_at: str


class SlaErrorPage(ResponseModel):
    items: list[SlaError]
    next_cursor: str | None  # null on the last page
