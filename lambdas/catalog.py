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
from functools import cache
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

    @property
    def path_pattern(self) -> re.Pattern[str]:
        """Matches a request path; captures path parameters by name, each one path segment."""
        pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.path))
        return re.compile(f"^{pattern}$")


# ---------------------------------------------------------------------------------------------- resources

TENANTS_TABLE = Table(name="tenants", env_var="TENANTS_TABLE", partition_key=Key("pk"))

USER_POOL = UserPool(name="users", client_name="api", admin_group="admins")

TABLES: tuple[Table, ...] = (TENANTS_TABLE,)
BUCKETS: tuple[Bucket, ...] = ()

# ---------------------------------------------------------------------------------------------- functions

TENANTS = Function(
    name="tenants",
    description="Tenant accounts: create and read.",
    # A create is one TransactWriteItems of two conditional puts; IAM authorises each put as PutItem.
    tables=(TableAccess(TENANTS_TABLE, ("dynamodb:GetItem", "dynamodb:PutItem")),),
)

FUNCTIONS: tuple[Function, ...] = (TENANTS,)


class RouteDeclarationError(ValueError):
    pass


@cache
def routes() -> tuple[Route, ...]:
    """Every route of the API, read from the functions' Powertools resolvers, sorted by path and method."""
    found: dict[tuple[str, str], Route] = {}
    for function in FUNCTIONS:
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
                    f"{route.method} {route.path} is declared by both {found[key].function.name} "
                    f"and {function.name}"
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
