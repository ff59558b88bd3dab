from __future__ import annotations

import json

import pulumi

from unit_tests.infra.conftest import STACK, Deployed
from unit_tests.infra.declarations import RICH

PREFIX = f"serverless-platform-{STACK}-"


@pulumi.runtime.test
def test_every_table_is_on_demand_recoverable_encrypted_and_protected(deploy):
    def check(deployed: Deployed) -> None:
        tables = deployed.of_type("aws:dynamodb/table:Table")
        assert {t.inputs["name"] for t in tables} == {f"{PREFIX}{t.name}" for t in deployed.declared.tables}
        for table in tables:
            assert table.inputs["billingMode"] == "PAY_PER_REQUEST"
            assert table.inputs["pointInTimeRecovery"] == {"enabled": True}
            assert table.inputs["serverSideEncryption"] == {"enabled": True}
            assert table.inputs["deletionProtectionEnabled"] is True

    return deploy(check)


@pulumi.runtime.test
def test_deletion_protection_follows_the_stack_config(deploy):
    def check(deployed: Deployed) -> None:
        for table in deployed.of_type("aws:dynamodb/table:Table"):
            assert table.inputs["deletionProtectionEnabled"] is False
        assert deployed.one("aws:s3/bucket:Bucket").inputs["forceDestroy"] is True
        assert deployed.one("aws:cognito/userPool:UserPool").inputs["deletionProtection"] == "INACTIVE"

    return deploy(check, config={"deletionProtection": False}, declared=RICH)


@pulumi.runtime.test
def test_sort_keys_indexes_and_ttl_come_from_the_declaration(deploy):
    def check(deployed: Deployed) -> None:
        events = deployed.one("aws:dynamodb/table:Table", name=f"{PREFIX}events")
        assert events.inputs["hashKey"] == "tenantId"
        assert events.inputs["rangeKey"] == "at"
        assert events.inputs["ttl"] == {"attributeName": "expiresAt", "enabled": True}
        indexes = {index["name"]: index for index in events.inputs["globalSecondaryIndexes"]}
        assert indexes["byKind"]["keySchemas"] == [
            {"attributeName": "kind", "keyType": "HASH"},
            {"attributeName": "at", "keyType": "RANGE"},
        ]
        assert indexes["byUser"]["keySchemas"] == [{"attributeName": "userId", "keyType": "HASH"}]
        assert {index["projectionType"] for index in indexes.values()} == {"ALL"}
        plain = deployed.one("aws:dynamodb/table:Table", name=f"{PREFIX}plain")
        assert "rangeKey" not in plain.inputs
        assert "ttl" not in plain.inputs
        assert "globalSecondaryIndexes" not in plain.inputs

    return deploy(check, declared=RICH)


def bucket_children(deployed: Deployed, kind: str) -> list:
    bucket = deployed.one("aws:s3/bucket:Bucket")
    return [r for r in deployed.of_type(kind) if r.inputs["bucket"] == bucket.state["__id"]]


@pulumi.runtime.test
def test_buckets_are_private_encrypted_tls_only_and_owner_enforced(deploy):
    def check(deployed: Deployed) -> None:
        bucket = deployed.one("aws:s3/bucket:Bucket")
        assert bucket.inputs["bucketPrefix"] == f"{PREFIX}uploads-"
        [block] = bucket_children(deployed, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
        for flag in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"):
            assert block.inputs[flag] is True, flag
        [encryption] = bucket_children(
            deployed, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
        )
        [rule] = encryption.inputs["rules"]
        assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"
        [ownership] = bucket_children(deployed, "aws:s3/bucketOwnershipControls:BucketOwnershipControls")
        assert ownership.inputs["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
        [policy] = bucket_children(deployed, "aws:s3/bucketPolicy:BucketPolicy")
        assert (block.type, block.name) in deployed.depends_on(policy)
        [statement] = json.loads(policy.inputs["policy"])["Statement"]
        arn = bucket.state["arn"]
        assert statement["Effect"] == "Deny"
        assert statement["Action"] == "s3:*"
        assert statement["Resource"] == [arn, f"{arn}/*"]
        assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        [versioning] = bucket_children(deployed, "aws:s3/bucketVersioning:BucketVersioning")
        assert versioning.inputs["versioningConfiguration"]["status"] == "Enabled"
        assert not bucket_children(deployed, "aws:s3/bucketCorsConfiguration:BucketCorsConfiguration")
        assert bucket.inputs["forceDestroy"] is False

    return deploy(check, declared=RICH)


@pulumi.runtime.test
def test_bucket_versioning_and_cors_follow_the_stack_config(deploy):
    def check(deployed: Deployed) -> None:
        assert not bucket_children(deployed, "aws:s3/bucketVersioning:BucketVersioning")
        [cors] = bucket_children(deployed, "aws:s3/bucketCorsConfiguration:BucketCorsConfiguration")
        [rule] = cors.inputs["corsRules"]
        assert rule["allowedOrigins"] == ["http://localhost:5173"]
        assert rule["allowedMethods"] == ["GET", "PUT"]
        assert rule["maxAgeSeconds"] == 60

    return deploy(
        check,
        config={
            "bucketVersioning": False,
            "corsAllowedOrigins": ["http://localhost:5173"],
            "corsAllowedMethods": ["GET", "PUT"],
            "corsMaxAgeSeconds": 60,
        },
        declared=RICH,
    )
