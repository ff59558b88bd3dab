"""Sign-up, login, a protected call and refresh over HTTP, and every way authentication can fail.

Runs against any stack (embedded, LocalStack, AWS): each test makes its own user with a unique email.
"""

from __future__ import annotations

import base64
import json
import uuid

import pytest

from integration_tests.auth_fixtures import SignedInUser, new_credentials, sign_up_and_log_in
from integration_tests.conftest import Api

PROTECTED_PATH = "/sla-errors"


def test_sign_up_log_in_call_a_protected_route_and_refresh(api: Api) -> None:
    credentials = new_credentials()

    signed_up = api.post("/auth/signup", json=credentials)
    assert signed_up.status_code == 201, signed_up.text
    user_id = signed_up.json()["userId"]
    assert str(uuid.UUID(user_id)) == user_id

    login = api.post("/auth/login", json={"email": credentials["email"], "password": credentials["password"]})
    assert login.status_code == 200, login.text
    tokens = login.json()
    assert set(tokens) == {"idToken", "accessToken", "refreshToken", "expiresIn", "tokenType"}
    assert tokens["tokenType"] == "Bearer" and tokens["expiresIn"] > 0

    protected = api.get(PROTECTED_PATH, headers={"Authorization": f"Bearer {tokens['idToken']}"})
    assert protected.status_code == 200, protected.text

    refreshed = api.post("/auth/refresh", json={"refreshToken": tokens["refreshToken"]})
    assert refreshed.status_code == 200, refreshed.text
    new_tokens = refreshed.json()
    assert {"idToken", "accessToken", "expiresIn", "tokenType"} <= set(new_tokens)
    again = api.get(PROTECTED_PATH, headers={"Authorization": f"Bearer {new_tokens['idToken']}"})
    assert again.status_code == 200, again.text


def test_the_id_token_names_the_user(api: Api, user: SignedInUser) -> None:
    payload = user.id_token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))

    assert claims["sub"] == user.user_id
    assert claims["email"] == user.email
    assert claims["token_use"] == "id"


def test_the_bare_token_works_too(api: Api, user: SignedInUser) -> None:
    assert api.get(PROTECTED_PATH, headers={"Authorization": user.id_token}).status_code == 200


def test_the_email_is_not_case_sensitive(api: Api, user: SignedInUser) -> None:
    login = api.post("/auth/login", json={"email": user.email.upper(), "password": user.password})

    assert login.status_code == 200, login.text


# ---------------------------------------------------------------------------------------------- sign-up errors


def test_signing_up_twice_is_409(api: Api, user: SignedInUser) -> None:
    again = api.post("/auth/signup", json={**new_credentials(), "email": user.email})

    assert again.status_code == 409
    assert again.json()["errors"] == [{"field": "body.email", "message": "is already registered"}]
    assert again.json()["requestId"]


@pytest.mark.parametrize(
    ("change", "field", "says"),
    [
        ({"password": "short-A1!"}, "body.password", "at least 12 characters"),
        ({"password": "all-lower-case-42"}, "body.password", "uppercase"),
        ({"password": "NoSymbolsAtAll42"}, "body.password", "symbol"),
        ({"password": "No-Digits-At-All"}, "body.password", "number"),
        ({"password": "\x1fCorrect-Horse-42"}, "body.password", "control characters"),
        ({"password": "Correct\rHorse-42"}, "body.password", "control characters"),
        ({"password": "Correct-Horse-42\u3000"}, "body.password", "must not begin or end with a space"),
        ({"email": "not-an-email"}, "body.email", "email"),
        ({"email": "two@@example.com"}, "body.email", "email"),
        ({"name": ""}, "body.name", "at least 1"),
        ({"admin": True}, "body", "the allowed fields are"),
    ],
)
def test_an_invalid_sign_up_is_400_naming_the_rule(api: Api, change: dict[str, object], field: str, says: str) -> None:
    response = api.post("/auth/signup", json={**new_credentials(), **change})

    assert response.status_code == 400, response.text
    errors = {error["field"]: error["message"] for error in response.json()["errors"]}
    assert says in errors[field]


