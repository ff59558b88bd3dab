"""The users routes against moto, called with the events API Gateway sends."""

from __future__ import annotations

import json
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from embedded_stack.provision import Provisioned
from lambdas import catalog
from lambdas.platform.openapi import document
from lambdas.shared.aws import client
from lambdas.users.rules import MAX_AVATAR_BYTES
from testkit import CALLER_CLAIMS, call, images
from unit_tests.users.conftest import (
    ADMIN_CLAIMS,
    OTHER_CLAIMS,
    create,
    created,
    get,
    items,
    objects,
    post_form,
)

# ---------------------------------------------------------------------------------------------- create


def test_a_user_is_created_with_its_avatar_under_avatars(aws: Provisioned) -> None:
    avatar = images.png()
    result = create(name="  Test User ", email="Test-User@Example.COM", avatar=avatar)

    assert result.status == 201, result.body
    user = result.json()
    assert set(user) == {"id", "name", "email", "avatar_url"}
    assert user["name"] == "Test User"
    assert user["email"] == "test-user@example.com"
    assert result.headers["Location"] == f"/users/{user['id']}"
    bucket = aws.buckets["avatars"]
    key = f"avatars/{user['id']}.png"
    assert objects(aws) == {key: avatar}
    assert client("s3").head_object(Bucket=bucket, Key=key)["ContentType"] == "image/png"
    item = client("dynamodb").get_item(
        TableName=aws.tables["users"], Key={"pk": {"S": f"USER#{user['id']}"}}, ConsistentRead=True
    )["Item"]
    assert {name: value["S"] for name, value in item.items()} | {"createdAt": "-", "createdAtId": "-"} == {
        "pk": f"USER#{user['id']}",
        "id": user["id"],
        "name": "Test User",
        "email": "test-user@example.com",
        "avatar_url": f"https://{bucket}.s3.us-east-1.amazonaws.com/{key}",
        "avatarKey": key,
        "contentType": "image/png",
        "createdAt": "-",
        "createdBy": CALLER_CLAIMS["sub"],
        "directory": "all",
        "createdAtId": "-",
    }


def test_the_documented_avatar_url_lasts_up_to_an_hour_and_is_null_only_for_a_lost_image() -> None:
    avatar_url = document()["components"]["schemas"]["User"]["properties"]["avatar_url"]
    assert avatar_url["anyOf"] == [{"type": "string"}, {"type": "null"}]
    # The presigned URL dies with the role's session credentials, which may come first: never "for an hour".
    assert "for up to an hour" in avatar_url["description"]
    assert "Null when the image was lost" in avatar_url["description"]


def test_the_avatar_url_is_a_presigned_get_serving_the_bytes_with_their_type(aws: Provisioned) -> None:
    user = created(avatar=images.GIF)
    url = urlsplit(user["avatar_url"])
    query = parse_qs(url.query)
    assert url.path.endswith(f"avatars/{user['id']}.gif")
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert query["X-Amz-Expires"] == ["3600"]

    fetched = requests.get(user["avatar_url"], timeout=5)  # moto answers it: no credentials sent
    assert fetched.status_code == 200
    assert fetched.headers["Content-Type"] == "image/gif"
    assert fetched.content == images.GIF


@pytest.mark.parametrize(
    ("avatar", "content_type", "extension"),
    [(images.JPEG, "image/jpeg", "jpg"), (images.WEBP, "image/webp", "webp"), (images.GIF, "image/gif", "gif")],
)
def test_the_stored_type_is_the_sniffed_one_not_the_parts(
    aws: Provisioned, avatar: bytes, content_type: str, extension: str
) -> None:
    user = created(avatar=avatar)  # the part says face.png, image/png
    key = f"avatars/{user['id']}.{extension}"
    assert objects(aws) == {key: avatar}
    assert client("s3").head_object(Bucket=aws.buckets["avatars"], Key=key)["ContentType"] == content_type


