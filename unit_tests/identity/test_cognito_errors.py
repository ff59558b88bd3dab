from __future__ import annotations

from http import HTTPStatus

import pytest

from lambdas.identity.cognito_errors import Operation, challenge_error, domain_error

UNAUTHORIZED, FORBIDDEN, BAD_REQUEST = HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN, HTTPStatus.BAD_REQUEST
CONFLICT, TOO_MANY = HTTPStatus.CONFLICT, HTTPStatus.TOO_MANY_REQUESTS


@pytest.mark.parametrize(
    ("operation", "code", "message", "status", "field"),
    [
        (
            "sign_up",
            "UsernameExistsException",
            "An account with the given email already exists.",
            CONFLICT,
            "body.email",
        ),
        ("sign_up", "AliasExistsException", "", CONFLICT, "body.email"),
        ("sign_up", "InvalidPasswordException", "Password did not conform with policy", BAD_REQUEST, "body.password"),
        ("sign_up", "InvalidParameterException", "Invalid email address format.", BAD_REQUEST, "body.email"),
        (
            "sign_up",
            "InvalidParameterException",
            "Username should be either an email or a phone number.",
            BAD_REQUEST,
            "body.email",
        ),
        (
            "sign_up",
            "InvalidParameterException",
            "Value at 'password' failed to satisfy constraint",
            BAD_REQUEST,
            "body.password",
        ),
        (
            "sign_up",
            "InvalidParameterException",
            "Attributes did not conform to the schema: name: too long",
            BAD_REQUEST,
            "body.name",
        ),
        ("sign_up", "InvalidParameterException", "something else", BAD_REQUEST, "body"),
        ("confirm", "CodeMismatchException", "Invalid verification code provided", FORBIDDEN, "body.code"),
        (
            "confirm",
            "ExpiredCodeException",
            "Invalid code provided, please request a code again.",
            FORBIDDEN,
            "body.code",
        ),
        ("confirm", "UserNotFoundException", "Username/client id combination not found.", FORBIDDEN, "body.code"),
        (
            "confirm",
            "NotAuthorizedException",
            "User cannot be confirmed. Current status is CONFIRMED",
            FORBIDDEN,
            "body.code",
        ),
        ("confirm", "AliasExistsException", "", FORBIDDEN, "body.code"),
        ("login", "NotAuthorizedException", "Incorrect username or password.", UNAUTHORIZED, None),
        ("login", "UserNotFoundException", "User does not exist.", UNAUTHORIZED, None),
        ("login", "UserNotConfirmedException", "User is not confirmed.", FORBIDDEN, None),
        ("login", "PasswordResetRequiredException", "Password reset required for the user", FORBIDDEN, None),
        ("refresh", "NotAuthorizedException", "Invalid Refresh Token", UNAUTHORIZED, None),
        ("refresh", "UserNotFoundException", "", UNAUTHORIZED, None),
        ("refresh", "UserNotConfirmedException", "", FORBIDDEN, None),
        ("refresh", "PasswordResetRequiredException", "", FORBIDDEN, None),
    ],
)
def test_a_callers_mistake_is_a_4xx(
    operation: Operation, code: str, message: str, status: HTTPStatus, field: str | None
) -> None:
    error = domain_error(operation, code, message)

    assert error is not None
    assert error.status == status
    assert [e.field for e in error.errors] == ([field] if field else [])
    if message:  # Cognito's words are never passed on: some quote what was sent
        assert all(message not in text for text in [error.message, *(e.message for e in error.errors)])


@pytest.mark.parametrize("operation", ["sign_up", "confirm", "login", "refresh"])
@pytest.mark.parametrize(
    "code", ["TooManyRequestsException", "LimitExceededException", "TooManyFailedAttemptsException"]
)
def test_throttling_is_429_everywhere(operation: Operation, code: str) -> None:
    error = domain_error(operation, code)

    assert error is not None and error.status == TOO_MANY


def test_a_wrong_password_and_an_unknown_user_are_indistinguishable() -> None:
    wrong_password = domain_error("login", "NotAuthorizedException", "Incorrect username or password.")
    unknown_user = domain_error("login", "UserNotFoundException", "User does not exist.")

    assert wrong_password is not None and unknown_user is not None
    assert (wrong_password.status, wrong_password.message) == (unknown_user.status, unknown_user.message)


@pytest.mark.parametrize(
    ("operation", "code", "message"),
    [
        ("sign_up", "CodeDeliveryFailureException", ""),
        ("sign_up", "UserLambdaValidationException", "PreSignUp failed with error boom."),
        ("sign_up", "ResourceNotFoundException", "client not found"),
        ("confirm", "NotAuthorizedException", "Unable to verify secret hash for client"),
        ("login", "InvalidParameterException", "USER_PASSWORD_AUTH flow not enabled for this client"),
        ("login", "ResourceNotFoundException", ""),
        ("refresh", "InternalErrorException", ""),
    ],
)
def test_a_fault_of_ours_or_of_the_configuration_is_not_mapped(operation: Operation, code: str, message: str) -> None:
    assert domain_error(operation, code, message) is None


@pytest.mark.parametrize(
    ("challenge", "says"),
    [("NEW_PASSWORD_REQUIRED", "new password"), ("SOFTWARE_TOKEN_MFA", "SOFTWARE_TOKEN_MFA")],
)
def test_an_unsupported_challenge_is_403(challenge: str, says: str) -> None:
    error = challenge_error(challenge)

    assert error.status == FORBIDDEN
    assert says in error.message
