"""The platform's single declaration: its tables, buckets, user pool, functions and routes.

The Pulumi program (infra/), the embedded stack (embedded_stack/), the OpenAPI document and the tests all
read this module. Routes are declared once, where they are served: by the Powertools route decorators of each
function's resolver, with `security=PROTECTED` or `security=PUBLIC`. `routes()` reads them from there.

Importing this module imports no handler; `routes()` does, lazily, and handler imports have no side effects.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from functools import cache, cached_property
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver

AUTHORIZER_NAME = "CognitoUserPool"
# OpenAPI security requirements. `PUBLIC` is the empty requirement object: "no authentication".
PROTECTED: list[dict[str, list[str]]] = [{AUTHORIZER_NAME: []}]
PUBLIC: list[dict[str, list[str]]] = [{}]


@dataclass(frozen=True)
class Key:
    name: str
    type: Literal["S", "N", "B"] = "S"


@dataclass(frozen=True)
class Index:
    name: str
    partition_key: Key
    sort_key: Key | None = None


@dataclass(frozen=True)
class Table:
    name: str
    env_var: str
    partition_key: Key
    sort_key: Key | None = None
    indexes: tuple[Index, ...] = ()
    ttl_attribute: str | None = None

    @property
    def attributes(self) -> tuple[Key, ...]:
        """Every key attribute of the table and its indexes, once each, in declaration order."""
        keys = [self.partition_key, self.sort_key]
        for index in self.indexes:
            keys += [index.partition_key, index.sort_key]
        return tuple(dict.fromkeys(key for key in keys if key is not None))


@dataclass(frozen=True)
class Bucket:
    name: str
    env_var: str


@dataclass(frozen=True)
class UserPool:
    name: str
    client_name: str
    admin_group: str
    password_min_length: int = 12
    password_requires: tuple[str, ...] = ("lowercase", "uppercase", "numbers", "symbols")
    pool_id_env_var: str = "USER_POOL_ID"
    client_id_env_var: str = "USER_POOL_CLIENT_ID"


@dataclass(frozen=True)
class TableAccess:
    table: Table
    actions: tuple[str, ...]


@dataclass(frozen=True)
class BucketAccess:
    bucket: Bucket
    actions: tuple[str, ...]


@dataclass(frozen=True)
class Function:
    """One Lambda function: its code, and every AWS action it may take (its IAM role grants only these)."""

    name: str
    description: str
    tables: tuple[TableAccess, ...] = ()
    buckets: tuple[BucketAccess, ...] = ()
    user_pool_actions: tuple[str, ...] = ()
    # False for a function that no API route invokes (e.g. a Cognito trigger): it has no resolver.
    serves_api: bool = True

    @property
    def module(self) -> str:
        return f"lambdas.{self.name}.handler"

    @property
    def handler(self) -> str:
        return f"{self.module}.lambda_handler"

    @property
    def package(self) -> str:
        return f"lambdas/{self.name}"

    def resolver(self) -> APIGatewayRestResolver:
        return importlib.import_module(self.module).app


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # API Gateway form, e.g. /tenants/{tenantId}
    function: Function
    public: bool

    @cached_property
    def path_pattern(self) -> re.Pattern[str]:
        """Matches a request path; captures path parameters by name, each one path segment."""
        pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.path))
        # `\Z`, not `$`: `$` also matches before a final newline, so `/health%0A` would be served as `/health`.
        return re.compile(f"^{pattern}\\Z")


# ---------------------------------------------------------------------------------------------- resources

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

# ---------------------------------------------------------------------------------------------- functions

TENANTS = Function(
    name="tenants",
    description="Tenant accounts: create and read.",
    # A create is one TransactWriteItems of two conditional puts; IAM authorises each put as PutItem.
    tables=(TableAccess(TENANTS_TABLE, ("dynamodb:GetItem", "dynamodb:PutItem")),),
)

IDENTITY = Function(
    name="identity",
    description="Sign-up, confirmation, login and token refresh against the user pool.",
    # Empty on purpose: SignUp, ConfirmSignUp and InitiateAuth are Cognito's public (unauthenticated) client APIs,
    # authorised by the app client id, not by IAM, so no IAM action would change what this function can do. It
    # needs the app client id in its environment (USER_POOL.client_id_env_var).
    user_pool_actions=(),
)

SLA_ERRORS = Function(
    name="sla_errors",
    description="File SLA breaches: record, list and read.",
    # Query on the table's indexes: the grant must cover the table's `index/*` ARNs too.
    tables=(TableAccess(SLA_ERRORS_TABLE, ("dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:Query")),),
)

PRESIGNUP = Function(
    name="presignup",
    description="The user pool's pre sign-up trigger: confirms users and verifies their email on sign-up.",
    serves_api=False,
)

# The user pool's Lambda triggers, by the pool's LambdaConfig name. Cognito invokes them: each needs a
# lambda:InvokeFunction permission for the principal cognito-idp.amazonaws.com, scoped to the pool's ARN.
USER_POOL_TRIGGERS: dict[str, Function] = {"PreSignUp": PRESIGNUP}

PLATFORM = Function(
    name="platform",
    description="The API's own routes: health check, the OpenAPI document and Swagger UI.",
)

FUNCTIONS: tuple[Function, ...] = (TENANTS, IDENTITY, SLA_ERRORS, PRESIGNUP, PLATFORM)


class RouteDeclarationError(ValueError):
    pass


@cache
def routes() -> tuple[Route, ...]:
    """Every route of the API, read from the functions' Powertools resolvers, sorted by path and method."""
    found: dict[tuple[str, str], Route] = {}
    for function in FUNCTIONS:
        if not function.serves_api:
            continue
        resolver = function.resolver()
        for declared in resolver._static_routes + resolver._dynamic_routes:
            route = Route(
                method=declared.method.upper(),
                path=declared.openapi_path,
                function=function,
                public=_is_public(declared.security, f"{declared.method} {declared.path}"),
            )
            key = (route.method, route.path)
            if key in found:
                raise RouteDeclarationError(
                    f"{route.method} {route.path} is declared by both {found[key].function.name} and {function.name}"
                )
            found[key] = route
    return tuple(sorted(found.values(), key=lambda route: (route.path, route.method)))


