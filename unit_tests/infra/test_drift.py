"""The deployed stack and the embedded stack (embedded_stack/) are made from one catalog: these tests fail when
the two turn the same declaration into different tables or environments."""

from __future__ import annotations

from typing import Any

import pulumi

from embedded_stack.provision import Provisioned, create_table_request
from infra.program import Declarations
from lambdas import catalog
from lambdas.catalog import Table, cors
from unit_tests.infra.conftest import STACK, Deployed, Registered
from unit_tests.infra.declarations import RICH

PREFIX = f"serverless-platform-{STACK}-"


def from_boto3(request: dict[str, Any], table: Table) -> dict[str, Any]:
    def keys(schema: list[dict[str, str]]) -> list[tuple[str, str]]:
        return [(key["AttributeName"], key["KeyType"]) for key in schema]

    return {
        "name": request["TableName"],
        "keys": keys(request["KeySchema"]),
        "attributes": sorted((a["AttributeName"], a["AttributeType"]) for a in request["AttributeDefinitions"]),
        "billing": request["BillingMode"],
        "indexes": {
            index["IndexName"]: (keys(index["KeySchema"]), index["Projection"]["ProjectionType"])
            for index in request.get("GlobalSecondaryIndexes", [])
        },
        # The embedded stack sets TTL in a second call (update_time_to_live) with the declared attribute.
        "ttl": table.ttl_attribute,
    }


def from_pulumi(registered: Registered) -> dict[str, Any]:
    inputs = registered.inputs
    keys = [(inputs["hashKey"], "HASH")] + ([(inputs["rangeKey"], "RANGE")] if "rangeKey" in inputs else [])
    ttl = inputs.get("ttl")
    return {
        "name": inputs["name"],
        "keys": keys,
        "attributes": sorted((a["name"], a["type"]) for a in inputs["attributes"]),
        "billing": inputs["billingMode"],
        "indexes": {
            index["name"]: ([(k["attributeName"], k["keyType"]) for k in index["keySchemas"]], index["projectionType"])
            for index in inputs.get("globalSecondaryIndexes", [])
        },
        "ttl": ttl["attributeName"] if ttl and ttl["enabled"] else None,
    }


def check_tables_match_the_embedded_stack(deployed: Deployed) -> None:
    assert deployed.declared.tables
    for table in deployed.declared.tables:
        name = f"{PREFIX}{table.name}"
        mocked = deployed.one("aws:dynamodb/table:Table", name=name)
        assert from_pulumi(mocked) == from_boto3(create_table_request(table, name), table), table.name


@pulumi.runtime.test
def test_catalog_tables_match_the_embedded_stacks_create_table_requests(deploy):
    return deploy(check_tables_match_the_embedded_stack)


@pulumi.runtime.test
def test_tables_with_sort_keys_indexes_and_ttl_match_too(deploy):
    return deploy(check_tables_match_the_embedded_stack, declared=RICH)


def embedded_environment(declared: Declarations) -> set[str]:
    provisioned = Provisioned(
        tables={t.name: t.name for t in declared.tables},
        buckets={b.name: b.name for b in declared.buckets},
        user_pool_id="pool",
        user_pool_client_id="client",
    )
    return set(provisioned.environment())


@pulumi.runtime.test
def test_api_functions_get_the_variables_the_embedded_stack_gives_them(deploy):
    def check(deployed: Deployed) -> None:
        expected = embedded_environment(deployed.declared) | {
            "POWERTOOLS_SERVICE_NAME",
            "POWERTOOLS_LOG_LEVEL",
            # The metrics' stage dimension: the embedded stack's functions say "local" (lambdas/shared/observability).
            catalog.STAGE_ENV_VAR,
            cors.ENV_VAR,
        }
        triggers = set(catalog.USER_POOL_TRIGGERS.values())
        for function in catalog.FUNCTIONS:
            if function in triggers:
                continue
            deployed_function = deployed.one("aws:lambda/function:Function", name=f"{PREFIX}{function.name}")
            assert set(deployed_function.inputs["environment"]["variables"]) == expected, function.name

    return deploy(check)
