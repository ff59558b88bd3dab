"""What each Cognito error means for the caller of an identity route, as one of our domain errors.

Rules: a wrong password and an unknown user get the same 401, so the API does not tell who has an account; a
confirmation code that confirms nothing is a 403 (the request is well formed: its code is refused);
throttling is a 429 the caller may retry; a mistake in the request is a 400 naming the field. Cognito's own
messages are never passed on: some name what was sent (a token, a username). An error not listed here is a fault
of ours or of the pool's configuration (e.g. a disabled auth flow), and answers 500.
https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_SignUp.html#API_SignUp_Errors
"""

from __future__ import annotations

from typing import Literal

from lambdas.shared.errors import (
    Conflict,
    DomainError,
    FieldError,
    Forbidden,
    InvalidInput,
    TooManyRequests,
    Unauthorized,
)

Operation = Literal[
    "sign_up",
    "confirm",
    "login",
    "refresh",
    "forgot_password",
    "resend_code",
    "reset_password",
    "logout",
    "sign_out",
    "change_password",
    "account",
    "mfa_setup",
    "mfa_verify",
    "login_mfa",
]

WRONG_CREDENTIALS = "Incorrect email or password"
BAD_REFRESH_TOKEN = "The refresh token is invalid, expired or revoked: log in again"
NOT_CONFIRMED = "The email address is not confirmed yet: confirm it with the code sent to it"
RESET_REQUIRED = "A password reset is required before logging in"
TOO_MANY = "Too many requests: wait a little and try again"
WRONG_CODE = "does not match a pending sign-up of this email address, or has expired"
CODE_REFUSED = "The code confirms no sign-up: check it, or sign up again for a new one."
ALREADY_REGISTERED = "An account with this email address already exists: log in, or sign up with another address."
RESET_REFUSED = "The code resets no password: check it, or ask for a new one."
WRONG_RESET_CODE = "does not match a reset asked for this email address, or has expired"
WRONG_CURRENT_PASSWORD = "The current password is wrong"
ACCOUNT_GONE = "The account no longer exists: sign up again"
BAD_ACCESS_TOKEN = "is invalid, expired or revoked: log in again for a new one"
TOTP_REFUSED = "The code is not the authenticator app's current one: check the app's clock, and try the next code."
WRONG_TOTP = "is not the current code of the authenticator app"
MFA_SESSION_EXPIRED = "The login session is invalid or has expired: log in again"
NOT_A_REFRESH_TOKEN = "is not a refresh token"

_THROTTLED = {"TooManyRequestsException", "LimitExceededException", "TooManyFailedAttemptsException"}


def domain_error(operation: Operation, code: str, message: str = "") -> DomainError | None:
    """The domain error for Cognito error `code` (with its `message`) from `operation`; None if it is a fault."""
    if code in _THROTTLED:
        return TooManyRequests(TOO_MANY)
    if operation == "sign_up":
        return _sign_up_error(code, message)
    if operation == "confirm":
        return _confirm_error(code, message)
    if operation == "login":
        return _login_error(code)
    if operation in ("refresh", "sign_out"):
        return _refresh_error(code)
    return _ACCOUNT_ERRORS[operation](code, message)


# What ForgotPassword and ResendConfirmationCode may answer about the account itself (none, unconfirmed, confirmed
# already, no verified email, disabled): the routes answer 202 whatever it is, so that they tell nobody whether
# an email has an account. The deployed client (PreventUserExistenceErrors) hides most of them already.
SILENT_REFUSALS = frozenset(
    {
        "UserNotFoundException",
        "InvalidParameterException",
        "NotAuthorizedException",
        "UserNotConfirmedException",
        "CodeDeliveryFailureException",
    }
)


def _reset_error(code: str, message: str) -> DomainError | None:
    if code == "InvalidPasswordException" or (code == "InvalidParameterException" and "password" in message.lower()):
        return InvalidInput("body.newPassword", "is not accepted by the user pool's password policy")
    # An unknown email, a wrong or expired code, a code of another kind: one answer, no oracle.
    refusals = ("CodeMismatchException", "ExpiredCodeException", "UserNotFoundException", "NotAuthorizedException")
    if code in refusals or code == "InvalidParameterException":
        return Forbidden(RESET_REFUSED, (FieldError("body.code", WRONG_RESET_CODE),))
    return None


def _logout_error(code: str, message: str) -> DomainError | None:
    if code in ("UnsupportedTokenTypeException", "InvalidParameterException"):
        return InvalidInput("body.refreshToken", NOT_A_REFRESH_TOKEN)
    return None


