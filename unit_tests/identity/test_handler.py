"""The identity routes against moto's Cognito (and Cognito's answers moto cannot give, through botocore's Stubber)."""

from __future__ import annotations

import importlib
import json
import uuid
from collections.abc import Callable

import jwt
import pytest
from botocore.stub import Stubber

from embedded_stack.moto.cognito_mail import Outbox
from embedded_stack.provision import Provisioned
from lambdas.identity import handler
from lambdas.identity.cognito_errors import CODE_REFUSED, WRONG_CODE
from lambdas.shared.api import INTERNAL_ERROR
from lambdas.shared.aws import client
from testkit import call
from unit_tests.identity.conftest import PASSWORD


def new_user(**overrides: str) -> dict[str, str]:
    return {
        "email": f"ada-{uuid.uuid4().hex[:8]}@example.com",
        "password": PASSWORD,
        "name": "Ada Lovelace",
        **overrides,
    }


def sign_up(**overrides: str) -> dict[str, str]:
    user = new_user(**overrides)
    result = call("POST", "/auth/signup", user)
    assert result.status == 201, result.body
    return user | result.json()


def log_in(user: dict[str, str]) -> dict[str, object]:
    result = call("POST", "/auth/login", {"email": user["email"], "password": user["password"]})
    assert result.status == 200, result.body
    return result.json()


def cognito_user(aws: Provisioned, email: str) -> dict[str, object]:
    return client("cognito-idp").admin_get_user(UserPoolId=aws.user_pool_id, Username=email)


def attributes(user: dict[str, object]) -> dict[str, str]:
    return {a["Name"]: a["Value"] for a in user["UserAttributes"]}  # type: ignore[index,union-attr]


def error_fields(result: object) -> list[str]:
    return [error["field"] for error in result.json().get("errors", [])]  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------------------------- sign-up


def test_sign_up_answers_201_with_the_users_sub(aws: Provisioned, no_trigger: None) -> None:
    user = new_user(email="  Ada.Lovelace@Example.COM ")

    result = call("POST", "/auth/signup", user)

    assert result.status == 201, result.body
    assert set(result.json()) == {"userId"}
    stored = cognito_user(aws, "ada.lovelace@example.com")
    assert attributes(stored)["sub"] == result.json()["userId"]
    assert attributes(stored)["email"] == "ada.lovelace@example.com"
    assert attributes(stored)["name"] == "Ada Lovelace"
    assert stored["UserStatus"] == "UNCONFIRMED"


def test_with_the_pre_sign_up_trigger_a_new_user_can_log_in_at_once(aws: Provisioned, trigger: None) -> None:
    user = sign_up()

    assert cognito_user(aws, user["email"])["UserStatus"] == "CONFIRMED"
    assert attributes(cognito_user(aws, user["email"]))["email_verified"] == "true"
    assert log_in(user)["tokenType"] == "Bearer"


def test_the_same_email_twice_is_409(aws: Provisioned, no_trigger: None) -> None:
    user = sign_up()

    again = call("POST", "/auth/signup", new_user(email=user["email"].upper()))

    assert again.status == 409
    assert again.json()["errors"] == [{"field": "body.email", "message": "is already registered"}]
    assert again.json()["message"] == (
        "An account with this email address already exists: log in, or sign up with another address."
    )
    assert again.json()["requestId"]


@pytest.mark.parametrize(
    ("change", "field", "says"),
    [
        ({"password": "short-A1"}, "body.password", "at least 12 characters"),
        ({"password": "no-upper-case-42"}, "body.password", "uppercase"),
        ({"password": "NoSymbolsHere42"}, "body.password", "symbol"),
        ({"password": "No-Numbers-Here"}, "body.password", "number"),
        ({"password": " Leading-Space-42"}, "body.password", "space"),
        ({"password": "Correct-Horse-42\x1c"}, "body.password", "control characters"),
        ({"password": "Correct\rHorse-42"}, "body.password", "control characters"),
        ({"email": "not-an-email"}, "body.email", "valid email"),
        ({"email": "ada@localhost"}, "body.email", "valid email"),
        ({"email": ""}, "body.email", ""),
        ({"name": ""}, "body.name", "at least 1"),
        ({"name": "x" * 257}, "body.name", "at most 256"),
        ({"name": "Ada\u0000"}, "body.name", "control characters"),
        ({"role": "admin"}, "body", "the allowed fields are: email, password, name"),
    ],
)
def test_invalid_sign_up_is_400_naming_the_field_and_rule(
    aws: Provisioned, change: dict[str, str], field: str, says: str
) -> None:
    result = call("POST", "/auth/signup", new_user(**change))

    assert result.status == 400, result.body
    errors = {error["field"]: error["message"] for error in result.json()["errors"]}
    assert says in errors[field]


