"""Users in DynamoDB (catalog.USERS_TABLE), their avatar images in S3 (catalog.AVATARS_BUCKET).

Items: ``USER#<id>`` holds a user: `id`, `name`, `email` (lower-case), `avatar_url` (the object's plain S3 URL,
as the table's existing consumers expect; the API answers a presigned URL instead), `avatarKey`
(``avatars/<id>.<ext>``; both absent once the image is lost, see below), `contentType`, `createdAt`, `createdBy`
(the creator's Cognito sub), and the keys of the byCreatedAt index (`directory`, one constant; `createdAtId`,
shared.sort_keys). ``EMAIL#<email>`` reserves an
address for one user (`userId`). A create writes both in one TransactWriteItems, each put conditional on its key
being free, so addresses are unique in any case without a read first; a delete removes both in one transaction.
Lists Query the index, newest first, never Scan; index reads are eventually consistent, so a user may reach the
list a moment after its POST answers. GET by id reads the table, consistently.

The object and the item, both or neither. A create:

1. puts the image under ``pending/<id>.<ext>``. If that fails, nothing is written;
2. writes the item (and the email reservation): the commit. The item names the final key and keeps the pending
   one in `pendingKey`. If the write fails (409, or any error) the pending object is deleted. A write that landed
   but whose answer was lost is retried by botocore, and the retry finds the item under the new id already there:
   that is the commit, not a conflict;
3. copies the object to ``avatars/<id>.<ext>``, removes `pendingKey` from the item (conditionally), deletes the
   pending object. Whatever fails here (an S3 error, a timeout), the create has happened: it answers 201, serving
   the image from the pending key, and a later read finishes the step.

The window left, the function dying between two of these calls, is closed by design: an object under `pending/`
without a committed item (death between 1 and 2, or a failed clean-up) is deleted by the bucket's lifecycle rule
after a day (catalog.AVATARS_BUCKET). Death between 2 and 3 leaves a committed item whose `pendingKey` still names
an object that exists: the API then serves the avatar from there, and every read of the user (GET, list) finishes
step 3 (each step is idempotent), as does a delete. No object under `avatars/` is ever written without its item.

`pendingKey` is removed only once the final object is known to exist (a HeadObject of it answers): a copy whose
source is missing means either that an earlier read promoted it (the final object exists) or that nothing read the
user for a day and the lifecycle rule expired the pending object first (it does not). Without s3:ListBucket (not
granted), S3 answers both a missing source and a HeadObject of a missing key with 403, not 404. When both objects
are gone the image is lost: the item drops `avatarKey` and `avatar_url`, and the API answers `"avatar_url": null`
(docs/api.md), rather than a URL of an object that never existed.

A delete removes the objects first, then the items: dying in between leaves an item without its image, which the
caller's retry of the DELETE (idempotent on S3) finishes; the other order would leave the image of a deleted
person in the bucket, where nothing would find it again.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from uuid import uuid4

from botocore.exceptions import BotoCoreError, ClientError

from lambdas.catalog import AVATARS_BUCKET, AVATARS_PENDING_PREFIX, AVATARS_PREFIX, USERS_TABLE
from lambdas.shared import attribute_values
from lambdas.shared.aws import bucket_name, client, table_name
from lambdas.shared.errors import Conflict
from lambdas.shared.pagination import Page, query_page
from lambdas.shared.sort_keys import sort_key
from lambdas.shared.timestamps import format_timestamp
from lambdas.users import rules
from lambdas.users.models import NewUser, User

DIRECTORY = "all"  # the byCreatedAt partition every user is in
BY_CREATED_AT = "byCreatedAt"
AVATAR_URL_SECONDS = 3600
MAX_ATTEMPTS = 3
_KEY_FREE = "attribute_not_exists(pk)"
# Without s3:ListBucket (not granted), S3 answers a missing key with 403 (AccessDenied; a HEAD has no body, so
# "403") rather than 404 (NoSuchKey; "404").
_MISSING_OBJECT = frozenset({"NoSuchKey", "404", "AccessDenied", "403"})


@dataclass(frozen=True)
class StoredUser:
    id: str
    name: str
    email: str
    avatar_key: str | None  # None: the image was lost before it was promoted (see above)
    created_by: str
    pending_key: str | None


class _TryAgain(Exception):
    """The transaction wrote nothing, and another attempt may succeed: it lost a race with another one."""


def create(
    new: NewUser,
    avatar: bytes,
    image: rules.ImageType,
    creator: str,
    now: datetime,
    new_id: Callable[[], str] = lambda: str(uuid4()),
) -> User:
    user_id = new_id()
    pending_key = rules.avatar_key(AVATARS_PENDING_PREFIX, user_id, image)
    final_key = rules.avatar_key(AVATARS_PREFIX, user_id, image)
    bucket = bucket_name(AVATARS_BUCKET)
    client("s3").put_object(Bucket=bucket, Key=pending_key, Body=avatar, ContentType=image.content_type)
    item = {
        "pk": f"USER#{user_id}",
        "id": user_id,
        "name": new.name,
        "email": new.email,
        "avatar_url": plain_url(bucket, final_key),
        "avatarKey": final_key,
        "contentType": image.content_type,
        "createdAt": format_timestamp(now),
        "createdBy": creator,
        "directory": DIRECTORY,
        "createdAtId": sort_key(now, user_id),
        "pendingKey": pending_key,
    }
    try:
        _insert(item, new.email)
    except BaseException:
        # Should the clean-up fail too, the lifecycle rule deletes the pending object.
        with contextlib.suppress(ClientError, BotoCoreError):
            _delete_objects(pending_key)
        raise
    # Committed: the user exists whatever happens next (a 201), and a failed promotion is finished by a later read.
    return _user(_finished(_stored(item)))


def get(user_id: str) -> User | None:
    stored = get_stored(user_id)
    return _user(_finished(stored)) if stored is not None else None


def get_stored(user_id: str) -> StoredUser | None:
    response = client("dynamodb").get_item(
        TableName=table_name(USERS_TABLE), Key=_key(f"USER#{user_id}"), ConsistentRead=True
    )
    return _stored(_values(response["Item"])) if "Item" in response else None


def list_page(limit: int, after: str | None = None) -> Page[User]:
    """Up to `limit` users, newest first, continuing after sort key `after`."""
    request: dict[str, Any] = {
        "TableName": table_name(USERS_TABLE),
        "IndexName": BY_CREATED_AT,
        "KeyConditionExpression": "directory = :directory",
        "ExpressionAttributeValues": {":directory": {"S": DIRECTORY}},
        "ScanIndexForward": False,
    }
    if after is not None:
        request["ExclusiveStartKey"] = {
            "pk": {"S": f"USER#{after.split('#', 1)[1]}"},
            "directory": {"S": DIRECTORY},
            "createdAtId": {"S": after},
        }
    page = query_page(request, limit, lambda item: item["createdAtId"]["S"])
    return Page([_user(_finished(_stored(_values(item)))) for item in page.items], page.last_sort_key)


def delete(stored: StoredUser) -> None:
    """Removes the user's image, then the user and its email reservation. Idempotent."""
    _delete_objects(*(key for key in (stored.avatar_key, stored.pending_key) if key))
    dynamodb = client("dynamodb")
    table = table_name(USERS_TABLE)
    try:
        dynamodb.transact_write_items(
            TransactItems=[
                {"Delete": {"TableName": table, "Key": _key(f"USER#{stored.id}")}},
                {
                    "Delete": {
                        "TableName": table,
                        "Key": _key(f"EMAIL#{stored.email}"),
                        # Never another user's reservation, whatever happened to this one's.
                        "ConditionExpression": "attribute_not_exists(pk) OR userId = :id",
                        "ExpressionAttributeValues": {":id": {"S": stored.id}},
                    }
                },
            ]
        )
    except dynamodb.exceptions.TransactionCanceledException:
        # Only a concurrent delete of the same user, or a reservation taken by someone else, gets here: nothing of
        # this user's is left to remove but the item, which goes alone.
        dynamodb.delete_item(TableName=table, Key=_key(f"USER#{stored.id}"))