def _change_password_error(code: str, message: str) -> DomainError | None:
    if code == "NotAuthorizedException":
        return Forbidden(WRONG_CURRENT_PASSWORD, (FieldError("body.currentPassword", "is wrong"),))
    if code == "PasswordResetRequiredException":
        return Forbidden(RESET_REQUIRED)
    if code == "InvalidPasswordException" or (code == "InvalidParameterException" and "password" in message.lower()):
        return InvalidInput("body.newPassword", "is not accepted by the user pool's password policy")
    return _account_error(code, message)


def _account_error(code: str, message: str) -> DomainError | None:
    # An ID token outlives its account (it stays valid until it expires): the account it names is gone.
    if code == "UserNotFoundException":
        return Unauthorized(ACCOUNT_GONE)
    return None


def _mfa_error(code: str, message: str) -> DomainError | None:
    if code == "InvalidParameterException":
        return InvalidInput("body.accessToken", "is not an access token")
    if code == "NotAuthorizedException":
        return Unauthorized("The access token is not valid", (FieldError("body.accessToken", BAD_ACCESS_TOKEN),))
    if code in ("EnableSoftwareTokenMFAException", "CodeMismatchException", "SoftwareTokenMFANotFoundException"):
        return Forbidden(TOTP_REFUSED, (FieldError("body.code", WRONG_TOTP),))
    return _account_error(code, message)


def _login_mfa_error(code: str, message: str) -> DomainError | None:
    if code in ("CodeMismatchException", "ExpiredCodeException"):
        return Forbidden(TOTP_REFUSED, (FieldError("body.code", WRONG_TOTP),))
    if code in ("NotAuthorizedException", "UserNotFoundException"):
        return Unauthorized(MFA_SESSION_EXPIRED)
    return None


def _no_refusal(code: str, message: str) -> DomainError | None:
    return None


_ACCOUNT_ERRORS = {
    "forgot_password": _no_refusal,
    "resend_code": _no_refusal,
    "reset_password": _reset_error,
    "logout": _logout_error,
    "change_password": _change_password_error,
    "account": _account_error,
    "mfa_setup": _mfa_error,
    "mfa_verify": _mfa_error,
    "login_mfa": _login_mfa_error,
}


def _sign_up_error(code: str, message: str) -> DomainError | None:
    if code in ("UsernameExistsException", "AliasExistsException"):
        return Conflict("body.email", "is already registered", ALREADY_REGISTERED)
    if code == "InvalidPasswordException":
        # The request passed our copy of the policy, so the pool enforces more (e.g. reuse of a breached password).
        return InvalidInput("body.password", "is not accepted by the user pool's password policy")
    if code == "InvalidParameterException":
        return InvalidInput(*_invalid_parameter_field(message))
    return None


def _invalid_parameter_field(message: str) -> tuple[str, str]:
    lowered = message.lower()
    if "password" in lowered:
        return "body.password", "is not accepted by the user pool"
    if "email" in lowered or "username" in lowered:
        return "body.email", "is not a valid email address"
    if "name" in lowered:
        return "body.name", "is not accepted by the user pool"
    return "body", "is not accepted by the user pool"


# Every way a confirmation can fail for the caller answers alike, so that confirming tells nobody whether an
# email has an account: an unknown email, a wrong or expired code, an account already confirmed (Cognito's
# NotAuthorizedException "Current status is CONFIRMED"), an address another account has confirmed.
_CONFIRM_REFUSALS = (
    "CodeMismatchException",
    "UserNotFoundException",
    "ExpiredCodeException",
    "AliasExistsException",
)


def _confirm_error(code: str, message: str) -> DomainError | None:
    # Another NotAuthorizedException (e.g. a secret hash the client needs) is our configuration's fault.
    if code in _CONFIRM_REFUSALS or (code == "NotAuthorizedException" and "CONFIRMED" in message):
        return Forbidden(CODE_REFUSED, (FieldError("body.code", WRONG_CODE),))
    return None


def _login_error(code: str) -> DomainError | None:
    if code in ("NotAuthorizedException", "UserNotFoundException"):
        return Unauthorized(WRONG_CREDENTIALS)
    if code == "UserNotConfirmedException":
        return Forbidden(NOT_CONFIRMED)
    if code == "PasswordResetRequiredException":
        return Forbidden(RESET_REQUIRED)
    return None


def _refresh_error(code: str) -> DomainError | None:
    if code in ("NotAuthorizedException", "UserNotFoundException"):
        return Unauthorized(BAD_REFRESH_TOKEN)
    if code == "UserNotConfirmedException":
        return Forbidden(NOT_CONFIRMED)
    if code == "PasswordResetRequiredException":
        return Forbidden(RESET_REQUIRED)
    return None


def challenge_error(challenge: str) -> DomainError:
    """A login that Cognito answers with a challenge (new password, MFA) this API cannot complete."""
    if challenge == "NEW_PASSWORD_REQUIRED":
        return Forbidden("A new password must be set before logging in")
    return Forbidden(f"The login needs a {challenge} challenge, which this API does not support")
