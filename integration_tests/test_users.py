"""The users directory over HTTP: uploads exactly as `curl -F` sends them, avatars fetched without credentials."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urljoin

import boto3
import pytest
import requests

from integration_tests.auth_fixtures import SignedInUser, sign_up_and_log_in
from lambdas.users.rules import MAX_AVATAR_BYTES
from testkit import images


@pytest.fixture(scope="module")
def admin(api: requests.Session, outputs: dict[str, Any]) -> SignedInUser:
    """A signed-in member of the admins group: added through Cognito's admin API, then signed in again so that
    the ID token carries the group."""
    signed_up = sign_up_and_log_in(api)
    cognito = boto3.client("cognito-idp", region_name=outputs["region"], endpoint_url=outputs.get("awsEndpoint"))
    cognito.admin_add_user_to_group(UserPoolId=outputs["userPoolId"], Username=signed_up.email, GroupName="admins")
    login = api.post("/auth/login", json={"email": signed_up.email, "password": signed_up.password})
    assert login.status_code == 200, login.text
    return SignedInUser(**{**signed_up.__dict__, "id_token": login.json()["idToken"]})


def unique_email() -> str:
    return f"it-user-{uuid.uuid4().hex}@Example.com"


def post_user(
    api: requests.Session, user: SignedInUser, avatar: bytes = images.png(), email: str | None = None
) -> requests.Response:
    # What `curl -F name='Test User' -F email=... -F avatar=@face.png` sends: two fields, then the file.
    return api.post(
        "/user",
        data={"name": "Test User", "email": email or unique_email()},
        files={"avatar": ("face.png", avatar, "image/png")},
        headers=user.headers,
    )


def test_a_user_is_created_and_its_avatar_fetched_without_credentials(api: requests.Session, user: SignedInUser):
    avatar = images.png_of_size(200_000)
    email = unique_email()
    created = post_user(api, user, avatar, email)

    assert created.status_code == 201, created.text
    body = created.json()
    assert body["email"] == email.lower()
    assert created.headers["Location"].endswith(f"/users/{body['id']}")
    fetched = requests.get(body["avatar_url"], timeout=10)  # no Authorization, no AWS credentials
    assert fetched.status_code == 200
    assert fetched.headers["Content-Type"] == "image/png"
    assert fetched.content == avatar
    read = api.get(f"/users/{body['id']}", headers=user.headers)
    assert read.status_code == 200
    assert requests.get(read.json()["avatar_url"], timeout=10).content == avatar


def test_the_same_email_in_another_case_is_a_409(api: requests.Session, user: SignedInUser) -> None:
    email = unique_email()
    assert post_user(api, user, email=email).status_code == 201
    again = post_user(api, user, images.GIF, email=email.upper())
    assert again.status_code == 409
    assert [error["field"] for error in again.json()["errors"]] == ["body.email"]
    assert email.lower() not in again.text.lower()


def test_json_is_a_415_and_a_file_that_is_no_image_too(api: requests.Session, user: SignedInUser) -> None:
    as_json = api.post("/user", json={"name": "A", "email": unique_email()}, headers=user.headers)
    assert as_json.status_code == 415
    assert "multipart/form-data" in as_json.json()["message"]
    not_an_image = post_user(api, user, b"just some notes\n")
    assert not_an_image.status_code == 415
    assert not_an_image.json()["errors"][0]["field"] == "body.avatar"


def test_an_avatar_over_4_mib_is_a_413(api: requests.Session, user: SignedInUser) -> None:
    response = post_user(api, user, images.png_of_size(MAX_AVATAR_BYTES + 1))
    assert response.status_code == 413


def test_the_list_is_newest_first_and_paged_through_link_headers(api: requests.Session, user: SignedInUser) -> None:
    mine = [post_user(api, user).json()["id"] for _ in range(3)]
    seen: list[str] = []
    response = api.get("/users", params={"limit": 1}, headers=user.headers)
    while True:
        assert response.status_code == 200, response.text
        page = response.json()
        assert isinstance(page, list) and len(page) <= 1
        seen += [entry["id"] for entry in page]
        if set(mine) <= set(seen) or "next" not in response.links:
            break
        response = api.get(urljoin(response.url, response.links["next"]["url"]), headers=user.headers)
    assert [user_id for user_id in seen if user_id in mine] == list(reversed(mine))


def test_a_user_is_deleted_by_its_creator_or_an_admin_and_no_one_else(
    api: requests.Session, user: SignedInUser, other_user: SignedInUser, admin: SignedInUser
) -> None:
    first = post_user(api, user).json()
    second = post_user(api, user).json()

    refused = api.delete(f"/users/{first['id']}", headers=other_user.headers)
    assert refused.status_code == 403
    assert api.get(f"/users/{first['id']}", headers=other_user.headers).status_code == 200

    assert api.delete(f"/users/{first['id']}", headers=user.headers).status_code == 204
    assert api.get(f"/users/{first['id']}", headers=user.headers).status_code == 404
    assert requests.get(first["avatar_url"], timeout=10).status_code in (403, 404)  # the image went with it

    assert api.delete(f"/users/{second['id']}", headers=admin.headers).status_code == 204
    assert api.get(f"/users/{second['id']}", headers=user.headers).status_code == 404


def test_every_users_route_needs_a_token(api: requests.Session) -> None:
    assert api.get("/users").status_code == 401
    assert api.post("/user", files={"avatar": ("face.png", images.png())}).status_code == 401
