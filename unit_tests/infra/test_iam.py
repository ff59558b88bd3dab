"""Every function's role grants exactly the catalog's actions on exactly its own resources."""

from __future__ import annotations

import json
from typing import Any

import pulumi

from infra.functions import TRACE_ACTIONS, access_statements, log_statements, policy_document
from lambdas.catalog import BucketAccess, Function
from unit_tests.infra.conftest import ACCOUNT, REGION, STACK, Deployed
from unit_tests.infra.declarations import RICH
from unit_tests.infra.iam_audit import (
    ALLOWED,
    Policy,
    allowance,
    failing,
    findings,
    generated_policies,
    unaudited_policy_inputs,
)

PREFIX = f"serverless-platform-{STACK}-"
# The only wildcards a role may name: any object key of its own bucket, any stream of its own log group.
ALLOWED_WILDCARD_SUFFIXES = ("/*", ":*")


def policy_of(deployed: Deployed, function_name: str) -> dict[str, Any]:
    role = deployed.one("aws:iam/role:Role", name=f"{PREFIX}{function_name}")
    [policy] = [p for p in deployed.of_type("aws:iam/rolePolicy:RolePolicy") if p.inputs["role"] == role.state["__id"]]
    return json.loads(policy.inputs["policy"])


def expected_grants(deployed: Deployed, function: Function) -> set[tuple[str, str]]:
    """(action, resource) pairs the catalog declares for a function, with the mocked physical ARNs."""
    tables = {t.inputs["name"]: t.state["arn"] for t in deployed.of_type("aws:dynamodb/table:Table")}
    buckets = {b.inputs["bucketPrefix"]: b.state["arn"] for b in deployed.of_type("aws:s3/bucket:Bucket")}
    pool_arn = deployed.one("aws:cognito/userPool:UserPool").state["arn"]
    grants: set[tuple[str, str]] = set()
    for access in function.tables:
        arn = tables[f"{PREFIX}{access.table.name}"]
        resources = [arn]
        if {"dynamodb:Query", "dynamodb:Scan"} & set(access.actions):
            resources += [f"{arn}/index/{index.name}" for index in access.table.indexes]
        grants |= {(action, resource) for action in access.actions for resource in resources}
    for access in function.buckets:
        arn = buckets[f"{PREFIX}{access.bucket.name}-"]
        for action in access.actions:
            object_level = "Bucket" not in action and ("Object" in action or "Multipart" in action)
            objects = [f"{arn}/{prefix}*" for prefix in access.key_prefixes or ("",)]
            grants |= {(action, resource) for resource in (objects if object_level else [arn])}
    grants |= {(action, pool_arn) for action in function.user_pool_actions}
    log_group = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/{PREFIX}{function.name}"
    # Both log actions are authorised on the log-stream ARN (`<group>:log-stream:<name>`): `<group>:*` covers it.
    grants |= {("logs:CreateLogStream", f"{log_group}:*"), ("logs:PutLogEvents", f"{log_group}:*")}
    # An actively traced function writes its traces: X-Ray's two write actions have no resource type but "*".
    lambda_function = deployed.one("aws:lambda/function:Function", name=f"{PREFIX}{function.name}")
    if (lambda_function.inputs.get("tracingConfig") or {}).get("mode") == "Active":
        grants |= {(action, "*") for action in TRACE_ACTIONS}
    return grants


