from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field

from lambdas.points.rules import MAX_PAYER, MAX_POINTS
from lambdas.shared.models import RequestModel, ResponseModel, json_integer, one_line
from lambdas.shared.timestamps import Timestamp


def _within_bounds(value: int) -> int:
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


# The bounds are checked by `_within_bounds` and the others, which name the rule broken; the schema states them for
# generated clients.
Points = Annotated[
    int, BeforeValidator(json_integer), AfterValidator(_within_bounds), Field(json_schema_extra={"maximum": MAX_POINTS})
]
Payer = one_line(MAX_PAYER)


class NewTransaction(RequestModel):
    payer: Payer
    points: Annotated[
        Points,
        AfterValidator(_not_zero),
        Field(json_schema_extra={"minimum": -MAX_POINTS, "not": {"const": 0}}),
    ] = Field(description='A non-zero integer (5, or 5.0: the same number; not "5"); a negative one takes points back')
    timestamp: Timestamp = Field(description="RFC 3339 date-time, e.g. 2020-11-02T14:00:00Z")


class Spend(RequestModel):
    points: Annotated[
        Points,
        AfterValidator(_positive),
        Field(json_schema_extra={"minimum": 1}, description='A positive integer (5, or 5.0: the same number; not "5")'),
    ]


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
