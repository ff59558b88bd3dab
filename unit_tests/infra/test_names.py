"""AWS's naming rules, one row per rule: a name AWS would refuse fails at preview, saying which rule it breaks."""

from __future__ import annotations

import re
from dataclasses import replace

import pulumi
import pytest

from infra import names
from infra.names import InvalidName, NameRule
from unit_tests.infra.conftest import Deployed
from unit_tests.infra.declarations import RICH

# (rule, a name AWS accepts, a name AWS refuses, what the message names)
CHARACTER_RULES = [
    # Lambda CreateFunction FunctionName: [a-zA-Z0-9-_]+ (no '.', which a Pulumi stack name may hold).
    (names.LAMBDA_FUNCTION, "serverless-platform-prod_2-tenants", "serverless-platform-my.stack-tenants", "'.'"),
    (names.LAMBDA_FUNCTION, "a", "serverless-platform-prod-sla errors", "' '"),
    # IAM CreateRole RoleName: [\w+=,.@-]+ ('.' is fine, '/' is not).
    (names.IAM_ROLE, "serverless-platform-my.stack-tenants", "serverless/platform", "'/'"),
    # API Gateway CreateStage stageName: letters, digits, '-' and '_'.
    (names.STAGE, "v1_prod-2", "v1.0", "'.'"),
    # DynamoDB CreateTable TableName: [a-zA-Z0-9_.-]+, at least 3 characters.
    (names.DYNAMODB_TABLE, "serverless-platform-my.stack-sla_errors", "serverless-platform-dev-tenants!", "'!'"),
    # CloudWatch Logs CreateLogGroup logGroupName: [\.\-_/#A-Za-z0-9]+.
    (names.LOG_GROUP, "/aws/apigateway/serverless-platform-my.stack-api/access", "/aws/lambda/a:b", "':'"),
    # Cognito CreateUserPool PoolName: [\w\s+=,.@-]+.
    (names.USER_POOL, "serverless-platform-my.stack-users", "serverless-platform-dev-users/1", "'/'"),
]


@pytest.mark.parametrize(("rule", "accepted", "refused", "named"), CHARACTER_RULES)
def test_each_rule_refuses_the_characters_aws_refuses(rule: NameRule, accepted: str, refused: str, named: str):
    assert rule.check(accepted) == accepted
    with pytest.raises(InvalidName, match=rf"{rule.what.split(' (')[0]} .* contains {named}; AWS allows only"):
        rule.check(refused)


@pytest.mark.parametrize(
    ("rule", "longest"),
    [(names.LAMBDA_FUNCTION, 64), (names.IAM_ROLE, 64), (names.STAGE, 128), (names.DYNAMODB_TABLE, 255)],
)
def test_each_rule_refuses_names_longer_than_aws_allows(rule: NameRule, longest: int):
    assert rule.check("a" * longest)
    with pytest.raises(InvalidName, match="use a shorter stack name"):
        rule.check("a" * (longest + 1))


def test_dynamodb_table_names_have_at_least_three_characters():
    with pytest.raises(InvalidName, match="3 to 255"):
        names.DYNAMODB_TABLE.check("ab")


# (project, stack, catalog bucket name, the bucket_prefix given to the provider)
BUCKET_PREFIXES = [
    ("serverless-platform", "dev", "uploads", "serverless-platform-dev-uploads-"),
    # S3 allows no '_' (InvalidBucketName): catalog names are snake_case.
    ("sp", "dev", "sla_errors", "sp-dev-sla-errors-"),
    # Nor uppercase; and '.' breaks TLS for virtual-hosted-style requests.
    ("sp", "My.Stack", "avatars", "sp-my-stack-avatars-"),
    # 37 characters: the longest prefix kept whole.
    ("serverless-platform", "prod-eu1", "avatars", "serverless-platform-prod-eu1-avatars-"),
]


@pytest.mark.parametrize(("project", "stack", "bucket", "expected"), BUCKET_PREFIXES)
def test_bucket_prefixes_are_made_valid_for_s3(project: str, stack: str, bucket: str, expected: str):
    prefix = names.bucket_prefix(project, stack, bucket)
    assert prefix == expected
    # The provider appends a 26-digit suffix: the whole name is valid too.
    assert names.bucket_name(prefix + "0" * names.BUCKET_SUFFIX_LENGTH)


# (stack, the start of its avatars bucket prefix): longer than 37 characters as `<project>-<stack>-avatars-`, the
# prefix drops the project and ends with a hash of the full form.
SHORTENED = [
    ("production", "production-avatars-"),
    ("prod-eu-west-1-blue", "prod-eu-west-1-blue-avatars-"),
    ("prod-eu-west-1-blue-green-2026", "prod-eu-west-1-blue-avatars-"),
    ("Prod.EU_West", "prod-eu-west-avatars-"),
]


@pytest.mark.parametrize(("stack", "start"), SHORTENED)
def test_a_prefix_too_long_for_s3_keeps_the_stack_and_bucket_and_a_hash_of_the_rest(stack: str, start: str):
    prefix = names.bucket_prefix("serverless-platform", stack, "avatars")
    assert re.fullmatch(re.escape(start) + "[0-9a-f]{8}-", prefix), prefix
    assert len(prefix) <= names.MAX_BUCKET_PREFIX
    assert names.bucket_name(prefix + "0" * names.BUCKET_SUFFIX_LENGTH)
    assert names.bucket_prefix("serverless-platform", stack, "avatars") == prefix, "the same every run"
    assert names.bucket_prefix("another-project", stack, "avatars") != prefix, "projects stay apart"


