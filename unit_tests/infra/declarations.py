"""A catalog richer than today's: sort keys, several GSIs, TTL, a bucket, user pool actions, a root route, deep
paths, a trigger. The program must handle whatever the catalog grows into, so the tests run it on this too."""

from __future__ import annotations

from infra.api import MethodNotAllowed
from infra.program import Declarations
from lambdas import catalog
from lambdas.catalog import Bucket, BucketAccess, Function, Index, Key, Route, Table, TableAccess

EVENTS = Table(
    name="events",
    env_var="EVENTS_TABLE",
    partition_key=Key("tenantId"),
    sort_key=Key("at", "N"),
    indexes=(
        Index("byKind", partition_key=Key("kind"), sort_key=Key("at", "N")),
        Index("byUser", partition_key=Key("userId")),
    ),
    ttl_attribute="expiresAt",
)
PLAIN = Table(name="plain", env_var="PLAIN_TABLE", partition_key=Key("pk"))
UPLOADS = Bucket(name="uploads", env_var="UPLOADS_BUCKET")

READER = Function(
    name="reader",
    description="Reads events through their indexes.",
    tables=(TableAccess(EVENTS, ("dynamodb:Query", "dynamodb:GetItem")),),
)
WRITER = Function(
    name="writer",
    description="Writes events (no Query: no index ARN) and uploads.",
    tables=(TableAccess(EVENTS, ("dynamodb:PutItem",)), TableAccess(PLAIN, ("dynamodb:GetItem",))),
    buckets=(BucketAccess(UPLOADS, ("s3:GetObject", "s3:PutObject", "s3:ListBucket")),),
)
ADMIN = Function(
    name="admin",
    description="Manages users.",
    user_pool_actions=("cognito-idp:AdminAddUserToGroup", "cognito-idp:AdminGetUser"),
)
HOOK = Function(name="hook", description="A pre sign-up trigger.", serves_api=False)

ROUTES = (
    Route("GET", "/", READER, public=True),
    Route("GET", "/events", READER, public=False),
    Route("POST", "/events", WRITER, public=False),
    Route("GET", "/events/{eventId}", READER, public=False),
    Route("PUT", "/events/{eventId}/attachments/{name}", WRITER, public=False),
    Route("POST", "/admin/users/{userId}/groups", ADMIN, public=False),
)

RICH = Declarations(
    tables=(EVENTS, PLAIN),
    buckets=(UPLOADS,),
    user_pool=catalog.USER_POOL,
    functions=(READER, WRITER, ADMIN, HOOK),
    routes=ROUTES,
    gateway_responses=catalog.GATEWAY_RESPONSES,
    method_not_allowed=MethodNotAllowed(405, "Method Not Allowed"),
    binary_media_types=catalog.BINARY_MEDIA_TYPES,
    user_pool_triggers={"PreSignUp": HOOK},
)
