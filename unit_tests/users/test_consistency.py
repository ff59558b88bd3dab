"""A failure at each step of a create or a delete leaves the bucket and the table consistent: the object and the
item both exist or neither does (an upload left under `pending/` is the lifecycle rule's to delete)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from embedded_stack.provision import Provisioned
from lambdas.shared.api import INTERNAL_ERROR
from lambdas.shared.aws import client
from lambdas.users import store
from lambdas.users.models import NewUser
from lambdas.users.rules import GIF as GIF_TYPE
from testkit import call, images
from unit_tests.users.conftest import Died, Failures, create, created, get, items, objects

TIMEOUT = ReadTimeoutError(endpoint_url="https://s3.amazonaws.com")


def user_items(aws: Provisioned) -> list[dict[str, Any]]:
    return [item for item in items(aws) if item["pk"]["S"].startswith("USER#")]


def assert_empty(aws: Provisioned) -> None:
    assert objects(aws) == {}
    assert items(aws) == []


def only_pending_left(aws: Provisioned) -> None:
    """What a dead create may leave: one object under pending/ (expired by the lifecycle rule), no item."""
    assert items(aws) == []
    [key] = objects(aws)
    assert key.startswith("pending/")


def test_an_upload_that_fails_writes_nothing(aws: Provisioned, fail: Failures) -> None:
    fail("s3", "PutObject")
    result = create()
    assert result.status == 500
    assert result.json()["message"] == INTERNAL_ERROR
    assert_empty(aws)


def test_a_409_from_dynamodb_deletes_the_upload(aws: Provisioned) -> None:
    first = created(email="taken@example.com")
    assert create(email="taken@example.com").status == 409
    assert list(objects(aws)) == [f"avatars/{first['id']}.png"]
    assert len(user_items(aws)) == 1


def test_any_other_dynamodb_failure_deletes_the_upload(aws: Provisioned, fail: Failures) -> None:
    fail("dynamodb", "TransactWriteItems")
    assert create().status == 500
    assert_empty(aws)


def test_a_competing_create_committed_between_upload_and_commit_is_a_409(aws: Provisioned, fail: Failures) -> None:
    def competitor_commits() -> None:
        store.create(
            NewUser(name="Fast", email="race@example.com"), images.GIF, GIF_TYPE, creator="x", now=datetime.now(UTC)
        )

    fail("dynamodb", "TransactWriteItems", competitor_commits, once=True)
    result = create(email="RACE@example.com")
    assert result.status == 409
    [winner] = user_items(aws)
    assert list(objects(aws)) == [f"avatars/{winner['id']['S']}.gif"]


def cancelled(user_reason: str, email_reason: str) -> Callable[[], None]:
    """A TransactWriteItems cancelled with these reasons for the user item and the email reservation."""

    def cancel() -> None:
        reasons = [{"Code": user_reason}, {"Code": email_reason}]
        response = {"Error": {"Code": "TransactionCanceledException"}, "CancellationReasons": reasons}
        raise client("dynamodb").exceptions.TransactionCanceledException(response, "TransactWriteItems")

    return cancel


def test_a_transaction_conflict_is_tried_again(aws: Provisioned, fail: Failures) -> None:
    fail("dynamodb", "TransactWriteItems", cancelled("None", "TransactionConflict"), once=True)
    assert create().status == 201
    assert len(user_items(aws)) == 1 and len(objects(aws)) == 1


def test_a_commit_that_landed_but_whose_answer_was_lost_is_a_201_when_botocore_retries_it(
    aws: Provisioned,
) -> None:
    dynamodb = client("dynamodb")
    event = "provide-client-params.dynamodb.TransactWriteItems"

    def lands_then_its_answer_times_out(params: dict[str, Any], **_: Any) -> None:
        dynamodb.meta.events.unregister(event, lands_then_its_answer_times_out)
        dynamodb.transact_write_items(**params)  # the first attempt: written; the call below is botocore's retry

    dynamodb.meta.events.register(event, lands_then_its_answer_times_out)
    try:
        result = create()
    finally:
        dynamodb.meta.events.unregister(event, lands_then_its_answer_times_out)

    assert result.status == 201, result.body
    user_id = result.json()["id"]
    assert [item["id"]["S"] for item in user_items(aws)] == [user_id]
    assert list(objects(aws)) == [f"avatars/{user_id}.png"]


@pytest.mark.parametrize(
    ("user_reason", "email_reason"),
    [("TransactionConflict", "None"), ("ThrottlingError", "None")],
    ids=["conflicts every time", "throttled"],
)
def test_a_transaction_that_keeps_failing_is_a_500_and_nothing_written(
    aws: Provisioned, fail: Failures, user_reason: str, email_reason: str
) -> None:
    fail("dynamodb", "TransactWriteItems", cancelled(user_reason, email_reason))
    assert create().status == 500
    assert_empty(aws)


def test_dying_between_upload_and_commit_leaves_only_a_pending_object(aws: Provisioned, fail: Failures) -> None:
    fail("dynamodb", "TransactWriteItems", Died)
    fail("s3", "DeleteObject", Died)
    with pytest.raises(Died):
        create()
    only_pending_left(aws)


def test_a_failed_clean_up_after_a_failed_commit_leaves_only_a_pending_object(aws: Provisioned, fail: Failures) -> None:
    fail("dynamodb", "TransactWriteItems")
    fail("s3", "DeleteObject")
    assert create().status == 500
    only_pending_left(aws)


@pytest.mark.parametrize(
    "step",
    [("s3", "CopyObject"), ("dynamodb", "UpdateItem")],
    ids=["before the copy", "after the copy"],
)
def test_dying_after_the_commit_is_finished_by_the_next_read(
    aws: Provisioned, fail: Failures, step: tuple[str, str]
) -> None:
    fail(*step, Died)
    with pytest.raises(Died):
        create(avatar=images.GIF)
    [item] = user_items(aws)
    user_id = item["id"]["S"]
    assert f"pending/{user_id}.gif" in objects(aws)
    fail.clear()

    read = get(user_id)

    assert read.status == 200
    assert f"avatars/{user_id}.gif?" in read.json()["avatar_url"]
    assert objects(aws) == {f"avatars/{user_id}.gif": images.GIF}
    [item] = user_items(aws)
    assert "pendingKey" not in item


def test_dying_after_the_item_is_promoted_leaves_a_complete_user_and_a_pending_copy_to_expire(
    aws: Provisioned, fail: Failures
) -> None:
    fail("s3", "DeleteObject", Died)
    with pytest.raises(Died):
        create(avatar=images.GIF)
    fail.clear()
    [item] = user_items(aws)
    user_id = item["id"]["S"]
    assert "pendingKey" not in item
    assert objects(aws) == {f"avatars/{user_id}.gif": images.GIF, f"pending/{user_id}.gif": images.GIF}
    assert f"avatars/{user_id}.gif?" in get(user_id).json()["avatar_url"]


def test_a_promotion_that_fails_still_answers_201_and_serves_the_pending_object(
    aws: Provisioned, fail: Failures
) -> None:
    fail("s3", "CopyObject")
    result = create()
    assert result.status == 201
    user_id = result.json()["id"]
    assert f"pending/{user_id}.png?" in result.json()["avatar_url"]
    fail.clear()

    listed = call("GET", "/users").json()

    assert [user["id"] for user in listed] == [user_id]
    assert f"avatars/{user_id}.png?" in listed[0]["avatar_url"]
    assert list(objects(aws)) == [f"avatars/{user_id}.png"]


@pytest.mark.parametrize("answers", ["moto's 404", "AWS's 403"])
def test_a_pending_object_already_gone_is_not_an_error(
    aws: Provisioned, fail: Failures, answers: str, request: pytest.FixtureRequest
) -> None:
    if answers == "AWS's 403":
        request.getfixturevalue("s3_as_aws_answers_the_role")
    fail("s3", "CopyObject", Died)
    with pytest.raises(Died):
        create()
    fail.clear()
    [item] = user_items(aws)
    bucket = aws.buckets["avatars"]
    s3 = client("s3")
    pending = item["pendingKey"]["S"]
    s3.copy_object(Bucket=bucket, Key=item["avatarKey"]["S"], CopySource={"Bucket": bucket, "Key": pending})
    s3.delete_object(Bucket=bucket, Key=pending)  # promoted by a read that died before updating the item

    read = get(item["id"]["S"])
    assert read.status == 200
    assert f"{item['avatarKey']['S']}?" in read.json()["avatar_url"]
    assert "pendingKey" not in user_items(aws)[0]


def test_a_delete_whose_object_removal_fails_keeps_the_user(aws: Provisioned, fail: Failures) -> None:
    user = created()
    fail("s3", "DeleteObject")
    assert call("DELETE", f"/users/{user['id']}").status == 500
    assert get(user["id"]).status == 200
    assert len(objects(aws)) == 1


def test_dying_mid_delete_is_finished_by_the_retry(aws: Provisioned, fail: Failures) -> None:
    user = created()
    fail("dynamodb", "TransactWriteItems", Died)
    with pytest.raises(Died):
        call("DELETE", f"/users/{user['id']}")
    assert objects(aws) == {}  # the image went first: nothing of a deleted person lingers unseen
    fail.clear()
    assert call("DELETE", f"/users/{user['id']}").status == 204
    assert_empty(aws)


def test_deleting_a_user_whose_create_died_after_the_commit_removes_both_objects(
    aws: Provisioned, fail: Failures
) -> None:
    fail("s3", "CopyObject", Died)
    with pytest.raises(Died):
        create()
    fail.clear()
    [item] = user_items(aws)
    assert call("DELETE", f"/users/{item['id']['S']}").status == 204
    assert_empty(aws)


def test_a_failure_other_than_a_missing_source_during_promotion_is_retried_later(
    aws: Provisioned, fail: Failures
) -> None:
    fail("s3", "CopyObject", Died)
    with pytest.raises(Died):
        create()
    fail.clear()
    fail("s3", "CopyObject")  # S3 unavailable: the read still answers, from the pending object
    [item] = user_items(aws)
    read = get(item["id"]["S"])
    assert read.status == 200
    assert "/pending/" in read.json()["avatar_url"]


def test_the_emulated_role_gets_aws_403_for_a_missing_key(aws: Provisioned, s3_as_aws_answers_the_role: None) -> None:
    s3, bucket = client("s3"), aws.buckets["avatars"]
    with pytest.raises(ClientError) as copy:
        s3.copy_object(Bucket=bucket, Key="avatars/x.png", CopySource={"Bucket": bucket, "Key": "pending/x.png"})
    with pytest.raises(ClientError) as head:
        s3.head_object(Bucket=bucket, Key="avatars/x.png")
    assert copy.value.response["Error"]["Code"] == "AccessDenied"
    assert head.value.response["Error"]["Code"] == "403"


def expire_pending_objects(aws: Provisioned) -> None:
    """The bucket's lifecycle rule at work: `pending/` is emptied."""
    s3, bucket = client("s3"), aws.buckets["avatars"]
    for found in s3.list_objects_v2(Bucket=bucket, Prefix="pending/").get("Contents", []):
        s3.delete_object(Bucket=bucket, Key=found["Key"])