def test_a_missing_field_is_400(aws: Provisioned) -> None:
    result = call("POST", "/auth/signup", {"email": "a@example.com", "name": "A"})

    assert result.status == 400
    assert error_fields(result) == ["body.password"]


def test_a_password_cognito_refuses_is_400_on_password(aws: Provisioned) -> None:
    # The pool is stricter than the catalog says (drift, or a policy we do not copy): Cognito's word counts.
    client("cognito-idp").update_user_pool(
        UserPoolId=aws.user_pool_id, Policies={"PasswordPolicy": {"MinimumLength": 40}}
    )

    result = call("POST", "/auth/signup", new_user())

    assert result.status == 400
    assert result.json()["errors"] == [
        {"field": "body.password", "message": "is not accepted by the user pool's password policy"}
    ]


# ---------------------------------------------------------------------------------------------- confirm


def test_confirm_with_the_emailed_code_then_log_in(aws: Provisioned, no_trigger: None, outbox: Outbox) -> None:
    user = sign_up()
    unconfirmed = call("POST", "/auth/login", {"email": user["email"], "password": PASSWORD})
    assert unconfirmed.status == 403
    assert "not confirmed" in unconfirmed.json()["message"]

    confirmed = call("POST", "/auth/confirm", {"email": user["email"], "code": outbox.last_code(user["email"])})

    assert confirmed.status == 200, confirmed.body
    assert cognito_user(aws, user["email"])["UserStatus"] == "CONFIRMED"
    assert log_in(user)["idToken"]


def test_confirming_with_a_code_other_than_the_emailed_one_is_403_on_code(
    aws: Provisioned, no_trigger: None, outbox: Outbox
) -> None:
    user = sign_up()
    wrong = f"{(int(outbox.last_code(user['email']) or 0) + 1) % 1_000_000:06d}"

    result = call("POST", "/auth/confirm", {"email": user["email"], "code": wrong})

    assert result.status == 403
    assert error_fields(result) == ["body.code"]
    assert cognito_user(aws, user["email"])["UserStatus"] == "UNCONFIRMED"


def test_confirming_an_unknown_email_is_403_on_code(aws: Provisioned) -> None:
    result = call("POST", "/auth/confirm", {"email": "nobody@example.com", "code": "123456"})

    assert result.status == 403
    assert error_fields(result) == ["body.code"]


def test_confirm_answers_alike_for_an_unknown_email_and_an_existing_one(aws: Provisioned, trigger: None) -> None:
    existing = sign_up()  # confirmed by the trigger: any code is wrong now

    answers = [
        call("POST", "/auth/confirm", {"email": email, "code": "123456"})
        for email in (existing["email"], f"nobody-{uuid.uuid4().hex}@example.com")
    ]

    assert answers[0].status == answers[1].status == 403
    assert [{**answer.json(), "requestId": None} for answer in answers] == [
        {
            "message": CODE_REFUSED,
            "requestId": None,
            "errors": [{"field": "body.code", "message": WRONG_CODE}],
        }
    ] * 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "a@example.com", "code": ""}, "body.code"),
        ({"email": "a@example.com", "code": "12 34"}, "body.code"),
        ({"email": "a@example.com"}, "body.code"),
        ({"email": "nope", "code": "123456"}, "body.email"),
    ],
)
def test_an_invalid_confirmation_is_400(aws: Provisioned, body: dict[str, str], field: str) -> None:
    result = call("POST", "/auth/confirm", body)

    assert result.status == 400
    assert field in error_fields(result)


@pytest.mark.parametrize(
    ("code", "status", "field"),
    [
        ("CodeMismatchException", 403, "body.code"),
        ("ExpiredCodeException", 403, "body.code"),
        ("TooManyFailedAttemptsException", 429, None),
        ("LimitExceededException", 429, None),
    ],
)
def test_cognitos_confirmation_errors(cognito_stub: Stubber, code: str, status: int, field: str | None) -> None:
    cognito_stub.add_client_error("confirm_sign_up", service_error_code=code, service_message="whatever")

    result = call("POST", "/auth/confirm", {"email": "ada@example.com", "code": "123456"})

    assert result.status == status
    assert error_fields(result) == ([field] if field else [])
    assert "whatever" not in result.body


