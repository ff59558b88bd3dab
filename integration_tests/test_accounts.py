"""The account's life over HTTP: password reset (the code read from the stack's outbox), logout, password change,
profile and TOTP two-factor login. Each test makes its own user.

Reading a code needs the embedded stack's outbox (`outputs["outbox"]`); against a deployed stack the codes go to
real mailboxes and those tests skip.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from embedded_stack.moto.cognito_sessions import totp
from integration_tests.auth_fixtures import SignedInUser, sign_up_and_log_in
from integration_tests.conftest import Api

NEW_PASSWORD = "Battery-Staple-77"


@pytest.fixture
def last_code(outputs: dict[str, Any]) -> Callable[[str], str]:
    """The code of the last message the stack emailed to an address."""
    if "outbox" not in outputs:
        pytest.skip("a deployed stack: its codes go to real mailboxes")
    outbox = Path(outputs["outbox"])

    def code(email: str) -> str:
        messages = [json.loads(path.read_text()) for path in sorted(outbox.glob("*.json"))]
        return str([message for message in messages if message["to"] == email][-1]["code"])

    return code


def refresh(api: Api, token: str) -> int:
    return api.post("/auth/refresh", json={"refreshToken": token}).status_code


def log_in(api: Api, email: str, password: str) -> dict[str, Any]:
    response = api.post("/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_a_reset_sets_the_password_and_signs_every_session_out(
    api: Api, last_code: Callable[[str], str], outputs: dict[str, Any]
) -> None:
    user = sign_up_and_log_in(api)

    asked = api.post("/auth/forgot-password", json={"email": user.email})
    assert asked.status_code == 202, asked.text
    message = json.loads(sorted(Path(outputs["outbox"]).glob("*.json"))[-1].read_text())
    assert set(message) == {"to", "subject", "code", "sentAt"}
    reset = api.post(
        "/auth/reset-password", json={"email": user.email, "code": last_code(user.email), "newPassword": NEW_PASSWORD}
    )

    assert reset.status_code == 204, reset.text
    assert api.post("/auth/login", json={"email": user.email, "password": user.password}).status_code == 401
    assert log_in(api, user.email, NEW_PASSWORD)["idToken"]
    assert refresh(api, user.refresh_token) == 401


def test_forgot_password_and_resend_code_answer_alike_for_anyone(api: Api, user: SignedInUser) -> None:
    for path in ("/auth/forgot-password", "/auth/resend-code"):
        answers = [
            api.post(path, json={"email": email}) for email in (user.email, f"nobody-{uuid.uuid4().hex}@example.com")
        ]

        assert [answer.status_code for answer in answers] == [202, 202]
        assert answers[0].json() == answers[1].json()


def test_a_wrong_reset_code_is_403_on_code_as_for_an_unknown_email(api: Api, last_code: Callable[[str], str]) -> None:
    user = sign_up_and_log_in(api)
    api.post("/auth/forgot-password", json={"email": user.email})
    wrong = f"{(int(last_code(user.email)) + 1) % 1_000_000:06d}"

    answers = [
        api.post("/auth/reset-password", json={"email": email, "code": wrong, "newPassword": NEW_PASSWORD})
        for email in (user.email, f"nobody-{uuid.uuid4().hex}@example.com")
    ]

    assert [answer.status_code for answer in answers] == [403, 403]
    assert [error["field"] for answer in answers for error in answer.json()["errors"]] == ["body.code", "body.code"]


def test_logout_revokes_the_refresh_token(api: Api) -> None:
    user = sign_up_and_log_in(api)

    assert api.post("/auth/logout", json={"refreshToken": user.refresh_token}).status_code == 204
    assert refresh(api, user.refresh_token) == 401


def test_logout_everywhere_revokes_every_session(api: Api) -> None:
    user = sign_up_and_log_in(api)
    other = log_in(api, user.email, user.password)

    out = api.post("/auth/logout", json={"refreshToken": user.refresh_token, "everywhere": True}, headers=user.headers)

    assert out.status_code == 204, out.text
    assert refresh(api, other["refreshToken"]) == 401


def test_change_password_needs_the_current_one(api: Api) -> None:
    user = sign_up_and_log_in(api)
    body = {"currentPassword": "Not-The-Password-1", "newPassword": NEW_PASSWORD}

    assert api.post("/auth/password", json=body, headers=user.headers).status_code == 403
    body["currentPassword"] = user.password
    assert api.post("/auth/password", json=body, headers=user.headers).status_code == 204
    assert log_in(api, user.email, NEW_PASSWORD)["idToken"]


def test_change_password_needs_a_token(api: Api) -> None:
    body = {"currentPassword": "Not-The-Password-1", "newPassword": NEW_PASSWORD}

    assert api.post("/auth/password", json=body).status_code == 401


def test_me_and_renaming(api: Api) -> None:
    user = sign_up_and_log_in(api)

    me = api.get("/me", headers=user.headers)
    renamed = api.patch("/me", json={"name": "Grace Hopper"}, headers=user.headers)

    assert me.status_code == 200
    assert me.json() == {"userId": user.user_id, "email": user.email, "name": user.name, "mfa": False}
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "Grace Hopper"


def test_totp_two_factor_login(api: Api, outputs: dict[str, Any]) -> None:
    if "awsEndpoint" not in outputs:
        pytest.skip("a deployed stack's pool may have MFA off (its `mfa` setting)")
    user = sign_up_and_log_in(api)
    setup = api.post("/me/mfa/totp", json={"accessToken": user.access_token}, headers=user.headers)
    assert setup.status_code == 200, setup.text
    secret = setup.json()["secret"]

    def now_code() -> str:
        return totp(secret).generate(int(time.time())).decode()

    verified = api.post(
        "/me/mfa/totp/verify", json={"accessToken": user.access_token, "code": now_code()}, headers=user.headers
    )
    assert verified.status_code == 204, verified.text
    login = api.post("/auth/login", json={"email": user.email, "password": user.password})
    assert login.status_code == 200
    assert login.json()["challenge"] == "SOFTWARE_TOKEN_MFA"
    answer = {"email": user.email, "session": login.json()["session"], "code": now_code()}
    tokens = api.post("/auth/login/mfa", json=answer)

    assert tokens.status_code == 200, tokens.text
    assert api.get("/me", headers={"Authorization": f"Bearer {tokens.json()['idToken']}"}).json()["mfa"] is True


def test_delete_me_leaves_nothing_that_carries_the_sub(api: Api, outputs: dict[str, Any]) -> None:
    if "awsEndpoint" not in outputs:
        pytest.skip("a deployed stack: its tables are not scanned from here")
    import boto3

    user = sign_up_and_log_in(api)
    website = f"{uuid.uuid4().hex[:12]}.example"
    tenant = {"name": "Acme", "website": website, "contactEmail": "ops@acme.example"}
    assert api.post("/tenants", json=tenant, headers=user.headers).status_code == 201
    transaction = {"payer": "DANNON", "points": 300, "timestamp": "2020-10-31T10:00:00Z"}
    keyed = {**user.headers, "Idempotency-Key": uuid.uuid4().hex}
    assert api.post("/points/transactions", json=transaction, headers=keyed).status_code == 201

    deleted = api.delete("/me", headers=user.headers)

    assert deleted.status_code == 204, deleted.text
    dynamodb = boto3.client("dynamodb", region_name=outputs["region"], endpoint_url=outputs["awsEndpoint"])
    for table in outputs["tables"].values():
        assert not [item for item in dynamodb.scan(TableName=table)["Items"] if user.user_id in json.dumps(item)]
    assert api.post("/auth/login", json={"email": user.email, "password": user.password}).status_code == 401
    assert refresh(api, user.refresh_token) == 401
