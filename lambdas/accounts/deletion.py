"""An account's deletion, in an order that a failure at any step leaves finishable.

1. The Cognito user is disabled: the marker that a deletion is under way. The account can no longer log in or
   refresh a token; its ID tokens stay valid until they expire (an hour), so the caller's retry of DELETE /me
   finishes the deletion, as would a sweep of the pool's disabled users (`ListUsers` with `status = "Disabled"`).
2. Each service deletes what the account owns (catalog.owner_deletions(): points ledger and idempotency records,
   tenants and their website reservations, directory users and every version of their avatars, SLA errors it
   filed). Each deletion is idempotent, so running them all again after a failure finishes the job.
3. The Cognito user is deleted, last: until then the account exists, disabled, and can be found again.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from lambdas.catalog import USER_POOL, owner_deletions
from lambdas.shared.aws import client, user_pool_id

logger = Logger()


def delete_account(sub: str, username: str) -> None:
    _cognito("admin_disable_user", username)
    logger.info("account disabled for its deletion", user_id=sub)
    for delete_everything_owned_by in owner_deletions():
        delete_everything_owned_by(sub)
        logger.info("owned data deleted", user_id=sub, by=delete_everything_owned_by.__module__)
    _cognito("admin_delete_user", username)
    logger.info("account deleted", user_id=sub)


def _cognito(method: str, username: str) -> Any:
    cognito = client("cognito-idp")
    try:
        return getattr(cognito, method)(UserPoolId=user_pool_id(USER_POOL), Username=username)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "UserNotFoundException":
            return None  # deleted already: a retry after the last step
        raise
