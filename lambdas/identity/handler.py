"""Identity routes in front of the user pool: sign-up, confirmation, logins and tokens, password resets (public),
and the caller's own account: password, profile, two-factor (protected).

Nothing here logs or prints a request body, since the bodies carry passwords and tokens: the shared entry point
(`lambda_handler_for`) never logs events, even if POWERTOOLS_LOGGER_LOG_EVENT is set, and the shared resolver never
prints them, even if POWERTOOLS_DEV is.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response, content_types

from lambdas.catalog import LOGINS_FAILED, PROTECTED, PUBLIC, SIGN_UPS
from lambdas.identity import cognito
from lambdas.identity.models import (
    Accepted,
    ChangePassword,
    Confirm,
    EmailOnly,
    Login,
    Logout,
    MfaChallenge,
    MfaLogin,
    Profile,
    ProfileUpdate,
    Refresh,
    RefreshedTokens,
    ResetPassword,
    SignedUp,
    SignUp,
    Tokens,
    TotpSecret,
    TotpSetup,
    TotpVerification,
)
from lambdas.shared.api import lambda_handler_for, resolver, responses
from lambdas.shared.caller import current_caller
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
        "The user's tokens; for an account with TOTP on, the challenge to answer at POST /auth/login/mfa",
        {401: "Wrong email or password", 403: "The account is not confirmed, or needs a new password"},
    ),
)
def login(request: Login) -> Tokens | MfaChallenge:
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


@app.post(
    "/auth/login/mfa",
    security=PUBLIC,
    tags=["auth"],
    summary="Finish a login with the authenticator app's code",
    responses=responses(
        200,
        "The user's tokens",
        {401: "The login session is invalid or has expired", 403: "The code is not the app's current one"},
    ),
)
def log_in_with_totp(request: MfaLogin) -> Tokens:
    return cognito.log_in_with_totp(request)


@app.post(
    "/auth/forgot-password",
    security=PUBLIC,
    status_code=202,
    tags=["auth"],
    summary="Email a password reset code (the same answer whether the address has an account or not)",
    responses=responses(202, "Accepted: a code is on its way if the address has an account", {}),
)
def forgot_password(request: EmailOnly) -> Response[Accepted]:
    cognito.forgot_password(request.email)
    return _accepted()


@app.post(
    "/auth/reset-password",
    security=PUBLIC,
    status_code=204,
    tags=["auth"],
    summary="Set a new password with the emailed code; every session of the account is signed out",
    responses=responses(204, "The password is reset", {403: "The code is wrong or has expired"}),
)
def reset_password(request: ResetPassword) -> Response[None]:
    cognito.reset_password(request)
    return _no_content()


@app.post(
    "/auth/resend-code",
    security=PUBLIC,
    status_code=202,
    tags=["auth"],
    summary="Email the sign-up confirmation code again (the same answer whether the address has an account or not)",
    responses=responses(202, "Accepted: a code is on its way if the address has an unconfirmed account", {}),
)
def resend_code(request: EmailOnly) -> Response[Accepted]:
    cognito.resend_code(request.email)
    return _accepted()


@app.post(
    "/auth/logout",
    security=PUBLIC,
    status_code=204,
    tags=["auth"],
    summary="Revoke a refresh token, or with everywhere every session of its account",
    responses=responses(204, "Signed out", {401: "everywhere: the refresh token is invalid, expired or revoked"}),
)
def logout(request: Logout) -> Response[None]:
    if request.everywhere:
        cognito.sign_out_everywhere(request.refresh_token)
    else:
        cognito.revoke(request.refresh_token)
    return _no_content()


@app.post(
    "/auth/password",
    security=PROTECTED,
    status_code=204,
    tags=["account"],
    summary="Change the caller's password",
    responses=responses(204, "The password is changed", {403: "The current password is wrong"}),
)
def change_password(request: ChangePassword) -> Response[None]:
    cognito.change_password(_username(), request)
    return _no_content()


@app.get("/me", security=PROTECTED, tags=["account"], summary="The caller's account")
def get_account() -> Profile:
    return cognito.account(_username())


@app.patch("/me", security=PROTECTED, tags=["account"], summary="Change the caller's name")
def update_account(request: ProfileUpdate) -> Profile:
    return cognito.rename(_username(), request.name)


@app.post(
    "/me/mfa/totp",
    security=PROTECTED,
    tags=["account"],
    summary="A new authenticator-app (TOTP) key for the caller; not in force until verified",
    responses=responses(
        200,
        "The key, as text and as an otpauth:// URI",
        {403: "The access token is another account's"},
    ),
)
def start_totp(request: TotpSetup) -> TotpSecret:
    return cognito.start_totp(current_caller(app).sub, request.access_token)


@app.post(
    "/me/mfa/totp/verify",
    security=PROTECTED,
    status_code=204,
    tags=["account"],
    summary="Turn TOTP on with the authenticator app's current code: logins then need a code",
    responses=responses(204, "TOTP is on", {403: "The code is wrong, or the access token is another account's"}),
)
def verify_totp(request: TotpVerification) -> Response[None]:
    cognito.verify_totp(current_caller(app).sub, request.access_token, request.code)
    return _no_content()


def _username() -> str:
    """The caller's Cognito username: a pool signing in by email names each user by a generated id (its sub)."""
    claims = app.current_event.request_context.authorizer.claims or {}
    return str(claims.get("cognito:username") or current_caller(app).sub)


def _accepted() -> Response[Accepted]:
    body = Accepted(message="If the address has an account, a code is on its way to it")
    return Response(status_code=202, content_type=content_types.APPLICATION_JSON, body=body)


def _no_content() -> Response[None]:
    return Response(status_code=204, body=None)
