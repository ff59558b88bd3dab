from __future__ import annotations

import base64
import dataclasses
import hashlib
from pathlib import Path

import pulumi
import pytest

from infra.artifacts import MissingArtifactError
from infra.program import Declarations
from lambdas import catalog
from unit_tests.infra.conftest import STACK, Deployed

PREFIX = f"serverless-platform-{STACK}-"


def api_functions() -> list[catalog.Function]:
    return [f for f in catalog.FUNCTIONS if f not in catalog.USER_POOL_TRIGGERS.values()]


@pulumi.runtime.test
def test_one_lambda_per_catalog_function_with_the_stack_defaults(deploy):
    def check(deployed: Deployed) -> None:
        functions = {f.inputs["name"]: f for f in deployed.of_type("aws:lambda/function:Function")}
        assert set(functions) == {f"{PREFIX}{f.name}" for f in api_functions()}
        for declared in api_functions():
            function = functions[f"{PREFIX}{declared.name}"]
            assert function.inputs["handler"] == declared.handler
            assert function.inputs["runtime"] == "python3.13"
            assert function.inputs["architectures"] == ["arm64"]
            assert function.inputs["memorySize"] == 256
            assert function.inputs["description"] == declared.description
            role = deployed.one("aws:iam/role:Role", name=f"{PREFIX}{declared.name}")
            assert function.inputs["role"] == role.state["arn"]
            # Made after its log group (else Lambda makes one with no retention) and its policy (else its first
            # invocations cannot log): neither is an input of the function, so only depends_on orders them.
            [policy] = [
                p for p in deployed.of_type("aws:iam/rolePolicy:RolePolicy") if p.inputs["role"] == role.state["__id"]
            ]
            log_group = deployed.one("aws:cloudwatch/logGroup:LogGroup", name=f"/aws/lambda/{function.inputs['name']}")
            assert {(policy.type, policy.name), (log_group.type, log_group.name)} <= deployed.depends_on(function)

    return deploy(check)


@pulumi.runtime.test
def test_runtime_architecture_and_memory_come_from_the_stack_config(deploy, tmp_path: Path):
    def check(deployed: Deployed) -> None:
        for function in deployed.of_type("aws:lambda/function:Function"):
            assert function.inputs["runtime"] == "python3.13"
            assert function.inputs["architectures"] == ["x86_64"]
            assert function.inputs["memorySize"] == 512
            assert function.inputs["timeout"] == 20
            # The x86_64 zip, not the arm64 one: compiled dependencies load on one architecture only.
            name = function.inputs["name"].removeprefix(PREFIX)
            fake_zip = f"fake x86_64 {name}".encode()
            assert function.inputs["sourceCodeHash"] == base64.b64encode(hashlib.sha256(fake_zip).digest()).decode()

    return deploy(
        check,
        config={
            "lambdaRuntime": "python3.13",
            "lambdaArchitecture": "x86_64",
            "lambdaMemoryMb": 512,
            "lambdaTimeoutSeconds": 20,
        },
    )


@pulumi.runtime.test
def test_every_function_has_its_log_group_with_the_configured_retention(deploy):
    def check(deployed: Deployed) -> None:
        groups = {g.inputs["name"]: g for g in deployed.of_type("aws:cloudwatch/logGroup:LogGroup")}
        functions = deployed.of_type("aws:lambda/function:Function")
        assert len(functions) == len(catalog.FUNCTIONS)  # autoConfirmSignUps: the trigger too
        for function in functions:
            group = groups[f"/aws/lambda/{function.inputs['name']}"]
            assert group.inputs["retentionInDays"] == 7
        for group in groups.values():
            assert group.inputs["retentionInDays"] == 7

    return deploy(check, config={"logRetentionDays": 7, "autoConfirmSignUps": True})


@pulumi.runtime.test
def test_environment_names_tables_pool_and_powertools(deploy):
    def check(deployed: Deployed) -> None:
        pool = deployed.one("aws:cognito/userPool:UserPool")
        client = deployed.one("aws:cognito/userPoolClient:UserPoolClient")
        for declared in api_functions():
            function = deployed.one("aws:lambda/function:Function", name=f"{PREFIX}{declared.name}")
            variables = function.inputs["environment"]["variables"]
            for table in catalog.TABLES:
                assert variables[table.env_var] == f"{PREFIX}{table.name}"
            assert variables[catalog.USER_POOL.pool_id_env_var] == pool.state["__id"]
            assert variables[catalog.USER_POOL.client_id_env_var] == client.state["__id"]
            assert variables["POWERTOOLS_SERVICE_NAME"] == declared.name
            assert variables["POWERTOOLS_LOG_LEVEL"] == "DEBUG"

    return deploy(check, config={"logLevel": "DEBUG"})


@pulumi.runtime.test
def test_a_missing_zip_tells_the_user_to_run_make_build(deploy, tmp_path: Path):
    empty = tmp_path / "nothing-built"
    with pytest.raises(MissingArtifactError, match="run `make build`"):
        deploy(lambda _: None, config={"artifactDir": str(empty)})
    return pulumi.Output.from_input(None)


@pulumi.runtime.test
def test_stack_tags_reach_the_main_resources(deploy):
    def check(deployed: Deployed) -> None:
        for kind in (
            "aws:dynamodb/table:Table",
            "aws:lambda/function:Function",
            "aws:iam/role:Role",
            "aws:cognito/userPool:UserPool",
            "aws:apigateway/restApi:RestApi",
            "aws:apigateway/stage:Stage",
        ):
            for resource in deployed.of_type(kind):
                assert resource.inputs["tags"] == {"team": "platform"}, (kind, resource.name)

    return deploy(check, config={"tags": {"team": "platform"}})


@pulumi.runtime.test
def test_a_functions_declared_reserved_concurrency_is_deployed_and_the_others_reserve_none(deploy):
    declarations = Declarations.from_catalog()
    reserved = dataclasses.replace(catalog.TENANTS, reserved_concurrency=2)
    functions = tuple(reserved if f == catalog.TENANTS else f for f in declarations.functions)

    def check(deployed: Deployed) -> None:
        for function in deployed.of_type("aws:lambda/function:Function"):
            expected = 2 if function.inputs["name"] == f"{PREFIX}{catalog.TENANTS.name}" else None
            assert function.inputs.get("reservedConcurrentExecutions") == expected, function.inputs["name"]

    return deploy(check, declared=dataclasses.replace(declarations, functions=functions))