def test_two_long_stacks_that_share_their_start_get_two_prefixes():
    first = names.bucket_prefix("serverless-platform", "prod-eu-west-1-blue-green-2026", "avatars")
    second = names.bucket_prefix("serverless-platform", "prod-eu-west-1-blue-green-2027", "avatars")
    assert first != second


def test_a_name_too_long_for_its_rule_is_fitted_with_a_hash():
    long_name = "serverless-platform-prod-eu-west-1-blue-green-2026-points_ledger_exports"
    fitted = names.LAMBDA_FUNCTION.fit(long_name)
    assert len(fitted) == 64
    assert re.fullmatch(re.escape(long_name[:55]) + "-[0-9a-f]{8}", fitted)
    assert names.LAMBDA_FUNCTION.fit(long_name) == fitted
    assert names.LAMBDA_FUNCTION.fit(long_name + "2") != fitted
    assert names.LAMBDA_FUNCTION.fit("short") == "short"


@pytest.mark.parametrize(
    ("project", "stack", "message"),
    [
        ("sp", "dév", "contains 'é'"),
        ("", "x", "begin and end with a letter or a digit"),
        ("xn", "-sp", "prefix S3 reserves"),
    ],
)
def test_bucket_prefixes_s3_would_refuse_fail_clearly(project: str, stack: str, message: str):
    with pytest.raises(InvalidName, match=message):
        names.bucket_prefix(project, stack, "uploads")


# S3 "Bucket naming rules" (S3 User Guide), one row each.
@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("ab", "3 to 63"),
        ("a" * 64, "3 to 63"),
        ("Uploads", "contains 'U'"),
        ("up_loads", "contains '_'"),
        ("uploads-", "begin and end"),
        ("up..loads", "two adjacent periods"),
        ("192.168.5.4", "IP address"),
        ("sthree-uploads", "reserves"),
    ],
)
def test_bucket_names_s3_refuses(name: str, message: str):
    with pytest.raises(InvalidName, match=message):
        names.bucket_name(name)


@pulumi.runtime.test
def test_a_stack_name_with_a_dot_fails_at_preview_naming_the_lambda_rule(deploy):
    # Pulumi stack names may contain '.', Lambda function names may not.
    with pytest.raises(InvalidName, match=r"Lambda function name 'serverless-platform-my\.stack-.*' contains '\.'"):
        deploy(lambda _: None, config={"stageName": "v1"}, stack="my.stack")
    return pulumi.Output.from_input(None)


@pulumi.runtime.test
def test_a_stage_name_api_gateway_refuses_fails_at_preview(deploy):
    with pytest.raises(InvalidName, match=r"stage name \(stageName\) 'v1\.0' contains '\.'"):
        deploy(lambda _: None, config={"stageName": "v1.0"}, declared=RICH)
    return pulumi.Output.from_input(None)


@pulumi.runtime.test
def test_a_snake_case_bucket_is_deployed_with_an_s3_valid_prefix(deploy):
    declared = replace(RICH, buckets=(replace(RICH.buckets[0], name="sla_errors"),))
    declared = replace(
        declared,
        functions=tuple(
            replace(f, buckets=tuple(replace(a, bucket=declared.buckets[0]) for a in f.buckets)) for f in RICH.functions
        ),
    )

    def check(deployed: Deployed) -> None:
        bucket = deployed.one("aws:s3/bucket:Bucket")
        assert bucket.inputs["bucketPrefix"] == "serverless-platform-unit-sla-errors-"

    return deploy(check, declared=declared)


# Stack names users give, up to 30 characters: every physical name the program makes must be valid for its service.
STACK_NAMES = ["production", "staging", "prod-eu-west-1", "prod-eu-west-1-blue-green-2026", "a" * 30]


def check_every_physical_name_is_valid(deployed: Deployed) -> None:
    for bucket in deployed.of_type("aws:s3/bucket:Bucket"):
        assert len(bucket.inputs["bucketPrefix"]) <= names.MAX_BUCKET_PREFIX
        assert names.bucket_name(bucket.inputs["bucketPrefix"] + "0" * names.BUCKET_SUFFIX_LENGTH)
    functions = deployed.of_type("aws:lambda/function:Function")
    assert functions
    for function in functions:
        names.LAMBDA_FUNCTION.check(function.inputs["name"])
        names.IAM_ROLE.check(function.inputs["name"])
    for role in deployed.of_type("aws:iam/role:Role"):
        if "name" in role.inputs:
            names.IAM_ROLE.check(role.inputs["name"])
    for table in deployed.of_type("aws:dynamodb/table:Table"):
        names.DYNAMODB_TABLE.check(table.inputs["name"])
    for group in deployed.of_type("aws:cloudwatch/logGroup:LogGroup"):
        names.LOG_GROUP.check(group.inputs["name"])
    names.USER_POOL.check(deployed.one("aws:cognito/userPool:UserPool").inputs["name"])
    names.STAGE.check(deployed.one("aws:apigateway/stage:Stage").inputs["stageName"])


@pytest.mark.parametrize("stack", STACK_NAMES)
@pulumi.runtime.test
def test_stacks_named_as_users_name_them_deploy_with_valid_names(deploy, stack: str):
    assert len(stack) <= 30
    return deploy(check_every_physical_name_is_valid, stack=stack)