def granted(policy: dict[str, Any]) -> set[tuple[str, str]]:
    pairs = set()
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        assert set(statement) <= {"Sid", "Effect", "Action", "Resource"}, "no NotAction/NotResource/Condition"
        actions = [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
        resources = [statement["Resource"]] if isinstance(statement["Resource"], str) else statement["Resource"]
        pairs |= {(action, resource) for action in actions for resource in resources}
    return pairs


def check_least_privilege(deployed: Deployed) -> None:
    functions = [f for f in deployed.declared.functions if f not in deployed.declared.user_pool_triggers.values()]
    assert functions
    for function in functions:
        pairs = granted(policy_of(deployed, function.name))
        assert pairs == expected_grants(deployed, function), function.name
        for action, resource in pairs:
            assert "*" not in action, (function.name, action)
            assert resource != "*" or action in TRACE_ACTIONS, (function.name, action)
            if "*" in resource and resource != "*":
                assert resource.endswith(ALLOWED_WILDCARD_SUFFIXES), resource
                assert resource.count("*") == 1, resource
    # No managed policy anywhere near a function role (AWSLambdaBasicExecutionRole grants logs on `*`).
    # An attachment names its role by name (or id): collect both for every function role.
    function_roles = {
        value
        for role in deployed.of_type("aws:iam/role:Role")
        if role.inputs.get("name", "").removeprefix(PREFIX) in {f.name for f in deployed.declared.functions}
        for value in (role.inputs["name"], role.state["__id"])
    }
    assert len(function_roles) >= 2 * len(functions)
    for role in deployed.of_type("aws:iam/role:Role"):
        assert not role.inputs.get("managedPolicyArns"), role.name
    for attachment in deployed.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment"):
        assert attachment.inputs["role"] not in function_roles


@pulumi.runtime.test
def test_each_role_grants_only_the_catalogs_actions_on_its_own_resources(deploy):
    return deploy(check_least_privilege)


@pulumi.runtime.test
def test_the_only_managed_policy_is_on_api_gateways_account_role_and_every_policy_passes_parliament(deploy):
    def check(deployed: Deployed) -> None:
        check_least_privilege(deployed)
        [attachment] = deployed.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        assert attachment.inputs["policyArn"].endswith("/AmazonAPIGatewayPushToCloudWatchLogs")
        check_every_policy_passes_parliament(deployed)

    return deploy(check, config={"apiGatewayAccountSettings": True})


@pulumi.runtime.test
def test_least_privilege_with_indexes_buckets_and_the_user_pool(deploy):
    def check(deployed: Deployed) -> None:
        check_least_privilege(deployed)
        reader = granted(policy_of(deployed, "reader"))
        events = deployed.one("aws:dynamodb/table:Table", name=f"{PREFIX}events").state["arn"]
        assert ("dynamodb:Query", f"{events}/index/byKind") in reader
        assert ("dynamodb:Query", f"{events}/index/byUser") in reader
        writer = granted(policy_of(deployed, "writer"))
        assert not any("/index/" in resource for _, resource in writer), "PutItem needs no index ARN"
        bucket = deployed.one("aws:s3/bucket:Bucket").state["arn"]
        assert ("s3:ListBucket", bucket) in writer
        assert ("s3:PutObject", f"{bucket}/*") in writer

    return deploy(check, declared=RICH)


@pulumi.runtime.test
def test_lambda_roles_trust_only_lambda(deploy):
    def check(deployed: Deployed) -> None:
        for function in deployed.declared.functions:
            role = deployed.one("aws:iam/role:Role", name=f"{PREFIX}{function.name}")
            [statement] = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
            assert statement["Principal"] == {"Service": "lambda.amazonaws.com"}
            assert statement["Action"] == "sts:AssumeRole"

    return deploy(check, config={"autoConfirmSignUps": True})


def test_s3_actions_go_on_the_object_or_the_bucket_arn_by_what_they_act_on():
    bucket_arn = "arn:aws:s3:::uploads-1"
    function = Function(
        name="f",
        description="",
        buckets=(
            BucketAccess(
                RICH.buckets[0],
                (
                    "s3:GetObject",
                    "s3:PutObjectTagging",
                    "s3:AbortMultipartUpload",
                    "s3:ListBucket",
                    "s3:ListBucketMultipartUploads",
                    "s3:GetBucketObjectLockConfiguration",
                ),
            ),
        ),
    )
    pairs = granted({"Statement": access_statements(function, {}, {RICH.buckets[0].name: bucket_arn}, None)})
    assert pairs == {
        ("s3:GetObject", f"{bucket_arn}/*"),
        ("s3:PutObjectTagging", f"{bucket_arn}/*"),
        ("s3:AbortMultipartUpload", f"{bucket_arn}/*"),
        ("s3:ListBucket", bucket_arn),
        ("s3:ListBucketMultipartUploads", bucket_arn),
        ("s3:GetBucketObjectLockConfiguration", bucket_arn),
    }


def check_every_policy_passes_parliament(deployed: Deployed) -> None:
    policies = generated_policies(deployed)
    kinds = {policy.kind for policy in policies}
    assert kinds == {"identity", "trust", "resource"}, kinds
    assert not unaudited_policy_inputs(deployed)
    found = [finding for policy in policies for finding in failing(findings(policy))]
    unexplained = [finding for finding in found if allowance(finding) is None]
    assert not unexplained, unexplained
    # An allowance nothing needs any more is removed, not kept "just in case".
    assert {allowance(finding) for finding in found} == set(ALLOWED)


@pulumi.runtime.test
def test_every_generated_policy_of_a_richer_catalog_passes_parliament(deploy):
    return deploy(
        check_every_policy_passes_parliament,
        config={"apiGatewayAccountSettings": True, "autoConfirmSignUps": True},
        declared=RICH,
    )


def test_parliament_rejects_log_writes_granted_on_the_bare_log_group():
    """The rule the log grant follows: CreateLogStream is authorised on the log-stream ARN, so a grant on the
    group's own ARN denies every CreateLogStream (and the function never writes a log line on AWS)."""
    group = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/{PREFIX}tenants"
    bare = {"Effect": "Allow", "Action": ["logs:CreateLogStream"], "Resource": [group]}
    [mismatch] = failing(findings(Policy("identity", "bare", policy_document([bare]))))
    assert mismatch.issue == "RESOURCE_MISMATCH"
    assert not failing(findings(Policy("identity", "ours", policy_document(log_statements(group)))))