# ---------------------------------------------------------------------------------------------- login


def test_login_answers_the_tokens(aws: Provisioned, trigger: None) -> None:
    user = sign_up()

    tokens = log_in(user)

    assert set(tokens) == {"idToken", "accessToken", "refreshToken", "expiresIn", "tokenType"}
    assert tokens["tokenType"] == "Bearer"
    assert isinstance(tokens["expiresIn"], int) and tokens["expiresIn"] > 0
    claims = jwt.decode(str(tokens["idToken"]), options={"verify_signature": False})
    assert claims["token_use"] == "id"
    assert claims["sub"] == user["userId"]
    assert claims["aud"] == aws.user_pool_client_id


def test_login_email_is_case_insensitive(aws: Provisioned, trigger: None) -> None:
    user = sign_up()

    result = call("POST", "/auth/login", {"email": user["email"].upper(), "password": PASSWORD})

    assert result.status == 200


def test_a_wrong_password_and_an_unknown_user_get_the_same_401(aws: Provisioned, trigger: None) -> None:
    user = sign_up()

    wrong_password = call("POST", "/auth/login", {"email": user["email"], "password": PASSWORD + "x"})
    unknown_user = call("POST", "/auth/login", {"email": "nobody@example.com", "password": PASSWORD})

    assert wrong_password.status == unknown_user.status == 401
    assert wrong_password.json()["message"] == unknown_user.json()["message"] == "Incorrect email or password"
    assert "errors" not in wrong_password.json()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "ada@example.com", "password": ""}, "body.password"),
        ({"email": "ada@example.com"}, "body.password"),
        ({"email": "ada", "password": PASSWORD}, "body.email"),
        ({"email": "ada@example.com", "password": "x" * 257}, "body.password"),
        ({"email": "ada@example.com", "password": PASSWORD, "mfa": "1"}, "body"),
    ],
)
def test_an_invalid_login_is_400(aws: Provisioned, body: dict[str, str], field: str) -> None:
    result = call("POST", "/auth/login", body)

    assert result.status == 400
    assert field in error_fields(result)


def test_a_login_is_not_trimmed_a_password_is_taken_as_typed(aws: Provisioned, trigger: None) -> None:
    user = sign_up()

    result = call("POST", "/auth/login", {"email": user["email"], "password": f" {PASSWORD} "})

    # No password begins with a space (Cognito's form, stated in the document): a 400, where a trimmed one logs in.
    assert result.status == 400, result.body
    assert result.json()["errors"] == [{"field": "body.password", "message": "must not begin or end with a space"}]


def test_a_login_password_outside_the_documented_form_is_400(aws: Provisioned) -> None:
    result = call("POST", "/auth/login", {"email": "ada@example.com", "password": "Correct\rHorse-42"})

    assert result.status == 400, result.body
    assert result.json()["errors"] == [
        {"field": "body.password", "message": "must be one line, without line breaks or control characters"}
    ]


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("TooManyRequestsException", 429),
        ("LimitExceededException", 429),
        ("TooManyFailedAttemptsException", 429),
        ("PasswordResetRequiredException", 403),
        ("UserNotConfirmedException", 403),
    ],
)
def test_cognitos_login_errors(cognito_stub: Stubber, code: str, status: int) -> None:
    cognito_stub.add_client_error("initiate_auth", service_error_code=code)

    result = call("POST", "/auth/login", {"email": "ada@example.com", "password": PASSWORD})

    assert result.status == status
    assert result.json()["requestId"]


def test_a_login_challenge_is_403(cognito_stub: Stubber) -> None:
    cognito_stub.add_response(
        "initiate_auth", {"ChallengeName": "NEW_PASSWORD_REQUIRED", "Session": "s" * 20, "ChallengeParameters": {}}
    )

    result = call("POST", "/auth/login", {"email": "ada@example.com", "password": PASSWORD})

    assert result.status == 403
    assert "new password" in result.json()["message"]


def test_a_cognito_fault_is_500_with_the_request_id_and_no_internals(
    cognito_stub: Stubber, output: Callable[[], str]
) -> None:
    cognito_stub.add_client_error(
        "initiate_auth", service_error_code="InvalidParameterException", service_message="USER_PASSWORD_AUTH off"
    )

    result = call("POST", "/auth/login", {"email": "ada@example.com", "password": PASSWORD})

    assert result.status == 500
    assert set(result.json()) == {"message", "requestId"}
    assert result.json()["message"] == INTERNAL_ERROR
    assert "InvalidParameterException" in output()  # the operator sees what failed