def assert_lost_avatar(aws: Provisioned, user_id: str) -> None:
    """The user is read, listed and stored without an image: no key, no URL of an object that does not exist."""
    read = get(user_id)
    assert read.status == 200
    assert read.json()["avatar_url"] is None
    listed = call("GET", "/users").json()
    assert [(user["id"], user["avatar_url"]) for user in listed] == [(user_id, None)]
    assert objects(aws) == {}
    [item] = user_items(aws)
    assert {"pendingKey", "avatarKey", "avatar_url"}.isdisjoint(item)


def test_a_pending_object_expired_between_the_commit_and_the_create_s_own_promotion_is_a_lost_avatar(
    aws: Provisioned, fail: Failures, s3_as_aws_answers_the_role: None
) -> None:
    fail("s3", "CopyObject", lambda: expire_pending_objects(aws), once=True)

    result = create()

    assert result.status == 201
    assert result.json()["avatar_url"] is None
    assert_lost_avatar(aws, result.json()["id"])


def test_a_pending_object_expired_before_the_next_read_is_a_lost_avatar_not_a_url_of_nothing(
    aws: Provisioned, fail: Failures, s3_as_aws_answers_the_role: None
) -> None:
    fail("s3", "CopyObject", Died)
    with pytest.raises(Died):
        create()
    fail.clear()
    [item] = user_items(aws)
    expire_pending_objects(aws)  # a day later, no read in between

    assert_lost_avatar(aws, item["id"]["S"])