def test_a_second_user_with_the_same_email_in_any_case_is_a_409_on_body_email(aws: Provisioned) -> None:
    first = created(email="dup@example.com")
    result = create(email="DUP@Example.com", avatar=images.JPEG)

    assert result.status == 409
    assert result.json()["errors"] == [{"field": "body.email", "message": "is already the address of another user"}]
    assert "DUP@Example.com" not in result.body and "dup@example.com" not in result.body
    assert list(objects(aws)) == [f"avatars/{first['id']}.png"]
    assert len(items(aws)) == 2  # the first user and its email reservation


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (json.dumps({"name": "A", "email": "a@example.com"}), "application/json"),
        ("name=A&email=a%40example.com", "application/x-www-form-urlencoded"),
        ("A", "text/plain"),
        (None, None),
    ],
)
def test_anything_but_a_form_is_a_415_that_says_to_send_multipart_form_data(
    aws: Provisioned, body: str | None, content_type: str | None
) -> None:
    result = post_form(body, content_type, binary=False)
    assert result.status == 415
    assert "multipart/form-data" in result.json()["message"]
    assert result.json()["requestId"]


def test_a_form_without_its_boundary_is_a_400_on_the_content_type(aws: Provisioned) -> None:
    body, _ = images.form(avatar=images.png())
    result = post_form(body, "multipart/form-data")
    assert result.status == 400
    assert [e["field"] for e in result.json()["errors"]] == ["header.Content-Type"]


@pytest.mark.parametrize(
    "body",
    [b"no boundary anywhere", b"--other\r\nContent-Disposition: form-data; name=name\r\n\r\nA\r\n--other--\r\n"],
)
def test_a_body_that_is_not_the_form_its_header_announces_is_a_400(aws: Provisioned, body: bytes) -> None:
    result = post_form(body, "multipart/form-data; boundary=xyz")
    assert result.status == 400
    assert result.json()["errors"][0]["field"] == "body"
    assert objects(aws) == {}


def test_a_body_that_is_not_base64_is_a_400(aws: Provisioned) -> None:
    result = post_form("%%%not base64%%%", "multipart/form-data; boundary=xyz", binary=False, base64_flag=True)
    assert result.status == 400
    assert result.json()["errors"] == [
        {"field": "body", "message": "is not valid base64, as API Gateway sends a binary body"}
    ]


def test_missing_fields_are_named_each(aws: Provisioned) -> None:
    for body in (b"--xyz--\r\n", b""):
        result = post_form(body, "multipart/form-data; boundary=xyz")
        assert result.status == 400
        assert {e["field"] for e in result.json()["errors"]} == {"body.name", "body.email", "body.avatar"}


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": "   "}, "body.name"),
        ({"name": "x" * 201}, "body.name"),
        ({"name": "Bell\x07Ringer"}, "body.name"),
        ({"email": "not-an-address"}, "body.email"),
        ({"email": "two@@example.com"}, "body.email"),
        ({"avatar": b""}, "body.avatar"),
    ],
)
def test_an_invalid_field_is_a_400_naming_it_without_echoing_it(aws: Provisioned, fields: dict, field: str) -> None:
    result = create(**fields)
    assert result.status == 400, result.body
    assert [e["field"] for e in result.json()["errors"]] == [field]
    for value in fields.values():
        if isinstance(value, str) and value.strip():
            assert value not in result.body
    assert objects(aws) == {} and items(aws) == []


def test_a_file_that_is_no_image_is_a_415_on_body_avatar(aws: Provisioned) -> None:
    result = create(avatar=b"just some notes, saved as face.png\n")
    assert result.status == 415
    assert result.json()["errors"] == [{"field": "body.avatar", "message": "must be a PNG, JPEG, GIF or WebP image"}]
    assert objects(aws) == {} and items(aws) == []


def test_an_html_page_behind_a_gif_header_is_a_415(aws: Provisioned) -> None:
    assert create(avatar=b"GIF89a<html><body><script>alert(1)</script></body></html>").status == 415


