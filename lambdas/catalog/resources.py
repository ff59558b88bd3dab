"""The platform's tables, buckets and user pool."""

from __future__ import annotations

from lambdas.catalog.model import Bucket, Index, Key, Table, UserPool

TENANTS_TABLE = Table(name="tenants", env_var="TENANTS_TABLE", partition_key=Key("pk"))

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
