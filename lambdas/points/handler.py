"""Loyalty points: transactions, balances per payer, spending oldest points first. Every route is protected and
works on the caller's own ledger, keyed by their Cognito sub; see ledger.py for how changes are decided and
keys.py for the data design."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Header, Query

from lambdas.catalog import PROTECTED
from lambdas.points import idempotency, ledger, store
from lambdas.points.models import HistoryPage, NewTransaction, PayerPoints, Spend, Transaction
from lambdas.shared.api import ERROR_SCHEMA_REF, lambda_handler_for, resolver, responses
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
# A change that keeps losing races to others retries until the function's time is nearly up (ledger.Patience).
_BUSY = {
    429: {
        "description": "The ledger was busy with other changes for as long as the function could wait, or API "
        "Gateway throttled the request: try again, after Retry-After seconds when it is given",
        "headers": {
            "Retry-After": {
                "description": "Seconds to wait before trying again (the ledger's answer only)",
                "schema": {"type": "integer"},
            }
        },
        "content": {"application/json": {"schema": {"$ref": ERROR_SCHEMA_REF}}},
    }
}


@app.post(
    "/points/transactions",
    security=PROTECTED,
    status_code=201,
    tags=["points"],
    summary="Record a transaction",
    responses=responses(201, "The stored transaction", _WRITE_REFUSALS) | _BUSY,
)
def add_transaction(new: NewTransaction, idempotency_key: IdempotencyKey = None) -> Response[Transaction]:
    caller = current_caller(app)
    transaction = idempotency.once(
        sub=caller.sub,
        operation="transaction",
        key=idempotency.checked_key(idempotency_key),
        request=new.model_dump(mode="json"),
        context=app.lambda_context,
        apply=lambda: ledger.add(caller.sub, new, now=datetime.now(UTC), patience=_patience()).to_json(),
    )
    logger.info("points transaction recorded", transaction_id=transaction["id"], user=caller.sub)
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=transaction)


@app.get(
    "/points/balance",
    security=PROTECTED,
    tags=["points"],
    summary="Points per payer, zeros included",
    responses={200: {"description": "Points per payer"}} | _BUSY,
)
def get_balance() -> dict[str, int]:
    return ledger.balances(current_caller(app).sub, patience=_patience())


@app.post(
    "/points/spend",
    security=PROTECTED,
    tags=["points"],
    summary="Spend points, oldest first",
    responses=responses(200, "What was taken from each payer, in the order taken", _WRITE_REFUSALS) | _BUSY,
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
            "spent": [
                entry.to_json()
                for entry in ledger.spend(caller.sub, request.points, now=datetime.now(UTC), patience=_patience())
            ]
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


def _patience() -> ledger.Patience:
    """Retries for as long as this invocation has time left."""
    return ledger.Patience.of(app.lambda_context)
