"""The platform's tables, buckets and user pool."""

from __future__ import annotations

from lambdas.catalog.model import Bucket, Index, Key, Table, UserPool

# Tenants and their website reservations (see lambdas/tenants/store.py). Lists are Queries, newest first, on
# `createdAtId` (`<createdAt UTC>#<id>`): a caller's own on `byOwner` (the creator's sub), every tenant (for
# admins) on `byCreatedAt` (one constant `bucket`). Only tenant items carry these attributes (sparse indexes).
TENANTS_TABLE = Table(
    name="tenants",
    env_var="TENANTS_TABLE",
    partition_key=Key("pk"),
    indexes=(
        Index("byOwner", partition_key=Key("owner"), sort_key=Key("createdAtId")),
        Index("byCreatedAt", partition_key=Key("bucket"), sort_key=Key("createdAtId")),
    ),
)

USER_POOL = UserPool(name="users", client_name="api", admin_group="admins")

# File SLA breaches. Every authenticated caller sees every record (see lambdas/sla_errors/store.py). GetItem by
# `id`; lists are Queries, newest first, on `expectedAtId` (`<expectedAt UTC, fixed width>#<id>`): across all files
# on `byExpectedAt` (one constant `bucket`: breaches are rare, far below a partition's write limit), or for one
# file on `byFileName`. Both indexes must project ALL attributes.
SLA_ERRORS_TABLE = Table(
    name="sla_errors",
    env_var="SLA_ERRORS_TABLE",
    partition_key=Key("id"),
    indexes=(
        Index("byExpectedAt", partition_key=Key("bucket"), sort_key=Key("expectedAtId")),
        Index("byFileName", partition_key=Key("fileName"), sort_key=Key("expectedAtId")),
    ),
)

TABLES: tuple[Table, ...] = (TENANTS_TABLE, SLA_ERRORS_TABLE)
BUCKETS: tuple[Bucket, ...] = ()
