"""Lambda functions: each with its own log group, and its own role granting only what the catalog declares."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from infra import artifacts, names
from infra.settings import StackSettings
from lambdas.catalog import Function

LAMBDA_ASSUME_ROLE_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)

# S3 actions on objects take an object ARN (`<bucketArn>/<key>`); every other S3 action takes the bucket's ARN.
# `Bucket` excluded: s3:GetBucketObjectLockConfiguration is a bucket action although it names objects.
_S3_OBJECT_LEVEL = re.compile(r"^s3:(?!\w*Bucket)(\w*Object\w*|AbortMultipartUpload|ListMultipartUploadParts)$")
_DYNAMODB_INDEX_READS = frozenset({"dynamodb:Query", "dynamodb:Scan"})


def _sid(*parts: str) -> str:
    return "".join(re.sub(r"[^A-Za-z0-9]", " ", part).title().replace(" ", "") for part in parts)


def access_statements(
    function: Function,
    table_arns: Mapping[str, str],
    bucket_arns: Mapping[str, str],
    user_pool_arn: str | None,
) -> list[dict[str, Any]]:
    """The statements granting exactly the catalog's actions of a function, each on exactly its resources."""
    statements: list[dict[str, Any]] = []
    for access in function.tables:
        arn = table_arns[access.table.name]
        resources = [arn]
        # Query/Scan on an index is authorised on the index's own ARN; name each index rather than `/index/*`.
        if access.table.indexes and _DYNAMODB_INDEX_READS.intersection(access.actions):
            resources += [f"{arn}/index/{index.name}" for index in access.table.indexes]
        statements.append(
            {
                "Sid": _sid("table", access.table.name),
                "Effect": "Allow",
                "Action": sorted(access.actions),
                "Resource": resources,
            }
        )
    for access in function.buckets:
        arn = bucket_arns[access.bucket.name]
        object_actions = sorted(a for a in access.actions if _S3_OBJECT_LEVEL.match(a))
        bucket_actions = sorted(a for a in access.actions if not _S3_OBJECT_LEVEL.match(a))
        if object_actions:
            statements.append(
                {
                    "Sid": _sid("objects", access.bucket.name),
                    "Effect": "Allow",
                    "Action": object_actions,
                    "Resource": access.object_resources(arn),
                }
            )
        if bucket_actions:
            statements.append(
                {
                    "Sid": _sid("bucket", access.bucket.name),
                    "Effect": "Allow",
                    "Action": bucket_actions,
                    "Resource": [arn],
                }
            )
    if function.user_pool_actions:
        if user_pool_arn is None:
            raise ValueError(
                f"{function.name} is a user pool trigger: it cannot be granted actions on the pool that invokes it "
                "(the pool's ARN exists only after the trigger does)"
            )
        statements.append(
            {
                "Sid": "UserPool",
                "Effect": "Allow",
                "Action": sorted(function.user_pool_actions),
                "Resource": [user_pool_arn],
            }
        )
    return statements


def log_statements(log_group_arn: str) -> list[dict[str, Any]]:
    """Writing to its own log group only. IAM authorises both CreateLogStream and PutLogEvents on the *log stream*
    (`<logGroupArn>:log-stream:<name>`, Service Authorization Reference, CloudWatch Logs), and Lambda names a
    stream per container: so both are granted on `<logGroupArn>:*`, the form AWS's Lambda guide gives (with
    `<bucketArn>/*`, the only wildcards in any role). On the bare group ARN every CreateLogStream is denied."""
    arn = log_group_arn.removesuffix(":*")
    return [
        {
            "Sid": "WriteOwnLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [f"{arn}:*"],
        }
    ]


def policy_document(statements: list[dict[str, Any]]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, indent=1)


def function_name_for(settings: StackSettings, short_name: str) -> str:
    """The function's physical name, which its role shares: valid for both (shortened with a hash past their 64
    characters), or a clear error at preview."""
    return names.IAM_ROLE.check(names.LAMBDA_FUNCTION.fit(f"{settings.prefix}{short_name}"))


