from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field

from lambdas.shared.models import RequestModel, ResponseModel, no_control_characters
from lambdas.sla_errors.rules import parse_timestamp

Severity = Literal["low", "medium", "high", "critical"]

MAX_FILE_NAME = 512
MAX_MESSAGE = 2000
MAX_SOURCE = 200


def _none_if_empty(value: str | None) -> str | None:
    return value or None


def _no_control_characters_but_newlines(value: str | None) -> str | None:
    if value and any(not character.isprintable() and character not in "\n\r\t" for character in value):
        raise ValueError("must not contain control characters other than newlines and tabs")
    return value


Timestamp = Annotated[datetime, BeforeValidator(parse_timestamp)]
FileName = Annotated[str, Field(min_length=1, max_length=MAX_FILE_NAME), AfterValidator(no_control_characters)]


class NewSlaError(RequestModel):
    file_name: FileName
    expected_at: Timestamp
    received_at: Timestamp | None = None  # None: the file has not arrived
    severity: Severity = "medium"
    message: Annotated[
        str | None,
        Field(max_length=MAX_MESSAGE),
        AfterValidator(_no_control_characters_but_newlines),
        AfterValidator(_none_if_empty),
    ] = None
    source: Annotated[
        str | None,
        Field(max_length=MAX_SOURCE),
        AfterValidator(lambda value: no_control_characters(value) if value else value),
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