def test_a_sign_up_that_is_not_json_is_400(api: Api) -> None:
    response = api.post("/auth/signup", data="{oops", headers={"Content-Type": "application/json"})

    assert response.status_code == 400
    assert response.json()["errors"] == [{"field": "body", "message": "is not valid JSON"}]


# ---------------------------------------------------------------------------------------------- login errors


def test_a_wrong_password_and_an_unknown_user_get_the_same_401(api: Api, user: SignedInUser) -> None:
    wrong = api.post("/auth/login", json={"email": user.email, "password": user.password + "x"})
    unknown = api.post(
        "/auth/login", json={"email": f"nobody-{uuid.uuid4().hex}@example.com", "password": "Whatever-1!"}
    )

    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["message"] == unknown.json()["message"]
    assert user.password not in wrong.text


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"email": "a@example.com"},
        {"password": "x"},
        {"email": "nope", "password": "x"},
        {"email": "a@example.com", "password": ""},
        {"email": "a@example.com", "password": " Correct-Horse-42"},  # no password can begin with a space
        {"email": "a@example.com", "password": "Correct-Horse-42\n"},
    ],
)
def test_an_invalid_login_is_400(api: Api, body: dict[str, str]) -> None:
    response = api.post("/auth/login", json=body)

    assert response.status_code == 400
    assert response.json()["errors"]


# ---------------------------------------------------------------------------------------------- confirm errors


def test_confirming_an_unknown_email_is_403_on_the_code(api: Api) -> None:
    response = api.post("/auth/confirm", json={"email": f"nobody-{uuid.uuid4().hex}@example.com", "code": "123456"})

    assert response.status_code == 403
    assert [error["field"] for error in response.json()["errors"]] == ["body.code"]


@pytest.mark.parametrize("body", [{"email": "a@example.com"}, {"email": "a@example.com", "code": "1 2"}, {"code": "1"}])
def test_an_invalid_confirmation_is_400(api: Api, body: dict[str, str]) -> None:
    assert api.post("/auth/confirm", json=body).status_code == 400


# ---------------------------------------------------------------------------------------------- refresh errors


@pytest.mark.parametrize("token", ["not-a-refresh-token", str(uuid.uuid4())], ids=["malformed", "unknown"])
def test_a_bad_refresh_token_is_401(api: Api, token: str) -> None:
    response = api.post("/auth/refresh", json={"refreshToken": token})

    assert response.status_code == 401
    assert token not in response.text


def test_an_id_token_is_not_a_refresh_token(api: Api, user: SignedInUser) -> None:
    assert api.post("/auth/refresh", json={"refreshToken": user.id_token}).status_code == 401


def test_a_refresh_without_a_token_is_400(api: Api) -> None:
    assert api.post("/auth/refresh", json={}).status_code == 400


# ---------------------------------------------------------------------------------------------- protected routes


def tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = str(uuid.uuid4())
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def unsigned(token: str) -> str:
    header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    return f"{header}.{token.split('.')[1]}."


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer not-a-jwt",
        "Basic dXNlcjpwYXNzd29yZA==",
        "access",
        "tampered",
        "unsigned",
    ],
)
def test_a_protected_route_without_a_valid_id_token_is_401(
    api: Api, user: SignedInUser, authorization: str | None
) -> None:
    value = {
        "access": f"Bearer {user.access_token}",
        "tampered": f"Bearer {tampered(user.id_token)}",
        "unsigned": f"Bearer {unsigned(user.id_token)}",
    }.get(authorization or "", authorization)
    headers = {"Authorization": value} if value is not None else {}

    response = api.get(PROTECTED_PATH, headers=headers)

    assert response.status_code == 401, response.text
    assert response.json()["message"] == "Unauthorized"


def test_every_user_gets_their_own_tokens(api: Api, user: SignedInUser) -> None:
    other = sign_up_and_log_in(api)

    assert other.user_id != user.user_id
    assert api.get(PROTECTED_PATH, headers=other.headers).status_code == 200