class LambdaFunction(pulumi.ComponentResource):
    """One Lambda function with its log group (retention from the stack) and its own role. No managed policy:
    AWSLambdaBasicExecutionRole grants logs on `*`."""

    def __init__(
        self,
        name: str,
        *,
        short_name: str,
        handler: str,
        description: str,
        grants: pulumi.Input[list[dict[str, Any]]],
        environment: Mapping[str, pulumi.Input[str]],
        settings: StackSettings,
        reserved_concurrency: int | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("serverless-platform:compute:Function", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        function_name = function_name_for(settings, short_name)
        artifact = artifacts.find(Path(settings.artifact_dir), settings.lambda_architecture, short_name)

        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=f"/aws/lambda/{function_name}",
            retention_in_days=settings.log_retention_days,
            tags=settings.tags or None,
            opts=child,
        )
        self.role = aws.iam.Role(
            f"{name}-role",
            name=function_name,
            assume_role_policy=LAMBDA_ASSUME_ROLE_POLICY,
            tags=settings.tags or None,
            opts=child,
        )
        statements = pulumi.Output.all(grants, self.log_group.arn).apply(
            lambda args: [*args[0], *log_statements(args[1])]
        )
        self.policy = aws.iam.RolePolicy(
            f"{name}-policy",
            role=self.role.id,
            name="access",
            policy=statements.apply(policy_document),
            opts=child,
        )
        self.function = aws.lambda_.Function(
            f"{name}-function",
            name=function_name,
            description=description,
            role=self.role.arn,
            handler=handler,
            runtime=settings.lambda_runtime,
            architectures=[settings.lambda_architecture],
            memory_size=settings.lambda_memory_mb,
            timeout=settings.lambda_timeout_seconds,
            # None leaves the provider's default (-1: no reservation, the account's unreserved pool).
            reserved_concurrent_executions=reserved_concurrency,
            code=pulumi.FileArchive(str(artifact.path)),
            source_code_hash=artifact.sha256,
            environment=aws.lambda_.FunctionEnvironmentArgs(variables=dict(environment)),
            tags=settings.tags or None,
            # The log group first, so Lambda never creates it without a retention; the policy first, so the
            # first invocation can already write its logs.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.log_group, self.policy]),
        )
        self.register_outputs({"name": self.function.name, "arn": self.function.arn, "roleArn": self.role.arn})


def powertools_environment(service: str, settings: StackSettings) -> dict[str, str]:
    return {"POWERTOOLS_SERVICE_NAME": service, "POWERTOOLS_LOG_LEVEL": settings.log_level}


class Functions(pulumi.ComponentResource):
    """One `LambdaFunction` per given catalog Function. `user_pool_arn` is None for the pool's own triggers."""

    def __init__(
        self,
        name: str,
        functions: tuple[Function, ...],
        *,
        shared_environment: Mapping[str, pulumi.Input[str]],
        table_arns: Mapping[str, pulumi.Output[str]],
        bucket_arns: Mapping[str, pulumi.Output[str]],
        user_pool_arn: pulumi.Output[str] | None,
        settings: StackSettings,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("serverless-platform:compute:Functions", name, None, opts)
        self.functions: dict[str, LambdaFunction] = {}
        for function in functions:
            grants = pulumi.Output.all(dict(table_arns), dict(bucket_arns), user_pool_arn).apply(
                lambda args, f=function: access_statements(f, args[0], args[1], args[2])
            )
            self.functions[function.name] = LambdaFunction(
                f"{name}-{function.name}",
                short_name=function.name,
                handler=function.handler,
                description=function.description,
                grants=grants,
                environment={**shared_environment, **powertools_environment(function.name, settings)},
                settings=settings,
                reserved_concurrency=function.reserved_concurrency,
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.register_outputs({key: fn.function.arn for key, fn in self.functions.items()})
