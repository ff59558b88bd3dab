"""GitHub Actions' way into the account: the GitHub OIDC provider, a preview role for pull requests and a deploy role
for the stacks' environments. No long-lived key exists; each role trusts one repository's tokens and nothing else.

The deploy role may change only what the serverless-platform program declares, named as it names things: each
service the program uses, on the physical names of the stacks it deploys (`StackSettings.prefix`). Cognito user
pools and API Gateway APIs get ids, not names, from AWS: those two are granted on every pool and API of the region.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from infra import names
from infra.settings import PROJECT, StackSettings
from lambdas import catalog

BOOTSTRAP_PROJECT = f"{PROJECT}-bootstrap"
GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
AUDIENCE = "sts.amazonaws.com"
PREVIEW_ROLE = f"{PROJECT}-github-preview"
DEPLOY_ROLE = f"{PROJECT}-github-deploy"
# The managed policy API Gateway's account-wide logging role needs (infra/api.py, apiGatewayAccountSettings): the
# only one the deploy role may attach.
API_GATEWAY_LOGGING_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
# What the program does to a function's role (infra/functions.py) and nothing else: no policy attachments, no users.
ROLE_ACTIONS = (
    "iam:CreateRole",
    "iam:DeleteRole",
    "iam:DeleteRolePolicy",
    "iam:GetRole",
    "iam:GetRolePolicy",
    "iam:ListAttachedRolePolicies",
    "iam:ListInstanceProfilesForRole",
    "iam:ListRolePolicies",
    "iam:PutRolePolicy",
    "iam:TagRole",
    "iam:UntagRole",
    "iam:UpdateAssumeRolePolicy",
    "iam:UpdateRole",
)


@dataclass(frozen=True)
class BootstrapSettings:
    repository: str  # owner/name
    stacks: tuple[str, ...]
    state_bucket: str | None = None

    def __post_init__(self) -> None:
        owner, _, name = self.repository.partition("/")
        if not owner or not name or "/" in name:
            raise ValueError(f"githubRepository must be owner/name, not {self.repository!r}")
        if not self.stacks:
            raise ValueError("stacks must name at least one serverless-platform stack")

    @classmethod
    def from_pulumi(cls, config: pulumi.Config) -> BootstrapSettings:
        return cls(
            repository=config.require("githubRepository"),
            stacks=tuple(config.require_object("stacks")),
            state_bucket=config.get("stateBucket") or None,
        )


def trust_policy(provider_arn: str, subjects: list[str]) -> str:
    """Only tokens GitHub issued for this repository (and event or environment) and for STS may assume the role."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": provider_arn},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {
                        "StringEquals": {f"{GITHUB_OIDC_HOST}:aud": AUDIENCE, f"{GITHUB_OIDC_HOST}:sub": subjects}
                    },
                }
            ],
        }
    )


def state_statements(bucket: str | None) -> list[dict[str, Any]]:
    """Pulumi's DIY backend in S3: read and write the state; nothing else of the bucket."""
    if bucket is None:
        return []
    return [
        {"Sid": "StateBucket", "Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": [f"arn:aws:s3:::{bucket}"]},
        {
            "Sid": "StateObjects",
            "Effect": "Allow",
            "Action": ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"],
            "Resource": [f"arn:aws:s3:::{bucket}/*"],
        },
    ]