def test_a_user_whose_avatar_was_lost_is_deleted_like_any_other(
    aws: Provisioned, fail: Failures, s3_as_aws_answers_the_role: None
) -> None:
    fail("s3", "CopyObject", lambda: expire_pending_objects(aws), once=True)
    user = created()
    assert call("DELETE", f"/users/{user['id']}").status == 204
    assert_empty(aws)


def test_a_promotion_that_cannot_tell_whether_the_image_is_lost_keeps_the_pending_key(
    aws: Provisioned, fail: Failures, s3_as_aws_answers_the_role: None
) -> None:
    fail("s3", "CopyObject", lambda: expire_pending_objects(aws), once=True)
    fail("s3", "HeadObject")  # S3 unavailable: neither kept nor forgotten, the next read decides
    result = create()
    assert result.status == 201
    [item] = user_items(aws)
    assert item["pendingKey"]["S"] in result.json()["avatar_url"]
    fail.clear()
    assert_lost_avatar(aws, result.json()["id"])


@pytest.mark.parametrize(
    ("step", "pending_copy_left"),
    [(("s3", "CopyObject"), False), (("dynamodb", "UpdateItem"), False), (("s3", "DeleteObject"), True)],
    ids=["the copy", "the item's update", "the pending object's removal"],
)
def test_a_timeout_after_the_commit_still_answers_201_and_the_next_read_finishes(
    aws: Provisioned, fail: Failures, step: tuple[str, str], pending_copy_left: bool
) -> None:
    def timeout() -> None:
        raise TIMEOUT

    fail(*step, timeout)
    result = create(avatar=images.GIF)

    assert result.status == 201, result.body
    user_id = result.json()["id"]
    assert [item["id"]["S"] for item in user_items(aws)] == [user_id]
    fail.clear()
    read = get(user_id)
    assert f"avatars/{user_id}.gif?" in read.json()["avatar_url"]
    # A removal that timed out leaves the pending copy to the lifecycle rule: the item no longer names it.
    left = {f"pending/{user_id}.gif": images.GIF} if pending_copy_left else {}
    assert objects(aws) == {f"avatars/{user_id}.gif": images.GIF} | left