def delete_everything_owned_by(creator: str) -> None:
    """DELETE /me (lambdas/accounts): every user `creator` added, with every version of its avatar (a versioned
    bucket keeps a deleted object's versions). A Query of the directory filtered on `createdBy`."""
    dynamodb = client("dynamodb")
    request: dict[str, Any] = {
        "TableName": table_name(USERS_TABLE),
        "IndexName": BY_CREATED_AT,
        "KeyConditionExpression": "directory = :directory",
        "FilterExpression": "createdBy = :creator",
        "ExpressionAttributeValues": {":directory": {"S": DIRECTORY}, ":creator": {"S": creator}},
    }
    while True:
        response = dynamodb.query(**request)
        for stored in (_stored(_values(item)) for item in response.get("Items", [])):
            delete(stored)
            # Under both prefixes: a promoted avatar's pending copy was deleted, but its versions are kept.
            _delete_every_version(*(f"{prefix}{stored.id}." for prefix in (AVATARS_PREFIX, AVATARS_PENDING_PREFIX)))
        if "LastEvaluatedKey" not in response:
            return
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def _delete_every_version(*prefixes: str) -> None:
    """Every version and delete marker of every object under each of `prefixes`."""
    s3 = client("s3")
    bucket = bucket_name(AVATARS_BUCKET)
    paginator = s3.get_paginator("list_object_versions")
    for prefix in prefixes:
        for listing in paginator.paginate(Bucket=bucket, Prefix=prefix):
            for version in [*listing.get("Versions", []), *listing.get("DeleteMarkers", [])]:
                s3.delete_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])


def presigned_url(key: str, seconds: int = AVATAR_URL_SECONDS) -> str:
    """A GET of the object without credentials, valid `seconds` (or until the signing credentials expire, if
    sooner: a Lambda role's session lasts for hours)."""
    return client("s3").generate_presigned_url(
        "get_object", Params={"Bucket": bucket_name(AVATARS_BUCKET), "Key": key}, ExpiresIn=seconds
    )