# What the provider calls to create, read, update and delete each kind of resource the program declares: named, not
# `service:*`, so that nothing else of a service (reading a table's items, a bucket's objects, a pool's users, a
# function's code from elsewhere) comes with it.
TABLE_ACTIONS = (
    "dynamodb:CreateTable",
    "dynamodb:DeleteTable",
    "dynamodb:DescribeContinuousBackups",
    "dynamodb:DescribeTable",
    "dynamodb:DescribeTimeToLive",
    "dynamodb:ListTagsOfResource",
    "dynamodb:TagResource",
    "dynamodb:UntagResource",
    "dynamodb:UpdateContinuousBackups",
    "dynamodb:UpdateTable",
    "dynamodb:UpdateTimeToLive",
)
BUCKET_ACTIONS = (
    "s3:CreateBucket",
    "s3:DeleteBucket",
    "s3:DeleteBucketPolicy",
    "s3:GetAccelerateConfiguration",
    "s3:GetBucketAcl",
    "s3:GetBucketCORS",
    "s3:GetBucketLocation",
    "s3:GetBucketLogging",
    "s3:GetBucketObjectLockConfiguration",
    "s3:GetBucketOwnershipControls",
    "s3:GetBucketPolicy",
    "s3:GetBucketPublicAccessBlock",
    "s3:GetBucketRequestPayment",
    "s3:GetBucketTagging",
    "s3:GetBucketVersioning",
    "s3:GetBucketWebsite",
    "s3:GetEncryptionConfiguration",
    "s3:GetLifecycleConfiguration",
    "s3:GetReplicationConfiguration",
    "s3:ListBucket",
    "s3:PutBucketCORS",
    "s3:PutBucketOwnershipControls",
    "s3:PutBucketPolicy",
    "s3:PutBucketPublicAccessBlock",
    "s3:PutBucketTagging",
    "s3:PutBucketVersioning",
    "s3:PutEncryptionConfiguration",
    "s3:PutLifecycleConfiguration",
)
FUNCTION_ACTIONS = (
    "lambda:AddPermission",
    "lambda:CreateFunction",
    "lambda:DeleteFunction",
    "lambda:GetFunction",
    "lambda:GetFunctionCodeSigningConfig",
    "lambda:GetPolicy",
    "lambda:ListTags",
    "lambda:ListVersionsByFunction",
    "lambda:RemovePermission",
    "lambda:TagResource",
    "lambda:UntagResource",
    "lambda:UpdateFunctionCode",
    "lambda:UpdateFunctionConfiguration",
)
LOG_GROUP_ACTIONS = (
    "logs:CreateLogGroup",
    "logs:DeleteLogGroup",
    "logs:DeleteRetentionPolicy",
    "logs:ListTagsForResource",
    "logs:PutRetentionPolicy",
    "logs:TagResource",
    "logs:UntagResource",
)
ALARM_ACTIONS = (
    "cloudwatch:DeleteAlarms",
    "cloudwatch:DescribeAlarms",
    "cloudwatch:ListTagsForResource",
    "cloudwatch:PutMetricAlarm",
    "cloudwatch:TagResource",
    "cloudwatch:UntagResource",
)
DASHBOARD_ACTIONS = ("cloudwatch:DeleteDashboards", "cloudwatch:GetDashboard", "cloudwatch:PutDashboard")
TOPIC_ACTIONS = (
    "sns:CreateTopic",
    "sns:DeleteTopic",
    "sns:GetSubscriptionAttributes",
    "sns:GetTopicAttributes",
    "sns:ListTagsForResource",
    "sns:SetTopicAttributes",
    "sns:Subscribe",
    "sns:TagResource",
    "sns:Unsubscribe",
    "sns:UntagResource",
)
USER_POOL_ACTIONS = (
    "cognito-idp:CreateGroup",
    "cognito-idp:CreateUserPoolClient",
    "cognito-idp:DeleteGroup",
    "cognito-idp:DeleteUserPool",
    "cognito-idp:DeleteUserPoolClient",
    "cognito-idp:DescribeUserPool",
    "cognito-idp:DescribeUserPoolClient",
    "cognito-idp:GetGroup",
    "cognito-idp:GetUserPoolMfaConfig",
    "cognito-idp:ListTagsForResource",
    "cognito-idp:SetUserPoolMfaConfig",
    "cognito-idp:TagResource",
    "cognito-idp:UntagResource",
    "cognito-idp:UpdateGroup",
    "cognito-idp:UpdateUserPool",
    "cognito-idp:UpdateUserPoolClient",
)
# API Gateway's IAM actions are its HTTP verbs, on the API's path.
API_ACTIONS = ("apigateway:DELETE", "apigateway:GET", "apigateway:PATCH", "apigateway:POST", "apigateway:PUT")


