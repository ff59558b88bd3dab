"""DynamoDB tables and S3 buckets, one per catalog declaration."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws

from infra import names
from infra.settings import StackSettings
from lambdas.catalog import Bucket, Expiry, Index, Key, Table


def _key_schema(partition: Key, sort: Key | None) -> list[dict[str, str]]:
    keys = [{"attribute_name": partition.name, "key_type": "HASH"}]
    if sort is not None:
        keys.append({"attribute_name": sort.name, "key_type": "RANGE"})
    return keys


def _index_args(index: Index) -> aws.dynamodb.TableGlobalSecondaryIndexArgs:
    # key_schemas, not the deprecated hash_key/range_key of v7.
    return aws.dynamodb.TableGlobalSecondaryIndexArgs(
        name=index.name,
        key_schemas=[
            aws.dynamodb.TableGlobalSecondaryIndexKeySchemaArgs(**key)
            for key in _key_schema(index.partition_key, index.sort_key)
        ],
        projection_type="ALL",
    )


def table_args(table: Table, physical_name: str) -> dict[str, Any]:
    """The key-shaped arguments of a declared table's `aws.dynamodb.Table`: what the embedded stack's
    `create_table_request` must agree with. Durability and protection settings are added by `Tables`."""
    args: dict[str, Any] = {
        "name": physical_name,
        "billing_mode": "PAY_PER_REQUEST",
        "hash_key": table.partition_key.name,
        "attributes": [aws.dynamodb.TableAttributeArgs(name=key.name, type=key.type) for key in table.attributes],
    }
    if table.sort_key is not None:
        args["range_key"] = table.sort_key.name
    if table.indexes:
        args["global_secondary_indexes"] = [_index_args(index) for index in table.indexes]
    if table.ttl_attribute:
        args["ttl"] = aws.dynamodb.TableTtlArgs(attribute_name=table.ttl_attribute, enabled=True)
    return args


class Tables(pulumi.ComponentResource):
    """Every declared table: on demand, point-in-time recovery, encrypted at rest, deletion protection per stack."""

    def __init__(
        self,
        name: str,
        tables: tuple[Table, ...],
        settings: StackSettings,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("serverless-platform:data:Tables", name, None, opts)
        self.tables: dict[str, aws.dynamodb.Table] = {}
        for table in tables:
            self.tables[table.name] = aws.dynamodb.Table(
                f"{name}-{table.name}",
                **table_args(table, names.DYNAMODB_TABLE.check(f"{settings.prefix}{table.name}")),
                point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(enabled=True),
                # enabled=True with no key: the AWS-managed KMS key (aws/dynamodb), not the AWS-owned default.
                server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(enabled=True),
                deletion_protection_enabled=settings.deletion_protection,
                tags=settings.tags or None,
                # A fixed physical name: a replacement (a key-schema change) made before the old table is deleted
                # fails with ResourceInUseException. Deleting first loses the data, as any replacement does; with
                # deletionProtection on, the delete fails and nothing is lost.
                opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True),
            )
        self.names: dict[str, pulumi.Output[str]] = {key: table.name for key, table in self.tables.items()}
        self.arns: dict[str, pulumi.Output[str]] = {key: table.arn for key, table in self.tables.items()}
        self.register_outputs({"names": self.names, "arns": self.arns})


def tls_only_policy(bucket_arn: str) -> str:
    """Denies every request to the bucket and its objects that does not come over TLS."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [bucket_arn, f"{bucket_arn}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ],
        }
    )


def lifecycle_rule(expiry: Expiry) -> aws.s3.BucketLifecycleConfigurationRuleArgs:
    """The expiry's rule. S3 refuses `ExpiredObjectDeleteMarker` beside `Days` in one expiration; with `Days` it
    removes expired delete markers itself once they are that old (S3 User Guide, "Removing expired object delete
    markers"), so the flag goes on the rules that keep current objects."""
    expiration = (
        aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=expiry.days)
        if expiry.days is not None
        else aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(expired_object_delete_marker=True)
    )
    return aws.s3.BucketLifecycleConfigurationRuleArgs(
        id=expiry.rule_id,
        status="Enabled",
        filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=expiry.prefix),
        expiration=expiration,
        noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
            noncurrent_days=expiry.noncurrent_days
        ),
        abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
            days_after_initiation=expiry.days or expiry.noncurrent_days
        ),
    )


class Buckets(pulumi.ComponentResource):
    """Every declared bucket: private, encrypted, TLS only, owner-enforced; versioning and CORS per stack."""

    def __init__(
        self,
        name: str,
        buckets: tuple[Bucket, ...],
        settings: StackSettings,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("serverless-platform:data:Buckets", name, None, opts)
        self.buckets: dict[str, aws.s3.Bucket] = {}
        for bucket in buckets:
            self.buckets[bucket.name] = self._bucket(f"{name}-{bucket.name}", bucket, settings)
        self.names: dict[str, pulumi.Output[str]] = {key: bucket.bucket for key, bucket in self.buckets.items()}
        self.arns: dict[str, pulumi.Output[str]] = {key: bucket.arn for key, bucket in self.buckets.items()}
        self.register_outputs({"names": self.names, "arns": self.arns})

    def _bucket(self, name: str, declared: Bucket, settings: StackSettings) -> aws.s3.Bucket:
        child = pulumi.ResourceOptions(parent=self)
        # Bucket names are global across all accounts: a prefix plus a random suffix cannot collide.
        prefix = names.bucket_prefix(settings.project, settings.stack, declared.name)
        bucket = aws.s3.Bucket(
            name,
            bucket_prefix=prefix,
            # A stack without deletion protection (dev) must be destroyable even with objects in it.
            force_destroy=not settings.deletion_protection,
            tags=settings.tags or None,
            opts=child,
        )
        access_block = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=child,
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=bucket.id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm="AES256"
                    ),
                )
            ],
            opts=child,
        )
        aws.s3.BucketPolicy(
            f"{name}-tls-only",
            bucket=bucket.id,
            policy=bucket.arn.apply(tls_only_policy),
            # S3 rejects policy writes while a public access block is being applied.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[access_block]),
        )
        if settings.bucket_versioning:
            # Removing this resource (versioning turned off) suspends versioning; S3 cannot un-version a bucket.
            aws.s3.BucketVersioning(
                f"{name}-versioning",
                bucket=bucket.id,
                versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
                opts=child,
            )
        if declared.expiries:
            aws.s3.BucketLifecycleConfiguration(
                f"{name}-lifecycle",
                bucket=bucket.id,
                rules=[lifecycle_rule(expiry) for expiry in declared.expiries],
                opts=child,
            )
        if settings.bucket_origins:
            aws.s3.BucketCorsConfiguration(
                f"{name}-cors",
                bucket=bucket.id,
                cors_rules=[
                    aws.s3.BucketCorsConfigurationCorsRuleArgs(
                        allowed_origins=list(settings.bucket_origins),
                        allowed_methods=list(settings.cors_allowed_methods),
                        allowed_headers=["Content-Type", "Content-MD5", "x-amz-checksum-sha256"],
                        expose_headers=["ETag"],
                        max_age_seconds=settings.cors_max_age_seconds,
                    )
                ],
                opts=child,
            )
        return bucket
