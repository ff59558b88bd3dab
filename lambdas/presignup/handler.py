"""The user pool's pre sign-up trigger: every sign-up is confirmed, and its email marked verified, at once.

The platform does not send confirmation codes (no mail is configured), so without this a new user could not log
in. Cognito invokes it with a PreSignUp event and reads `response` back from the returned event:
https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-lambda-pre-sign-up.html
`autoVerifyEmail` is set only when there is an email to verify: Cognito rejects the sign-up otherwise.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger()


@logger.inject_lambda_context(log_event=False)  # the event holds the user's attributes: never log them
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    attributes = (event.get("request") or {}).get("userAttributes") or {}
    response = event.setdefault("response", {})
    response["autoConfirmUser"] = True
    if attributes.get("email"):
        response["autoVerifyEmail"] = True
    logger.info(
        "sign-up confirmed",
        trigger_source=event.get("triggerSource"),
        email_verified=bool(response.get("autoVerifyEmail")),
    )
    return event
