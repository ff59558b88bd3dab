"""The users table, the avatars bucket and the users function, as the Pulumi program declares them."""

from __future__ import annotations

import pulumi

from infra.functions import access_statements
from lambdas.catalog import AVATARS_BUCKET, BucketAccess, Function
from unit_tests.infra.conftest import STACK, Deployed
from unit_tests.infra.declarations import RICH
from unit_tests.infra.test_iam import granted, policy_of

PREFIX = f"serverless-platform-{STACK}-"


def avatars(deployed: Deployed):
    return deployed.one("aws:s3/bucket:Bucket", bucketPrefix=f"{PREFIX}avatars-")


@pulumi.runtime.test
def test_the_users_table_lists_newest_first_on_its_index(deploy):
    def check(deployed: Deployed) -> None:
        table = deployed.one("aws:dynamodb/table:Table", name=f"{PREFIX}users")
        assert table.inputs["hashKey"] == "pk"
        [index] = table.inputs["globalSecondaryIndexes"]
        assert index["name"] == "byCreatedAt"
        assert index["keySchemas"] == [
            {"attributeName": "directory", "keyType": "HASH"},
            {"attributeName": "createdAtId", "keyType": "RANGE"},
        ]
        assert index["projectionType"] == "ALL"

    return deploy(check)


@pulumi.runtime.test
def test_the_avatars_bucket_is_private_and_expires_pending_uploads_and_deleted_avatars(deploy):
    def check(deployed: Deployed) -> None:
        bucket = avatars(deployed)
        children = {
            kind: [r for r in deployed.of_type(kind) if r.inputs["bucket"] == bucket.state["__id"]]
            for kind in (
                "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
                "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
                "aws:s3/bucketPolicy:BucketPolicy",
                "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
            )
        }
        assert all(len(found) == 1 for found in children.values()), children
        [lifecycle] = children["aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"]
        pending, kept = lifecycle.inputs["rules"]
        assert pending["status"] == "Enabled"
        assert pending["filter"] == {"prefix": "pending/"}
        assert pending["expiration"] == {"days": 1}
        assert pending["noncurrentVersionExpiration"] == {"noncurrentDays": 1}
        assert pending["abortIncompleteMultipartUpload"] == {"daysAfterInitiation": 1}
        # A committed avatar stays until its user is deleted; then its noncurrent version goes a day later.
        assert kept["filter"] == {"prefix": "avatars/"}
        assert kept["expiration"] == {"expiredObjectDeleteMarker": True}
        assert kept["noncurrentVersionExpiration"] == {"noncurrentDays": 1}

    return deploy(check)


@pulumi.runtime.test
def test_a_bucket_declared_without_expiries_has_no_lifecycle_rule(deploy):
    def check(deployed: Deployed) -> None:
        assert deployed.of_type("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration") == []

    return deploy(check, declared=RICH)


@pulumi.runtime.test
def test_the_users_role_reaches_objects_under_avatars_and_pending_only(deploy):
    def check(deployed: Deployed) -> None:
        arn = avatars(deployed).state["arn"]
        s3_grants = {(action, resource) for action, resource in granted(policy_of(deployed, "users")) if "s3" in action}
        assert s3_grants == {
            (action, f"{arn}/{prefix}*")
            for action in ("s3:PutObject", "s3:GetObject", "s3:DeleteObject")
            for prefix in ("avatars/", "pending/")
        }
        for function in deployed.declared.functions:
            # accounts deletes avatars with their users (DELETE /me): unit_tests/accounts/test_declarations.py.
            if (
                function.name not in ("users", "accounts")
                and function not in deployed.declared.user_pool_triggers.values()
            ):
                assert not any(arn in resource for _, resource in granted(policy_of(deployed, function.name)))

    return deploy(check)


def test_object_actions_name_each_prefix_and_bucket_actions_the_bucket() -> None:
    arn = "arn:aws:s3:::avatars-1"
    access = BucketAccess(AVATARS_BUCKET, ("s3:GetObject", "s3:ListBucket"), key_prefixes=("avatars/", "pending/"))
    statements = access_statements(
        Function(name="f", description="", buckets=(access,)), {}, {AVATARS_BUCKET.name: arn}, None
    )
    assert [(s["Action"], s["Resource"]) for s in statements] == [
        (["s3:GetObject"], [f"{arn}/avatars/*", f"{arn}/pending/*"]),
        (["s3:ListBucket"], [arn]),
    ]
    whole_bucket = BucketAccess(AVATARS_BUCKET, ("s3:GetObject",))
    assert whole_bucket.object_resources(arn) == [f"{arn}/*"]