# ---------------------------------------------------------------------------------------------- refresh


def test_refresh_answers_new_tokens(aws: Provisioned, trigger: None) -> None:
    tokens = log_in(sign_up())

    result = call("POST", "/auth/refresh", {"refreshToken": tokens["refreshToken"]})

    assert result.status == 200, result.body
    refreshed = result.json()
    assert set(refreshed) == {"idToken", "accessToken", "expiresIn", "tokenType"}
    assert refreshed["idToken"] != tokens["idToken"]
    assert jwt.decode(refreshed["idToken"], options={"verify_signature": False})["token_use"] == "id"


def test_a_rotated_refresh_token_is_passed_on(cognito_stub: Stubber) -> None:
    cognito_stub.add_response(
        "initiate_auth",
        {
            "AuthenticationResult": {
                "IdToken": "id",
                "AccessToken": "access",
                "RefreshToken": "new-refresh",
                "ExpiresIn": 3600,
                "TokenType": "Bearer",
            }
        },
    )

    result = call("POST", "/auth/refresh", {"refreshToken": "old-refresh"})

    assert result.json() == {
        "idToken": "id",
        "accessToken": "access",
        "refreshToken": "new-refresh",
        "expiresIn": 3600,
        "tokenType": "Bearer",
    }


@pytest.mark.parametrize("token", ["not-a-refresh-token", str(uuid.uuid4())], ids=["malformed", "unknown"])
def test_a_bad_refresh_token_is_401(aws: Provisioned, token: str) -> None:
    result = call("POST", "/auth/refresh", {"refreshToken": token})

    assert result.status == 401
    assert token not in result.body


@pytest.mark.parametrize("body", [{}, {"refreshToken": ""}, {"refresh_token": "x"}])
def test_an_invalid_refresh_is_400(aws: Provisioned, body: dict[str, str]) -> None:
    assert call("POST", "/auth/refresh", body).status == 400


# ---------------------------------------------------------------------------------------------- logs


def test_passwords_and_tokens_never_reach_the_logs(
    aws: Provisioned, trigger: None, output: Callable[[], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # POWERTOOLS_DEV makes Powertools print every event; the embedded stack sets it.
    monkeypatch.setenv("POWERTOOLS_DEV", "true")
    monkeypatch.setenv("POWERTOOLS_LOGGER_LOG_EVENT", "true")
    importlib.reload(handler)
    try:
        user = sign_up()
        tokens = log_in(user)
        call("POST", "/auth/login", {"email": user["email"], "password": "Wrong-Password-1"})
        refreshed = call("POST", "/auth/refresh", {"refreshToken": tokens["refreshToken"]}).json()
        call("POST", "/auth/refresh", {"refreshToken": "made-up-refresh-token"})
        call("POST", "/auth/signup", {**new_user(), "password": "Weak-Password"})
        call("POST", "/auth/confirm", {"email": user["email"], "code": "987654"})
    finally:
        monkeypatch.delenv("POWERTOOLS_DEV")
        monkeypatch.delenv("POWERTOOLS_LOGGER_LOG_EVENT")
        importlib.reload(handler)

    logged = output()
    records = [json.loads(line) for line in logged.splitlines() if line.startswith("{") and line.endswith("}")]
    assert any(record.get("message") == "user signed up" for record in records), logged  # the log was captured
    secrets = [
        PASSWORD,
        "Wrong-Password-1",
        "Weak-Password",
        "987654",
        "made-up-refresh-token",
        *(str(tokens[name]) for name in ("idToken", "accessToken", "refreshToken")),
        refreshed["idToken"],
        refreshed["accessToken"],
    ]
    for secret in secrets:
        assert secret not in logged


@pytest.mark.parametrize("password", ["Correct-Horse-\ud800-42", "\udfffCorrect-Horse-42"])
def test_a_password_with_a_lone_surrogate_is_refused_at_sign_up(aws: Provisioned, password: str) -> None:
    result = call("POST", "/auth/signup", new_user(password=password))

    assert result.status == 400, result.body
    assert result.json()["errors"] == [
        {"field": "body.password", "message": "must not contain unpaired surrogates (it is not valid Unicode)"}
    ]
