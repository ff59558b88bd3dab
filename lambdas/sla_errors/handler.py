"""File SLA breaches: record one, list them, read one. Every route is protected; see store.py for who sees what."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from lambdas.catalog import PROTECTED
from lambdas.shared.api import lambda_handler_for, resolver, responses
from lambdas.shared.caller import current_caller
from lambdas.shared.errors import InvalidInput, NotFound
from lambdas.shared.timestamps import TIMESTAMP_PATTERN, parse_timestamp
from lambdas.sla_errors import rules, store
from lambdas.sla_errors.models import MAX_FILE_NAME, NewSlaError, SlaError, SlaErrorPage

logger = Logger()
app = resolver()
lambda_handler = lambda_handler_for(app, logger)

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
_TIME_HELP = "RFC 3339 date-time, e.g. 2024-05-01T06:00:00Z; inclusive"
_TIME_SCHEMA = {"format": "date-time", "pattern": TIMESTAMP_PATTERN}


# 200, not 201: the API contract fixes it.
@app.post(
    "/sla-errors",
    security=PROTECTED,
    tags=["sla-errors"],
    summary="Record a file SLA breach",
    responses=responses(
        200, "The record", {422: "expectedAt or receivedAt is in the future, or receivedAt is before expectedAt"}
    ),
)
def record_sla_error(new: NewSlaError) -> SlaError:
    caller = current_caller(app)
    sla_error = store.record(new, reporter=caller.sub, now=datetime.now(UTC))
    logger.info("sla error recorded", sla_error_id=sla_error.id, severity=sla_error.severity, reporter=caller.sub)
    return sla_error


@app.get(
    "/sla-errors",
    security=PROTECTED,
    tags=["sla-errors"],
    summary="List file SLA breaches, newest first",
    responses=responses(200, "A page of records", {422: "to is before from"}),
)
def list_sla_errors(
    file_name: Annotated[
        str | None, Query(alias="fileName", min_length=1, max_length=MAX_FILE_NAME, description="Exact file name")
    ] = None,
    from_: Annotated[
        str | None,
        Query(alias="from", description=f"Earliest expectedAt: {_TIME_HELP}", json_schema_extra=_TIME_SCHEMA),
    ] = None,
    to: Annotated[
        str | None, Query(description=f"Latest expectedAt: {_TIME_HELP}", json_schema_extra=_TIME_SCHEMA)
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Records per page")] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(description="nextCursor of the previous page")] = None,
) -> SlaErrorPage:
    current_caller(app)  # the caller is not needed, but a call no authorizer vouched for must still be a 401
    window = rules.Window(file_name=file_name, start=_time("from", from_), end=_time("to", to))
    page = store.list_page(window, limit, window.listing.after(cursor))
    return SlaErrorPage(items=page.items, next_cursor=window.listing.next_cursor(page))


@app.get(
    "/sla-errors/<id>",
    security=PROTECTED,
    tags=["sla-errors"],
    summary="Get a file SLA breach",
    responses=responses(200, "The record", {404: "No record has this id"}),
)
def get_sla_error(id: Annotated[UUID, Path(description="The record's id")]) -> SlaError:
    current_caller(app)
    sla_error = store.get(str(id))
    if sla_error is None:
        raise NotFound("No SLA error has this id.")
    return sla_error


def _time(name: str, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_timestamp(value)
    except ValueError as error:
        raise InvalidInput(f"query.{name}", str(error)) from None
