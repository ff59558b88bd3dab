"""Signed-in users for integration tests, made through the public identity routes of the stack under test.

The user pool's pre sign-up trigger confirms every sign-up, so sign-up then login works against any stack. Each
user has a unique email (a uuid), so these run against a shared, deployed pool. `user` and `auth_headers` are
made once per session (ID tokens last an hour; sign-ups are rate-limited on AWS); a test that changes a user's
state makes its own with `sign_up_and_log_in`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    import requests

__all__ = ["SignedInUser", "auth_headers", "new_credentials", "other_user", "sign_up_and_log_in", "user"]


@dataclass(frozen=True)
class SignedInUser:
    email: str
    password: str
    name: str
    user_id: str
    id_token: str
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.id_token}"}


def new_credentials() -> dict[str, str]:
    unique = uuid.uuid4().hex
    return {
        "email": f"it-{unique}@example.com",
        # Meets the pool's policy: 12+ characters, lower and upper case, a number and a symbol.
        "password": f"Pw-{unique[:16]}-Aa1!",
        "name": f"Integration {unique[:8]}",
    }


def sign_up_and_log_in(api: requests.Session) -> SignedInUser:
    credentials = new_credentials()
    signed_up = api.post("/auth/signup", json=credentials)
    assert signed_up.status_code == 201, signed_up.text
    login = api.post("/auth/login", json={"email": credentials["email"], "password": credentials["password"]})
    assert login.status_code == 200, login.text
    tokens = login.json()
    return SignedInUser(
        email=credentials["email"],
        password=credentials["password"],
        name=credentials["name"],
        user_id=signed_up.json()["userId"],
        id_token=tokens["idToken"],
        access_token=tokens["accessToken"],
        refresh_token=tokens["refreshToken"],
    )


@pytest.fixture(scope="session")
def user(api: requests.Session) -> SignedInUser:
    return sign_up_and_log_in(api)


@pytest.fixture(scope="session")
def other_user(api: requests.Session) -> SignedInUser:
    return sign_up_and_log_in(api)


@pytest.fixture(scope="session")
def auth_headers(user: SignedInUser) -> dict[str, str]:
    return user.headers
