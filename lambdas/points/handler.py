"""Loyalty points: transactions, balances per payer, spending oldest points first. Every route is protected and
works on the caller's own ledger, keyed by their Cognito sub; see store.py for the data design."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Header, Query

from lambdas.catalog import PROTECTED
from lambdas.points import idempotency, store
from lambdas.points.models import HistoryPage, NewTransaction, PayerPoints, Spend, Transaction
from lambdas.shared.api import lambda_handler_for, resolver, responses
from lambdas.shared.caller import current_caller
from lambdas.shared.pagination import Listing

logger = Logger()
app = resolver()
lambda_handler = lambda_handler_for(app, logger)

DEFAULT_LIMIT = 20
MAX_LIMIT = 100

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
    transaction = idempotency.once(
        sub=caller.sub,
        operation="transaction",
        key=idempotency.checked_key(idempotency_key),
        request=new.model_dump(mode="json"),
        context=app.lambda_context,
        apply=lambda: store.add(caller.sub, new, now=datetime.now(UTC)).to_json(),
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
    spent = idempotency.once(
        sub=caller.sub,
        operation="spend",
        key=idempotency.checked_key(idempotency_key),
        request=request.model_dump(mode="json"),
        context=app.lambda_context,
        apply=lambda: {
            "spent": [entry.to_json() for entry in store.spend(caller.sub, request.points, now=datetime.now(UTC))]
        },
    )
    logger.info("points spent", points=request.points, user=caller.sub)
    return [PayerPoints.model_validate(entry) for entry in spent["spent"]]


@app.get("/points/transactions", security=PROTECTED, tags=["points"], summary="The ledger's history, newest first")
def list_transactions(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Entries per page")] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(description="nextCursor of the previous page")] = None,
) -> HistoryPage:
    caller = current_caller(app)
    listing = Listing.of("points", caller.sub)  # one user's cursor is no other user's
    page = store.history_page(caller.sub, limit, listing.after(cursor))
    return HistoryPage(items=page.items, next_cursor=listing.next_cursor(page))


@app.delete("/points", security=PROTECTED, status_code=204, tags=["points"], summary="Empty your own ledger")
def delete_ledger() -> Response[None]:
    caller = current_caller(app)
    store.delete_ledger(caller.sub)
    logger.info("points ledger emptied", user=caller.sub)
    return Response(status_code=204)
