"""The whole stack, composed from `lambdas.catalog`: what `__main__.py` runs and what the unit tests run."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.api import Api, MethodNotAllowed
from infra.auth import Auth
from infra.data import Buckets, Tables
from infra.functions import Functions
from infra.settings import PROJECT, StackSettings
from lambdas import catalog
from lambdas.catalog import Bucket, Function, GatewayResponse, Route, Table, UserPool, cors
from lambdas.platform import openapi

PRE_SIGN_UP = "PreSignUp"


@dataclass(frozen=True)
class Declarations:
    """What the stack is made from. `from_catalog()` is the real one; tests pass richer ones."""

    tables: tuple[Table, ...]
    buckets: tuple[Bucket, ...]
    user_pool: UserPool
    functions: tuple[Function, ...]
    routes: tuple[Route, ...]
    gateway_responses: tuple[GatewayResponse, ...]
    method_not_allowed: MethodNotAllowed
    binary_media_types: tuple[str, ...]
    user_pool_triggers: Mapping[str, Function] = field(default_factory=dict)
    # The OpenAPI document the API serves, which the deployed API is declared from; None: one made of the routes.
    document: Mapping[str, Any] | None = field(default=None, repr=False)

    @classmethod
    def from_catalog(cls) -> Declarations:
        return cls(
            tables=catalog.TABLES,
            buckets=catalog.BUCKETS,
            user_pool=catalog.USER_POOL,
            functions=catalog.FUNCTIONS,
            routes=catalog.routes(),
            gateway_responses=catalog.GATEWAY_RESPONSES,
            method_not_allowed=MethodNotAllowed(catalog.METHOD_NOT_ALLOWED_STATUS, catalog.METHOD_NOT_ALLOWED_MESSAGE),
            binary_media_types=catalog.BINARY_MEDIA_TYPES,
            user_pool_triggers=catalog.USER_POOL_TRIGGERS,
            document=openapi.document(),
        )

    def enabled_triggers(self, settings: StackSettings) -> dict[str, Function]:
        """The user pool triggers this stack deploys: PreSignUp (auto-confirmation) only with autoConfirmSignUps."""
        return {
            key: function
            for key, function in self.user_pool_triggers.items()
            if key != PRE_SIGN_UP or settings.auto_confirm_sign_ups
        }


@dataclass(frozen=True)
class Platform:
    tables: Tables
    buckets: Buckets
    auth: Auth
    triggers: Functions
    functions: Functions
    api: Api
    outputs: dict[str, object]


def load_settings() -> StackSettings:
    return StackSettings.from_pulumi(
        pulumi.Config(PROJECT), pulumi.Config("aws"), pulumi.get_project(), pulumi.get_stack()
    )


def build_stack(settings: StackSettings, declared: Declarations) -> Platform:
    """Declares every resource and returns the stack outputs (the keys of `catalog.stack_outputs`)."""
    tables = Tables("tables", declared.tables, settings)
    buckets = Buckets("buckets", declared.buckets, settings)
    names: dict[str, pulumi.Input[str]] = {
        **{table.env_var: tables.names[table.name] for table in declared.tables},
        **{bucket.env_var: buckets.names[bucket.name] for bucket in declared.buckets},
    }
    # Triggers come before the pool (it names them), so they cannot be given the pool's ids.
    enabled_triggers = declared.enabled_triggers(settings)
    triggers = Functions(
        "triggers",
        tuple(enabled_triggers.values()),
        shared_environment=names,
        table_arns=tables.arns,
        bucket_arns=buckets.arns,
        user_pool_arn=None,
        settings=settings,
    )
    auth = Auth(
        "auth",
        declared.user_pool,
        settings,
        triggers={key: triggers.functions[function.name] for key, function in enabled_triggers.items()},
    )
    pool = declared.user_pool
    # Every function gets every name (the embedded stack does the same): its role decides what it may touch.
    # identity needs the client id although it holds no IAM action on the pool (Cognito's client APIs are public).
    shared_environment: dict[str, pulumi.Input[str]] = {
        **names,
        pool.pool_id_env_var: auth.user_pool.id,
        pool.client_id_env_var: auth.client.id,
        **cors.environment(settings.cors_allowed_origins),
    }
    all_triggers = set(declared.user_pool_triggers.values())
    functions = Functions(
        "functions",
        tuple(function for function in declared.functions if function not in all_triggers),
        shared_environment=shared_environment,
        table_arns=tables.arns,
        bucket_arns=buckets.arns,
        user_pool_arn=auth.user_pool.arn,
        settings=settings,
    )
    routed = {route.function.name for route in declared.routes}
    api = Api(
        "api",
        routes=declared.routes,
        gateway_responses=declared.gateway_responses,
        method_not_allowed=declared.method_not_allowed,
        binary_media_types=declared.binary_media_types,
        functions={key: fn.function for key, fn in functions.functions.items() if key in routed},
        user_pool_arn=auth.user_pool.arn,
        settings=settings,
        document=declared.document,
    )
    region: pulumi.Input[str] = aws.config.region or aws.get_region_output().region
    outputs = catalog.stack_outputs(
        api_url=api.invoke_url,
        region=region,
        user_pool_id=auth.user_pool.id,
        user_pool_client_id=auth.client.id,
        tables=dict(tables.names),
        buckets=dict(buckets.names),
        aws_endpoint=settings.aws_endpoint,
    )
    return Platform(
        tables=tables, buckets=buckets, auth=auth, triggers=triggers, functions=functions, api=api, outputs=outputs
    )


def main() -> Platform:
    platform = build_stack(load_settings(), Declarations.from_catalog())
    for key, value in platform.outputs.items():
        pulumi.export(key, value)
    return platform
