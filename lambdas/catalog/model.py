"""The kinds of declaration the catalog is made of: tables, buckets, the user pool, functions and routes."""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from collections.abc import Callable

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
class Expiry:
    """A bucket lifecycle rule on the keys under `prefix`. Current objects are deleted `days` after they were
    written (None: kept until a function deletes them). On a versioned bucket a delete only hides an object behind a
    delete marker: its versions are deleted `noncurrent_days` after they stopped being current, and a delete marker
    left with no version is removed. Every prefix a function may `s3:DeleteObject` under needs one."""

    prefix: str
    days: int | None = None
    noncurrent_days: int = 1

    @property
    def rule_id(self) -> str:
        return f"expire-{self.prefix.strip('/').replace('/', '-')}"


@dataclass(frozen=True)
class Bucket:
    name: str
    env_var: str
    expiries: tuple[Expiry, ...] = ()


@dataclass(frozen=True)
class UserPool:
    name: str
    client_name: str
    admin_group: str
    password_min_length: int = 12
    password_requires: tuple[str, ...] = ("lowercase", "uppercase", "numbers", "symbols")
    # The embedded stack's MFA setting (a deployed stack's is its `mfa` setting: Pulumi.dev.yaml has OPTIONAL):
    # OPTIONAL lets each user turn TOTP on (POST /me/mfa/totp), with an authenticator app as the only factor.
    mfa: Literal["OFF", "OPTIONAL", "ON"] = "OPTIONAL"
    pool_id_env_var: str = "USER_POOL_ID"
    client_id_env_var: str = "USER_POOL_CLIENT_ID"


@dataclass(frozen=True)
class TableAccess:
    table: Table
    actions: tuple[str, ...]


@dataclass(frozen=True)
class BucketAccess:
    """Actions on a bucket. Object actions apply to the keys under `key_prefixes` (e.g. ``avatars/``) only;
    none means every key of the bucket."""

    bucket: Bucket
    actions: tuple[str, ...]
    key_prefixes: tuple[str, ...] = ()

    def object_resources(self, bucket_arn: str) -> list[str]:
        """The object ARNs the object actions are granted on: `<bucketArn>/<prefix>*` per prefix."""
        return [f"{bucket_arn}/{prefix}*" for prefix in self.key_prefixes or ("",)]


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
    # Modules the function imports only when a request needs them: its zip must ship them too (infra/package.py
    # ships what importing the handler and these loads).
    lazy_imports: tuple[str, ...] = ()
    # True for the function whose OpenAPI document imports every API function's resolver.
    documents_api: bool = False
    # The function of this service's code that deletes everything an account owns, given its sub (`module.name`):
    # DELETE /me (lambdas/accounts) calls each, through `owner_deletions()`, never by importing the service.
    owner_deletion: str | None = None
    # Lambda's reserved concurrency: at most this many invocations at once, the next ones throttled (429; API
    # Gateway answers them 500). None: the function shares the account's unreserved concurrency (1,000 by default).
    # The Pulumi program deploys it (`reserved_concurrent_executions`) and the embedded stack throttles by it.
    reserved_concurrency: int | None = None

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

    def deletion(self) -> Callable[[str], None]:
        """The function named by `owner_deletion`, imported now."""
        if self.owner_deletion is None:
            raise ValueError(f"{self.name} declares no owner_deletion")
        module, _, name = self.owner_deletion.rpartition(".")
        deletion: Callable[[str], None] = getattr(importlib.import_module(module), name)
        return deletion


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