def deploy_statements(prefixes: list[str], buckets: list[str], region: str, account: str) -> list[dict[str, Any]]:
    """Each kind of resource the program declares, on its stacks' names only (`<prefix>*`); `buckets` are the
    buckets' name prefixes."""

    def on(template: str) -> list[str]:
        return [template.format(prefix=prefix, region=region, account=account) for prefix in prefixes]

    def allow(sid: str, actions: tuple[str, ...], resources: list[str], **extra: Any) -> dict[str, Any]:
        return {"Sid": sid, "Effect": "Allow", "Action": list(actions), "Resource": resources, **extra}

    return [
        allow("Tables", TABLE_ACTIONS, on("arn:aws:dynamodb:{region}:{account}:table/{prefix}*")),
        allow("Buckets", BUCKET_ACTIONS, [f"arn:aws:s3:::{bucket}*" for bucket in buckets]),
        allow("Functions", FUNCTION_ACTIONS, on("arn:aws:lambda:{region}:{account}:function:{prefix}*")),
        allow(
            "LogGroups",
            LOG_GROUP_ACTIONS,
            [
                *on("arn:aws:logs:{region}:{account}:log-group:/aws/lambda/{prefix}*"),
                *on("arn:aws:logs:{region}:{account}:log-group:/aws/apigateway/{prefix}*"),
            ],
        ),
        # The provider reads a log group by listing the groups that start with its name: DescribeLogGroups has no
        # resource type, "*" is its only form (it returns names and settings, no log events).
        allow("FindLogGroups", ("logs:DescribeLogGroups",), ["*"]),
        allow("FunctionRoles", ROLE_ACTIONS, on("arn:aws:iam::{account}:role/{prefix}*")),
        allow(
            "PassFunctionRoles",
            ("iam:PassRole",),
            on("arn:aws:iam::{account}:role/{prefix}*"),
            Condition={"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}},
        ),
        allow("Alarms", ALARM_ACTIONS, on("arn:aws:cloudwatch:{region}:{account}:alarm:{prefix}*")),
        allow("Dashboards", DASHBOARD_ACTIONS, on("arn:aws:cloudwatch::{account}:dashboard/{prefix}*")),
        allow("AlarmTopics", TOPIC_ACTIONS, on("arn:aws:sns:{region}:{account}:{prefix}*")),
        # CreateUserPool has no resource type (Service Authorization Reference): "*" is its only form.
        allow("CreateUserPools", ("cognito-idp:CreateUserPool",), ["*"]),
        allow("UserPools", USER_POOL_ACTIONS, [f"arn:aws:cognito-idp:{region}:{account}:userpool/*"]),
        allow(
            "Apis",
            API_ACTIONS,
            [
                f"arn:aws:apigateway:{region}::/restapis",
                f"arn:aws:apigateway:{region}::/restapis/*",
                f"arn:aws:apigateway:{region}::/tags/*",
            ],
        ),
    ]


def policy_document(statements: list[dict[str, Any]]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, indent=1)


class GitHubDeployAccess(pulumi.ComponentResource):
    def __init__(self, name: str, settings: BootstrapSettings, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("serverless-platform:bootstrap:GitHubDeployAccess", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.provider = aws.iam.OpenIdConnectProvider(
            f"{name}-github", url=f"https://{GITHUB_OIDC_HOST}", client_id_lists=[AUDIENCE], opts=child
        )
        repository = f"repo:{settings.repository}"
        self.preview_role = aws.iam.Role(
            f"{name}-preview",
            name=PREVIEW_ROLE,
            description="pulumi preview of a pull request: Pulumi's state only (a preview calls no AWS API to change).",
            assume_role_policy=self.provider.arn.apply(lambda arn: trust_policy(arn, [f"{repository}:pull_request"])),
            max_session_duration=3600,
            opts=child,
        )
        if settings.state_bucket:
            aws.iam.RolePolicy(
                f"{name}-preview-state",
                role=self.preview_role.id,
                name="state",
                policy=policy_document(state_statements(settings.state_bucket)),
                opts=child,
            )
        environments = [f"{repository}:environment:{stack}" for stack in settings.stacks]
        self.deploy_role = aws.iam.Role(
            f"{name}-deploy",
            name=DEPLOY_ROLE,
            description="pulumi up of the serverless-platform stacks, from their GitHub environments only.",
            assume_role_policy=self.provider.arn.apply(lambda arn: trust_policy(arn, environments)),
            max_session_duration=3600,
            opts=child,
        )
        prefixes = [StackSettings(project=PROJECT, stack=stack, stage_name=stack).prefix for stack in settings.stacks]
        buckets = [
            names.bucket_prefix(PROJECT, stack, bucket.name) for stack in settings.stacks for bucket in catalog.BUCKETS
        ]
        region = aws.get_region_output().region
        account = aws.get_caller_identity_output().account_id
        aws.iam.RolePolicy(
            f"{name}-deploy-access",
            role=self.deploy_role.id,
            name="deploy",
            policy=pulumi.Output.all(region, account).apply(
                lambda args: policy_document(
                    [*deploy_statements(prefixes, buckets, args[0], args[1]), *state_statements(settings.state_bucket)]
                )
            ),
            opts=child,
        )
        self.register_outputs({"previewRoleArn": self.preview_role.arn, "deployRoleArn": self.deploy_role.arn})


def main() -> GitHubDeployAccess:
    access = GitHubDeployAccess("github", BootstrapSettings.from_pulumi(pulumi.Config(BOOTSTRAP_PROJECT)))
    # The repository's variables AWS_PREVIEW_ROLE_ARN and AWS_DEPLOY_ROLE_ARN (docs/operating.md, "The pipeline").
    pulumi.export("previewRoleArn", access.preview_role.arn)
    pulumi.export("deployRoleArn", access.deploy_role.arn)
    return access
