from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field

from lambdas.points.rules import MAX_PAYER, MAX_POINTS, check_timestamp
from lambdas.shared.models import RequestModel, ResponseModel, no_control_characters
from lambdas.sla_errors.rules import parse_timestamp


def _json_integer(value: object) -> object:
    # Strict, with our own sentence: pydantic's lax mode would take 5.0 and "5", and `True` is an int in Python.
    if type(value) is not int:
        raise ValueError("must be a JSON integer: not a decimal, a string or a boolean")
    if abs(value) > MAX_POINTS:
        raise ValueError("must be between -1000000000 and 1000000000")
    return value


def _not_zero(value: int) -> int:
    if value == 0:
        raise ValueError("must not be zero")
    return value


def _positive(value: int) -> int:
    if value <= 0:
        raise ValueError("must be greater than zero")
    return value


Points = Annotated[int, BeforeValidator(_json_integer), Field(ge=-MAX_POINTS, le=MAX_POINTS)]
Payer = Annotated[str, Field(min_length=1, max_length=MAX_PAYER), AfterValidator(no_control_characters)]
Timestamp = Annotated[datetime, BeforeValidator(parse_timestamp), AfterValidator(check_timestamp)]


class NewTransaction(RequestModel):
    payer: Payer
    points: Annotated[Points, AfterValidator(_not_zero)] = Field(description="Non-zero; negative takes points back")
    timestamp: Timestamp = Field(description="ISO-8601 date-time with a time zone, e.g. 2020-11-02T14:00:00Z")


class Spend(RequestModel):
    points: Annotated[Points, AfterValidator(_positive), Field(gt=0)]


class Transaction(ResponseModel):
    id: str
    payer: str
    points: int
    timestamp: str


class PayerPoints(ResponseModel):
    payer: str
    points: int


class HistoryEntry(ResponseModel):
    """A transaction (`payer`, signed `points`, its `timestamp`) or a spend (`points` < 0, what it `consumed` per
    payer, `timestamp` when it was made). `recordedAt`: when the ledger took it; the history's order."""

    id: str
    kind: Literal["transaction", "spend"]
    payer: str | None
    points: int
    timestamp: str
    recorded_at: str
    consumed: list[PayerPoints] | None


class HistoryPage(ResponseModel):
    items: list[HistoryEntry]
    next_cursor: str | None  # null on the last page
