"""On a versioned bucket a DeleteObject only hides the object behind a delete marker: the data stays as a noncurrent
version, forever, unless a lifecycle rule expires it (S3 User Guide, "Deleting object versions from a
versioning-enabled bucket"). So wherever versioning is on, every prefix a role may `s3:DeleteObject` under expires
its noncurrent versions and the delete markers left behind. The prefixes are read off the IAM policies the program
builds, not off the catalog: a delete permission added anywhere without an expiry fails here.
"""

from __future__ import annotations

import json
from dataclasses import replace
from fnmatch import fnmatchcase
from typing import Any

import pulumi

from lambdas.catalog import BucketAccess, Expiry
from unit_tests.infra.conftest import Deployed
from unit_tests.infra.declarations import RICH, UPLOADS, WRITER

S3_ARN = "arn:aws:s3:::"


def deletable_prefixes(deployed: Deployed) -> set[tuple[str, str]]:
    """(bucket, key prefix) of every object ARN a role's policy allows `s3:DeleteObject` on (`s3:*` and `s3:Delete*`
    included)."""
    found = set()
    for policy in deployed.of_type("aws:iam/rolePolicy:RolePolicy"):
        for statement in json.loads(policy.inputs["policy"])["Statement"]:
            actions = _listed(statement.get("Action"))
            if statement["Effect"] != "Allow" or not any(fnmatchcase("s3:DeleteObject", a) for a in actions):
                continue
            for resource in _listed(statement.get("Resource")):
                if resource.startswith(S3_ARN) and "/" in resource:
                    bucket, _, key = resource.removeprefix(S3_ARN).partition("/")
                    found.add((bucket, key.split("*")[0]))
    return found


def versioned_buckets(deployed: Deployed) -> set[str]:
    return {
        versioning.inputs["bucket"]
        for versioning in deployed.of_type("aws:s3/bucketVersioning:BucketVersioning")
        if versioning.inputs["versioningConfiguration"]["status"] == "Enabled"
    }


def expiring_prefixes(deployed: Deployed, bucket: str) -> list[str]:
    """The prefixes of the bucket's enabled rules that expire noncurrent versions and clear delete markers (an
    expiration in days clears them once they are that old; else `expiredObjectDeleteMarker`)."""
    prefixes = []
    for lifecycle in deployed.of_type("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"):
        if lifecycle.inputs["bucket"] != bucket:
            continue
        for rule in lifecycle.inputs["rules"]:
            expiration = rule.get("expiration") or {}
            clears_markers = bool(expiration.get("days") or expiration.get("expiredObjectDeleteMarker"))
            rule_filter = rule.get("filter") or {}
            whole_prefix = set(rule_filter) <= {"prefix"}  # a tag or size filter would leave some objects out
            if (
                rule["status"] == "Enabled"
                and rule.get("noncurrentVersionExpiration")
                and clears_markers
                and whole_prefix
            ):
                prefixes.append(rule_filter.get("prefix", ""))
    return prefixes


def unexpired_deletes(deployed: Deployed) -> list[str]:
    versioned = versioned_buckets(deployed)
    return sorted(
        f"{bucket}/{prefix}*"
        for bucket, prefix in deletable_prefixes(deployed)
        if bucket in versioned and not any(prefix.startswith(p) for p in expiring_prefixes(deployed, bucket))
    )


def _listed(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


@pulumi.runtime.test
def test_every_prefix_a_role_may_delete_under_expires_its_noncurrent_versions(deploy):
    def check(deployed: Deployed) -> None:
        deletable = deletable_prefixes(deployed)
        assert {prefix for _, prefix in deletable} == {"avatars/", "pending/"}
        assert {bucket for bucket, _ in deletable} <= versioned_buckets(deployed)
        assert unexpired_deletes(deployed) == []

    return deploy(check)


# RICH's writer may now delete uploads: with versioning on, the bucket must expire what it deletes.
DELETING_WRITER = replace(WRITER, buckets=(BucketAccess(UPLOADS, ("s3:PutObject", "s3:DeleteObject"), ("files/",)),))
DELETING = replace(RICH, functions=tuple(DELETING_WRITER if f == WRITER else f for f in RICH.functions))


def with_uploads_expiries(*expiries: Expiry) -> Any:
    uploads = replace(UPLOADS, expiries=expiries)
    writer = replace(DELETING_WRITER, buckets=(replace(DELETING_WRITER.buckets[0], bucket=uploads),))
    return replace(
        DELETING, buckets=(uploads,), functions=tuple(writer if f == DELETING_WRITER else f for f in DELETING.functions)
    )


@pulumi.runtime.test
def test_a_delete_permission_without_an_expiry_is_found(deploy):
    def check(deployed: Deployed) -> None:
        [bucket] = versioned_buckets(deployed)
        assert unexpired_deletes(deployed) == [f"{bucket}/files/*"]

    return deploy(check, declared=DELETING)


@pulumi.runtime.test
def test_an_expiry_on_another_prefix_does_not_cover_a_delete(deploy):
    def check(deployed: Deployed) -> None:
        [bucket] = versioned_buckets(deployed)
        assert unexpired_deletes(deployed) == [f"{bucket}/files/*"]

    return deploy(check, declared=with_uploads_expiries(Expiry("tmp/", days=1)))


@pulumi.runtime.test
def test_an_expiry_on_the_prefix_or_a_parent_covers_a_delete(deploy):
    def check(deployed: Deployed) -> None:
        assert deletable_prefixes(deployed)
        assert unexpired_deletes(deployed) == []

    return deploy(check, declared=with_uploads_expiries(Expiry("", noncurrent_days=3)))


@pulumi.runtime.test
def test_an_unversioned_bucket_needs_no_noncurrent_expiry(deploy):
    def check(deployed: Deployed) -> None:
        assert deletable_prefixes(deployed)
        assert not versioned_buckets(deployed)
        assert unexpired_deletes(deployed) == []

    return deploy(check, config={"bucketVersioning": False}, declared=DELETING)
