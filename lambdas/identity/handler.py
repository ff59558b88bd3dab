"""Public identity routes: sign-up, confirmation, login and token refresh, all in front of the user pool.

Nothing here logs or prints a request body, since the bodies carry passwords and tokens: the shared entry point
(`lambda_handler_for`) never logs events, even if POWERTOOLS_LOGGER_LOG_EVENT is set, and the shared resolver never
prints them, even if POWERTOOLS_DEV is.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response, content_types

from lambdas.catalog import LOGINS_FAILED, PUBLIC, SIGN_UPS
from lambdas.identity import cognito
from lambdas.identity.models import Confirm, Login, Refresh, RefreshedTokens, SignedUp, SignUp, Tokens
from lambdas.shared.api import lambda_handler_for, resolver, responses
from lambdas.shared.errors import DomainError
from lambdas.shared.observability import record

logger = Logger()
app = resolver()
lambda_handler = lambda_handler_for(app, logger)


@app.post(
    "/auth/signup",
    security=PUBLIC,
    status_code=201,
    tags=["auth"],
    summary="Sign up",
    responses=responses(201, "Signed up", {409: "An account with this email address exists"}),
)
def sign_up(request: SignUp) -> Response[SignedUp]:
    signed_up = SignedUp(user_id=cognito.sign_up(request))
    record(SIGN_UPS)
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=signed_up)


@app.post(
    "/auth/confirm",
    security=PUBLIC,
    tags=["auth"],
    summary="Confirm a sign-up with the emailed code",
    responses=responses(
        200, "Confirmed", {403: "The code does not match a pending sign-up of this address, or has expired"}
    ),
)
def confirm(request: Confirm) -> dict[str, str]:
    cognito.confirm(request)
    return {"message": "Confirmed"}


@app.post(
    "/auth/login",
    security=PUBLIC,
    tags=["auth"],
    summary="Log in with email and password",
    responses=responses(
        200,
        "The user's tokens",
        {401: "Wrong email or password", 403: "The account is not confirmed, or needs a new password"},
    ),
)
def login(request: Login) -> Tokens:
    try:
        return cognito.login(request)
    except DomainError:  # refused (401, 403); a fault of Cognito's (CognitoFault, a 500) is not a failed login
        record(LOGINS_FAILED)
        raise


@app.post(
    "/auth/refresh",
    security=PUBLIC,
    tags=["auth"],
    summary="New ID and access tokens from a refresh token",
    responses=responses(
        200,
        "New tokens",
        {401: "The refresh token is invalid, expired or revoked", 403: "The account is not confirmed"},
    ),
)
def refresh(request: Refresh) -> RefreshedTokens | Tokens:
    return cognito.refresh(request.refresh_token)
