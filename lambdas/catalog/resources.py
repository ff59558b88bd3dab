"""The platform's tables, buckets and user pool."""

from __future__ import annotations

from lambdas.catalog.model import Bucket, Expiry, Index, Key, Table, UserPool

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

# The users directory (see lambdas/users/store.py). `USER#<id>` items hold a user; `EMAIL#<email>` items reserve
# an address. Lists are Queries on `byCreatedAt`, newest first: one constant `directory` partition (people are
# added far below a partition's write limit), sorted on `createdAtId` (`<createdAt UTC, fixed width>#<id>`). Only
# user items carry those attributes, so the index holds users and nothing else. It must project ALL attributes.
USERS_TABLE = Table(
    name="users",
    env_var="USERS_TABLE",
    partition_key=Key("pk"),
    indexes=(Index("byCreatedAt", partition_key=Key("directory"), sort_key=Key("createdAtId")),),
)

# Avatar images, private. `pending/` holds uploads not yet committed by their user item: what a function that died
# mid-create left behind is deleted after a day. Committed images live under `avatars/`, until their user is deleted.
# The bucket is versioned: a deleted image stays as a noncurrent version, which is deleted a day later (both
# prefixes: the users function may delete under each).
AVATARS_PENDING_PREFIX = "pending/"
AVATARS_PREFIX = "avatars/"
AVATARS_BUCKET = Bucket(
    name="avatars",
    env_var="AVATARS_BUCKET",
    expiries=(Expiry(AVATARS_PENDING_PREFIX, days=1), Expiry(AVATARS_PREFIX, noncurrent_days=1)),
)


# Each user's points ledger, partitioned by the user's Cognito sub (`pk`); `sk` names the item: the ledger head
# and per-payer balances (`BALANCE`, `BALANCE#<payer key>`), open lots (`LOT#<payer key>#<timestamp>#<id>`),
# history (`TX#<recordedAt>#<id>`) and a large spend's steps (`SAGA#...`). See lambdas/points/store.py.
POINTS_TABLE = Table(name="points", env_var="POINTS_TABLE", partition_key=Key("pk"), sort_key=Key("sk"))

# Powertools idempotency records of POST /points/spend and /points/transactions (key: a hash of the caller's sub,
# the route and the Idempotency-Key header); DynamoDB deletes them after `expiration`.
POINTS_IDEMPOTENCY_TABLE = Table(
    name="points_idempotency",
    env_var="POINTS_IDEMPOTENCY_TABLE",
    partition_key=Key("id"),
    ttl_attribute="expiration",
)

TABLES: tuple[Table, ...] = (TENANTS_TABLE, SLA_ERRORS_TABLE, USERS_TABLE, POINTS_TABLE, POINTS_IDEMPOTENCY_TABLE)
BUCKETS: tuple[Bucket, ...] = (AVATARS_BUCKET,)