def plain_url(bucket: str, key: str) -> str:
    return f"https://{bucket}.s3.{client('s3').meta.region_name}.amazonaws.com/{key}"


def _insert(item: dict[str, Any], email: str) -> None:
    dynamodb = client("dynamodb")
    table = table_name(USERS_TABLE)
    reservation = {"pk": f"EMAIL#{email}", "userId": item["id"], "createdAt": item["createdAt"]}
    for _ in range(MAX_ATTEMPTS):
        try:
            dynamodb.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": table, "Item": _item(item), "ConditionExpression": _KEY_FREE}},
                    {"Put": {"TableName": table, "Item": _item(reservation), "ConditionExpression": _KEY_FREE}},
                ]
            )
        except dynamodb.exceptions.TransactionCanceledException as error:
            user_reason, email_reason = (
                reason.get("Code") for reason in error.response.get("CancellationReasons", [{}, {}])
            )
            if user_reason == "ConditionalCheckFailed":
                # An item under this new id exists: it is this call's own write, whose answer was lost (a timeout)
                # and whose retry by botocore found it. The two puts land together: the create happened.
                return
            if email_reason == "ConditionalCheckFailed":
                raise Conflict("body.email", "is already the address of another user") from error
            if "TransactionConflict" in (user_reason, email_reason):
                continue  # another create of this address in flight: the next attempt sees its outcome
            raise
        return
    raise RuntimeError(f"no user written after {MAX_ATTEMPTS} attempts: transactions in conflict")


def _finished(stored: StoredUser) -> StoredUser:
    """The user with its image under `avatars/`: finishes a create that died after its commit (see above)."""
    if stored.pending_key is None or stored.avatar_key is None:
        return stored
    try:
        return _promote(stored)
    except (ClientError, BotoCoreError):
        return stored  # served from the pending key meanwhile; the next read tries again


def _promote(stored: StoredUser) -> StoredUser:
    assert stored.pending_key is not None and stored.avatar_key is not None
    bucket = bucket_name(AVATARS_BUCKET)
    s3 = client("s3")
    promoted = replace(stored, pending_key=None)
    try:
        # The content type and other metadata are copied with the object.
        s3.copy_object(Bucket=bucket, Key=stored.avatar_key, CopySource={"Bucket": bucket, "Key": stored.pending_key})
    except ClientError as error:
        if _code(error) not in _MISSING_OBJECT:
            raise
        if not _exists(stored.avatar_key):
            # Neither object: the pending one expired before any read promoted it. The image is lost.
            _remove_while_pending(stored, "pendingKey", "avatarKey", "avatar_url")
            return replace(promoted, avatar_key=None)
        # Already promoted and cleaned up by an earlier read that died before updating the item.
    _remove_while_pending(stored, "pendingKey")
    _delete_objects(stored.pending_key)
    return promoted


def _exists(key: str) -> bool:
    """Whether the object exists: HeadObject, authorised by the s3:GetObject the function has on the key."""
    try:
        client("s3").head_object(Bucket=bucket_name(AVATARS_BUCKET), Key=key)
    except ClientError as error:
        if _code(error) not in _MISSING_OBJECT:
            raise
        return False
    return True


def _remove_while_pending(stored: StoredUser, *attributes: str) -> None:
    """Removes `attributes` from the user's item only while it still names the same pending object. A failed
    condition: another read got there first, or the user was deleted meanwhile."""
    assert stored.pending_key is not None
    dynamodb = client("dynamodb")
    with contextlib.suppress(dynamodb.exceptions.ConditionalCheckFailedException):
        dynamodb.update_item(
            TableName=table_name(USERS_TABLE),
            Key=_key(f"USER#{stored.id}"),
            UpdateExpression="REMOVE " + ", ".join(attributes),
            ConditionExpression="pendingKey = :pending",
            ExpressionAttributeValues={":pending": {"S": stored.pending_key}},
        )


def _code(error: ClientError) -> str | None:
    return error.response.get("Error", {}).get("Code")


def _delete_objects(*keys: str) -> None:
    s3 = client("s3")
    bucket = bucket_name(AVATARS_BUCKET)
    for key in keys:
        s3.delete_object(Bucket=bucket, Key=key)


def _stored(values: dict[str, Any]) -> StoredUser:
    return StoredUser(
        id=values["id"],
        name=values["name"],
        email=values["email"],
        avatar_key=values.get("avatarKey"),
        created_by=values["createdBy"],
        pending_key=values.get("pendingKey"),
    )


def _user(stored: StoredUser) -> User:
    return User(
        id=stored.id,
        name=stored.name,
        email=stored.email,
        avatar_url=_avatar_url(stored),
    )


def _avatar_url(stored: StoredUser) -> str | None:
    key = stored.pending_key or stored.avatar_key
    return presigned_url(key) if key is not None else None


def _key(pk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}}


def _item(values: dict[str, Any]) -> dict[str, Any]:
    return attribute_values.to_item(values)


def _values(item: dict[str, Any]) -> dict[str, Any]:
    return attribute_values.from_item(item)
