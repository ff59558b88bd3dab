"""AWS's naming rules, one row per rule: a name AWS would refuse fails at preview, saying which rule it breaks."""

from __future__ import annotations

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


# (stack prefix, catalog bucket name, the bucket_prefix given to the provider)
BUCKET_PREFIXES = [
    ("serverless-platform-dev-", "uploads", "serverless-platform-dev-uploads-"),
    # S3 allows no '_' (InvalidBucketName): catalog names are snake_case.
    ("sp-dev-", "sla_errors", "sp-dev-sla-errors-"),
    # Nor uppercase; and '.' breaks TLS for virtual-hosted-style requests.
    ("sp-My.Stack-", "avatars", "sp-my-stack-avatars-"),
]


@pytest.mark.parametrize(("stack_prefix", "bucket", "expected"), BUCKET_PREFIXES)
def test_bucket_prefixes_are_made_valid_for_s3(stack_prefix: str, bucket: str, expected: str):
    prefix = names.bucket_prefix(stack_prefix, bucket)
    assert prefix == expected
    # The provider appends a 26-digit suffix: the whole name is valid too.
    assert names.bucket_name(prefix + "0" * names.BUCKET_SUFFIX_LENGTH)


@pytest.mark.parametrize(
    ("stack_prefix", "message"),
    [
        ("serverless-platform-a-very-long-stack-", "longer than 37 characters"),  # 63 minus the 26-char suffix
        ("sp-dév-", "contains 'é'"),
        ("-sp-", "begin and end with a letter or a digit"),
        ("xn--sp-", "prefix S3 reserves"),
    ],
)
def test_bucket_prefixes_s3_would_refuse_fail_clearly(stack_prefix: str, message: str):
    with pytest.raises(InvalidName, match=message):
        names.bucket_prefix(stack_prefix, "uploads")


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
