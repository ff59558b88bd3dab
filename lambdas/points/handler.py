"""Loyalty points: transactions, balances per payer, spending oldest points first. Every route is protected and
works on the caller's own ledger, keyed by their Cognito sub; see store.py for the data design."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Header, Query

from lambdas.catalog import POINTS_ADDED, POINTS_SPENT, PROTECTED, SPENDS_REFUSED
from lambdas.points import idempotency, store
from lambdas.points.models import HistoryPage, NewTransaction, PayerPoints, Spend, Transaction
from lambdas.shared.api import lambda_handler_for, resolver, responses
from lambdas.shared.caller import current_caller
from lambdas.shared.errors import Conflict
from lambdas.shared.observability import record
from lambdas.sla_errors.rules import Window, decode_cursor, encode_cursor

logger = Logger()
app = resolver()
lambda_handler = lambda_handler_for(app, logger)

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
# The history has no filters: every cursor belongs to the one unfiltered window.
_HISTORY = Window()

# Checked by idempotency.checked_key rather than by Header constraints: those errors name the header in lower case.
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias=idempotency.HEADER,
        description="1 to 255 printable ASCII characters, e.g. a UUID: a retry with the same key and body answers "
        "as the first request did, without applying it twice. Kept 24 hours.",
        json_schema_extra={"pattern": f"^[!-~]{{1,{idempotency.MAX_KEY}}}$"},
    ),
]


_WRITE_REFUSALS = {
    409: "The points are not there (a payer would go below zero), or a request with this Idempotency-Key is running",
    422: "This Idempotency-Key was used for a different request",
}


@app.post(
    "/points/transactions",
    security=PROTECTED,
    status_code=201,
    tags=["points"],
    summary="Record a transaction",
    responses=responses(201, "The stored transaction", _WRITE_REFUSALS),
)
def add_transaction(new: NewTransaction, idempotency_key: IdempotencyKey = None) -> Response[Transaction]:
    caller = current_caller(app)

    # Counted where it is applied: a retry answered from its Idempotency-Key's record adds nothing.
    def add() -> dict[str, Any]:
        added = store.add(caller.sub, new, now=datetime.now(UTC)).to_json()
        record(POINTS_ADDED, new.points)
        return added

    transaction = idempotency.once(
        sub=caller.sub,
        operation="transaction",
        key=idempotency.checked_key(idempotency_key),
        request=new.model_dump(mode="json"),
        context=app.lambda_context,
        apply=add,
    )
    logger.info("points transaction recorded", transaction_id=transaction["id"], user=caller.sub)
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=transaction)


@app.get("/points/balance", security=PROTECTED, tags=["points"], summary="Points per payer, zeros included")
def get_balance() -> dict[str, int]:
    return store.balances(current_caller(app).sub)


@app.post(
    "/points/spend",
    security=PROTECTED,
    tags=["points"],
    summary="Spend points, oldest first",
    responses=responses(200, "What was taken from each payer, in the order taken", _WRITE_REFUSALS),
)
def spend(request: Spend, idempotency_key: IdempotencyKey = None) -> list[PayerPoints]:
    caller = current_caller(app)

    def take() -> dict[str, Any]:
        try:
            taken = store.spend(caller.sub, request.points, now=datetime.now(UTC))
        except Conflict:  # not the points there (a 409); a busy ledger (429) or a fault is no refusal
            record(SPENDS_REFUSED)
            raise
        record(POINTS_SPENT, request.points)
        return {"spent": [entry.to_json() for entry in taken]}

    spent = idempotency.once(
        sub=caller.sub,
        operation="spend",
        key=idempotency.checked_key(idempotency_key),
        request=request.model_dump(mode="json"),
        context=app.lambda_context,
        apply=take,
    )
    logger.info("points spent", points=request.points, user=caller.sub)
    return [PayerPoints.model_validate(entry) for entry in spent["spent"]]


@app.get("/points/transactions", security=PROTECTED, tags=["points"], summary="The ledger's history, newest first")
def list_transactions(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Entries per page")] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(description="nextCursor of the previous page")] = None,
) -> HistoryPage:
    caller = current_caller(app)
    after = decode_cursor(cursor, _HISTORY) if cursor is not None else None
    page = store.history_page(caller.sub, limit, after)
    next_cursor = encode_cursor(page.last_sort_key, _HISTORY) if page.last_sort_key else None
    return HistoryPage(items=page.items, next_cursor=next_cursor)


@app.delete("/points", security=PROTECTED, status_code=204, tags=["points"], summary="Empty your own ledger")
def delete_ledger() -> Response[None]:
    caller = current_caller(app)
    store.delete_ledger(caller.sub)
    logger.info("points ledger emptied", user=caller.sub)
    return Response(status_code=204)