def test_an_avatar_text_field_instead_of_a_file_is_a_400(aws: Provisioned) -> None:
    body = (
        b'--xyz\r\nContent-Disposition: form-data; name="name"\r\n\r\nA\r\n'
        b'--xyz\r\nContent-Disposition: form-data; name="email"\r\n\r\na@example.com\r\n'
        b'--xyz\r\nContent-Disposition: form-data; name="avatar"\r\n\r\nGIF89a\r\n--xyz--\r\n'
    )
    result = post_form(body, 'multipart/form-data; boundary="xyz"')
    assert result.status == 400
    assert [e["field"] for e in result.json()["errors"]] == ["body.avatar"]


@pytest.mark.parametrize(
    ("parts", "field"),
    [
        ([("name", "A"), ("name", "B")], "body.name"),
        ([("avatar", ("a.png", images.png())), ("avatar", ("b.png", images.png()))], "body.avatar"),
        ([("website", "x")], "body"),
        ([("name", "\xff")], "body.name"),
    ],
)
def test_repeated_unknown_or_undecodable_parts_are_a_400(aws: Provisioned, parts: list, field: str) -> None:
    from urllib3.filepost import encode_multipart_formdata

    body, content_type = encode_multipart_formdata(parts)
    if field == "body.name" and parts[0][1] == "\xff":
        body = body.replace("\xff".encode(), b"\xff")
    result = post_form(body, content_type)
    assert result.status == 400, result.body
    assert result.json()["errors"][0]["field"] == field


def test_a_form_with_too_many_parts_is_a_400(aws: Provisioned) -> None:
    from urllib3.filepost import encode_multipart_formdata

    body, content_type = encode_multipart_formdata([("name", "A")] * 9)
    result = post_form(body, content_type)
    assert result.status == 400


def test_a_long_text_field_is_refused_while_parsing(aws: Provisioned) -> None:
    result = create(name="x" * 5000)
    assert result.status == 400
    assert result.json()["errors"][0]["field"] == "body.name"


def test_an_avatar_over_4_mib_is_a_413_and_one_of_4_mib_is_taken(aws: Provisioned) -> None:
    too_large = create(avatar=images.png_of_size(MAX_AVATAR_BYTES + 1))
    assert too_large.status == 413
    assert "4 MiB" in too_large.json()["message"]
    assert objects(aws) == {} and items(aws) == []
    assert create(avatar=images.png_of_size(MAX_AVATAR_BYTES)).status == 201


def test_a_body_far_over_the_limit_is_a_413_before_parsing(aws: Provisioned) -> None:
    result = post_form(b"x" * (MAX_AVATAR_BYTES + 200_000), "multipart/form-data; boundary=xyz")
    assert result.status == 413


def test_a_form_api_gateway_passed_as_text_is_read_too(aws: Provisioned) -> None:
    body, content_type = images.form()  # no file: text survives an API without the binary media type
    result = post_form(body.decode("utf-8"), content_type, binary=False)
    assert result.status == 400
    assert [e["field"] for e in result.json()["errors"]] == ["body.avatar"]


# ---------------------------------------------------------------------------------------------- read


def test_a_user_is_read_by_id(aws: Provisioned) -> None:
    user = created()
    result = get(user["id"], claims=OTHER_CLAIMS)
    assert result.status == 200
    read = result.json()
    assert {k: v for k, v in read.items() if k != "avatar_url"} == {k: v for k, v in user.items() if k != "avatar_url"}
    assert "X-Amz-Signature" in read["avatar_url"]


def test_an_unknown_id_is_a_404_and_a_malformed_one_a_400(aws: Provisioned) -> None:
    assert get(str(uuid.uuid4())).status == 404
    malformed = get("not-a-uuid")
    assert malformed.status == 400
    assert malformed.json()["errors"][0]["field"] == "path.id"


def listing(**query: str) -> tuple[list[dict], str | None, int]:
    result = call("GET", "/users", query=query)
    assert result.status == 200, result.body
    return result.json(), result.headers.get("Link"), result.status


