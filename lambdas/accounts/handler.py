"""DELETE /me: the caller's account and everything it owns, in every service (docs/api.md, "Deleting an account").

Thin: the order of the deletion is in `deletion.py`; what each service deletes is in that service's store, reached
through the catalog (`owner_deletions()`), never by importing the service.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response

from lambdas.accounts import deletion
from lambdas.catalog import PROTECTED
from lambdas.shared.api import lambda_handler_for, resolver, responses
from lambdas.shared.caller import current_caller

logger = Logger()
app = resolver()
lambda_handler = lambda_handler_for(app, logger)


@app.delete(
    "/me",
    security=PROTECTED,
    status_code=204,
    tags=["account"],
    summary="Delete the caller's account and everything it owns; a failed deletion is finished by the next one",
    responses=responses(204, "The account and everything it owned are gone", {}),
)
def delete_account() -> Response[None]:
    caller = current_caller(app)
    claims = app.current_event.request_context.authorizer.claims or {}
    deletion.delete_account(sub=caller.sub, username=str(claims.get("cognito:username") or caller.sub))
    return Response(status_code=204, body=None)
