"""Creates the catalog's tables, buckets and user pool in whatever endpoint boto3 points at (the embedded
moto server, or moto's in-memory mock in unit tests), from the same declarations the Pulumi program reads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3

from lambdas import catalog
from lambdas.catalog import Bucket, Table, UserPool

if TYPE_CHECKING:
    from mypy_boto3_s3.type_defs import BucketLifecycleConfigurationTypeDef

_PASSWORD_RULES = {
    "lowercase": "RequireLowercase",
    "uppercase": "RequireUppercase",
    "numbers": "RequireNumbers",
    "symbols": "RequireSymbols",
}


@dataclass(frozen=True)
class Provisioned:
    tables: dict[str, str]
    buckets: dict[str, str]
    user_pool_id: str
    user_pool_client_id: str

    def environment(self) -> dict[str, str]:
        """The variables the Pulumi program gives functions, with this stack's physical names."""
        env = {table.env_var: self.tables[table.name] for table in catalog.TABLES}
        env |= {bucket.env_var: self.buckets[bucket.name] for bucket in catalog.BUCKETS}
        env[catalog.USER_POOL.pool_id_env_var] = self.user_pool_id
        env[catalog.USER_POOL.client_id_env_var] = self.user_pool_client_id
        return env


def create_table_request(table: Table, name: str) -> dict[str, Any]:
    """boto3 `create_table` arguments for a declared table."""

    def key_schema(partition: catalog.Key, sort: catalog.Key | None) -> list[dict[str, str]]:
        keys = [{"AttributeName": partition.name, "KeyType": "HASH"}]
        if sort:
            keys.append({"AttributeName": sort.name, "KeyType": "RANGE"})
        return keys

    request: dict[str, Any] = {
        "TableName": name,
        "KeySchema": key_schema(table.partition_key, table.sort_key),
        "AttributeDefinitions": [{"AttributeName": key.name, "AttributeType": key.type} for key in table.attributes],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if table.indexes:
        request["GlobalSecondaryIndexes"] = [
            {
                "IndexName": index.name,
                "KeySchema": key_schema(index.partition_key, index.sort_key),
                "Projection": {"ProjectionType": "ALL"},
            }
            for index in table.indexes
        ]
    return request


def lifecycle_configuration(bucket: Bucket) -> BucketLifecycleConfigurationTypeDef:
    """boto3 `put_bucket_lifecycle_configuration` rules for a declared bucket (moto keeps them, but expires nothing)."""
    return {
        "Rules": [
            {
                "ID": expiry.rule_id,
                "Status": "Enabled",
                "Filter": {"Prefix": expiry.prefix},
                "Expiration": {"Days": expiry.days} if expiry.days else {"ExpiredObjectDeleteMarker": True},
                "NoncurrentVersionExpiration": {"NoncurrentDays": expiry.noncurrent_days},
                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": expiry.days or expiry.noncurrent_days},
            }
            for expiry in bucket.expiries
        ]
    }


def create_user_pool_request(pool: UserPool, name: str) -> dict[str, Any]:
    policy: dict[str, Any] = {"MinimumLength": pool.password_min_length}
    policy |= {_PASSWORD_RULES[rule]: True for rule in pool.password_requires}
    return {
        "PoolName": name,
        "UsernameAttributes": ["email"],
        "AutoVerifiedAttributes": ["email"],
        "Policies": {"PasswordPolicy": policy},
        "MfaConfiguration": pool.mfa,
    }


def mfa_configuration(pool: UserPool, pool_id: str) -> dict[str, Any]:
    """boto3 `set_user_pool_mfa_config` arguments: an authenticator app (TOTP) is the second factor offered."""
    request: dict[str, Any] = {"UserPoolId": pool_id, "MfaConfiguration": pool.mfa}
    if pool.mfa != "OFF":
        request["SoftwareTokenMfaConfiguration"] = {"Enabled": True}
    return request


def provision(prefix: str = "local-") -> Provisioned:
    """Creates what is missing and keeps what exists (a restored state), so ids stay the same across restarts."""
    dynamodb = boto3.client("dynamodb")
    s3 = boto3.client("s3")
    cognito = boto3.client("cognito-idp")
    tables = {table.name: f"{prefix}{table.name}" for table in catalog.TABLES}
    existing_tables = set(dynamodb.list_tables()["TableNames"])
    for table in catalog.TABLES:
        if tables[table.name] in existing_tables:
            continue
        dynamodb.create_table(**create_table_request(table, tables[table.name]))
        if table.ttl_attribute:
            dynamodb.update_time_to_live(
                TableName=tables[table.name],
                TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute},
            )
    buckets = {bucket.name: f"{prefix}{bucket.name}" for bucket in catalog.BUCKETS}
    existing_buckets = {bucket["Name"] for bucket in s3.list_buckets()["Buckets"]}
    for bucket in catalog.BUCKETS:
        if buckets[bucket.name] not in existing_buckets:
            s3.create_bucket(Bucket=buckets[bucket.name])
        if bucket.expiries:
            s3.put_bucket_lifecycle_configuration(
                Bucket=buckets[bucket.name], LifecycleConfiguration=lifecycle_configuration(bucket)
            )
    pool = catalog.USER_POOL
    pool_name, client_name = f"{prefix}{pool.name}", f"{prefix}{pool.client_name}"
    pools = cognito.list_user_pools(MaxResults=60)["UserPools"]
    pool_id = next((found["Id"] for found in pools if found["Name"] == pool_name), None)
    if pool_id is None:
        pool_id = cognito.create_user_pool(**create_user_pool_request(pool, pool_name))["UserPool"]["Id"]
        cognito.set_user_pool_mfa_config(**mfa_configuration(pool, pool_id))
    clients = cognito.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)["UserPoolClients"]
    client_id = next((found["ClientId"] for found in clients if found["ClientName"] == client_name), None)
    if client_id is None:
        client_id = cognito.create_user_pool_client(
            UserPoolId=pool_id,
            ClientName=client_name,
            GenerateSecret=False,
            ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            # As the deployed client (infra/auth.py).
            PreventUserExistenceErrors="ENABLED",
            EnableTokenRevocation=True,
        )["UserPoolClient"]["ClientId"]
    groups = {group["GroupName"] for group in cognito.list_groups(UserPoolId=pool_id)["Groups"]}
    if pool.admin_group not in groups:
        cognito.create_group(UserPoolId=pool_id, GroupName=pool.admin_group)
    return Provisioned(tables=tables, buckets=buckets, user_pool_id=pool_id, user_pool_client_id=client_id)