def test_the_list_is_newest_first_in_pages_linked_by_rel_next(aws: Provisioned) -> None:
    made = [created(email=f"user{n}@example.com")["id"] for n in range(5)]
    seen: list[str] = []
    page, link, _ = listing(limit="2")
    seen += [user["id"] for user in page]
    while link is not None:
        assert link.startswith("</users?") and link.endswith('>; rel="next"')
        query = parse_qs(urlsplit(link[1 : link.index(">")]).query)
        assert query["limit"] == ["2"]
        page, link, _ = listing(limit="2", cursor=query["cursor"][0])
        seen += [user["id"] for user in page]
    assert seen == list(reversed(made))
    everyone, last_link, _ = listing()
    assert [user["id"] for user in everyone] == list(reversed(made))
    assert last_link is None
    assert all(set(user) == {"id", "name", "email", "avatar_url"} for user in everyone)


def test_an_empty_directory_is_an_empty_array(aws: Provisioned) -> None:
    assert listing()[:2] == ([], None)


@pytest.mark.parametrize(("query", "field"), [({"limit": "0"}, "query.limit"), ({"limit": "101"}, "query.limit")])
def test_a_limit_out_of_range_is_a_400(aws: Provisioned, query: dict, field: str) -> None:
    result = call("GET", "/users", query=query)
    assert result.status == 400
    assert result.json()["errors"][0]["field"] == field


def test_a_forged_cursor_is_a_400_on_the_cursor(aws: Provisioned) -> None:
    result = call("GET", "/users", query={"cursor": "eyJhZnRlciI6IngiLCJxdWVyeSI6InkifQ"})
    assert result.status == 400
    assert result.json()["errors"][0]["field"] == "query.cursor"


def test_every_route_needs_the_authorizers_claims(aws: Provisioned) -> None:
    assert call("GET", "/users", claims={}).status == 401
    assert create(claims={}).status == 401


# ---------------------------------------------------------------------------------------------- delete


@pytest.mark.parametrize("deleter", [CALLER_CLAIMS, ADMIN_CLAIMS])
def test_the_creator_or_an_admin_deletes_a_user_and_its_avatar(aws: Provisioned, deleter: dict) -> None:
    user = created(email="gone@example.com")
    result = call("DELETE", f"/users/{user['id']}", claims=deleter)
    assert result.status == 204
    assert result.body == ""
    assert get(user["id"]).status == 404
    assert call("DELETE", f"/users/{user['id']}", claims=deleter).status == 404
    assert objects(aws) == {} and items(aws) == []
    assert create(email="gone@example.com").status == 201  # the address is free again


def test_anyone_else_is_refused_with_403_and_nothing_changes(aws: Provisioned) -> None:
    user = created()
    result = call("DELETE", f"/users/{user['id']}", claims=OTHER_CLAIMS)
    assert result.status == 403
    assert get(user["id"]).status == 200
    assert len(objects(aws)) == 1


def test_a_user_whose_reservation_is_gone_is_still_deleted(aws: Provisioned) -> None:
    user = created(email="half@example.com")
    client("dynamodb").delete_item(TableName=aws.tables["users"], Key={"pk": {"S": "EMAIL#half@example.com"}})
    created(email="half@example.com", claims=OTHER_CLAIMS)  # someone else now holds the address
    assert call("DELETE", f"/users/{user['id']}").status == 204
    assert get(user["id"]).status == 404
    assert (
        client("dynamodb")
        .get_item(TableName=aws.tables["users"], Key={"pk": {"S": "EMAIL#half@example.com"}})
        .get("Item")
    ), "the other user's reservation stays"


def test_the_bucket_expires_pending_uploads_and_deleted_avatars_after_a_day(aws: Provisioned) -> None:
    rules = client("s3").get_bucket_lifecycle_configuration(Bucket=aws.buckets[catalog.AVATARS_BUCKET.name])["Rules"]
    assert [
        (r["Filter"]["Prefix"], r["Expiration"], r["NoncurrentVersionExpiration"]["NoncurrentDays"], r["Status"])
        for r in rules
    ] == [
        ("pending/", {"Days": 1}, 1, "Enabled"),
        ("avatars/", {"ExpiredObjectDeleteMarker": True}, 1, "Enabled"),
    ]