def _is_public(security: list[dict[str, list[str]]] | None, where: str) -> bool:
    if security == PUBLIC:
        return True
    if security == PROTECTED:
        return False
    raise RouteDeclarationError(f"{where} must declare security=PROTECTED or security=PUBLIC")


def resource_paths() -> tuple[str, ...]:
    """Every distinct route path, in order."""
    return tuple(dict.fromkeys(route.path for route in routes()))


# ---------------------------------------------------------------------------------------------- gateway


@dataclass(frozen=True)
class GatewayResponse:
    """An API Gateway Gateway Response: what API Gateway itself answers, before or instead of a function."""

    response_type: str
    status: int
    message: str


# The same JSON shape as the functions' errors. The deployed API sets these as Gateway Responses; the embedded
# stack answers with them. A wrong method on a known path answers 405 from a MOCK integration (`ANY`).
NOT_FOUND = GatewayResponse("MISSING_AUTHENTICATION_TOKEN", 404, "Not Found")
UNAUTHORIZED = GatewayResponse("UNAUTHORIZED", 401, "Unauthorized")
ACCESS_DENIED = GatewayResponse("ACCESS_DENIED", 403, "Forbidden")
DEFAULT_4XX = GatewayResponse("DEFAULT_4XX", 400, "Bad Request")
DEFAULT_5XX = GatewayResponse("DEFAULT_5XX", 500, "Internal server error")
GATEWAY_RESPONSES = (NOT_FOUND, UNAUTHORIZED, ACCESS_DENIED, DEFAULT_4XX, DEFAULT_5XX)
METHOD_NOT_ALLOWED_STATUS = 405
# Request bodies of these types reach a function base64-encoded (`isBase64Encoded`), as uploads must.
BINARY_MEDIA_TYPES = ("image/*", "multipart/form-data", "application/octet-stream")
METHOD_NOT_ALLOWED_MESSAGE = "Method Not Allowed"

# ---------------------------------------------------------------------------------------------- outputs


def stack_outputs(
    *,
    api_url: object,
    region: object,
    user_pool_id: object,
    user_pool_client_id: object,
    tables: dict[str, object],
    buckets: dict[str, object],
    aws_endpoint: object | None = None,
) -> dict[str, object]:
    """The outputs of a stack, embedded or deployed, by the same keys.

    `tables` and `buckets` map each declared logical name to the physical name. Values may be Pulumi Outputs.
    """
    outputs: dict[str, object] = {
        "apiUrl": api_url,
        "region": region,
        "userPoolId": user_pool_id,
        "userPoolClientId": user_pool_client_id,
        "tables": tables,
        "buckets": buckets,
    }
    if aws_endpoint is not None:
        outputs["awsEndpoint"] = aws_endpoint
    return outputs


def route_table() -> str:
    """The routes as a Markdown table (`make routes`)."""
    rows = ["| method | path | auth | function |", "|---|---|---|---|"]
    rows += [
        f"| {route.method} | `{route.path}` | {'public' if route.public else 'Cognito ID token'} | "
        f"{route.function.name} |"
        for route in routes()
    ]
    return "\n".join(rows)
