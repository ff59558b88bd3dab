"""The bootstrap program (infra/bootstrap/): GitHub's OIDC provider, a preview role for pull requests, a deploy role
for the stacks' environments only, scoped to the names the serverless-platform program gives its resources."""

from __future__ import annotations

import json
import runpy
from pathlib import Path
from typing import Any

import pulumi
import pytest

from infra import names
from infra.bootstrap.program import (
    BOOTSTRAP_PROJECT,
    DEPLOY_ROLE,
    PREVIEW_ROLE,
    ROLE_ACTIONS,
    BootstrapSettings,
    main,
)
from lambdas import catalog
from unit_tests.infra.conftest import ACCOUNT, REGION, Deployed
from unit_tests.infra.iam_audit import Policy, failing, findings, generated_policies

ROOT = Path(__file__).resolve().parents[2]
REPOSITORY = "example-org/serverless-platform"
CONFIG = {
    f"{BOOTSTRAP_PROJECT}:githubRepository": REPOSITORY,
    f"{BOOTSTRAP_PROJECT}:stacks": ["staging", "production"],
    f"{BOOTSTRAP_PROJECT}:stateBucket": "example-state",
}
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ISSUER = "token.actions.githubusercontent.com"

# What parliament reports of the bootstrap roles that is not a defect: what a role that deploys IAM roles, Lambda
# functions and bucket policies is, by definition. Each with its reason; one nothing reports any more is removed.
BOOTSTRAP_ALLOWED = {
    "MALFORMED": "A trust policy has no Resource: the role is the resource (see iam_audit.ALLOWED).",
    "PERMISSIONS_MANAGEMENT_ACTIONS": "The program declares function roles, their inline policies, Lambda "
    "permissions, bucket and topic policies: deploying it is managing those permissions, on the stacks' names only.",
    "PRIVILEGE_ESCALATION": "CreateFunction with PassRole runs code as a function role; the roles it can pass are "
    "the stacks' own (docs/operating.md: a permissions boundary would bound what those roles may be given).",
    "RESOURCE_POLICY_PRIVILEGE_ESCALATION": "PutBucketPolicy on the stacks' buckets: the program declares their "
    "policies (TLS only); the role holds no object action.",
    "CREDENTIALS_EXPOSURE": "DescribeUserPoolClient returns an app client's secret: the provider reads the client "
    "to refresh it. The program's client has no secret (a public client).",
    "UNKNOWN_FEDERATION_SOURCE": "parliament knows Cognito's and a few SAML sources, not GitHub's OIDC provider "
    "(token.actions.githubusercontent.com), which AWS's own guide for GitHub Actions uses.",
    "RESOURCE_MISMATCH": "sns:GetSubscriptionAttributes and sns:Unsubscribe on the alarm topic's subscriptions, "
    "whose ARNs (<topic ARN>:<id>) the topic's `<prefix>*` pattern covers; parliament's data asks for \"*\".",
}


def statements(document: str) -> list[dict[str, Any]]:
    return json.loads(document)["Statement"]


def role(deployed: Deployed, name: str) -> Any:
    return deployed.one(ROLE, name=name)


def policy_of(deployed: Deployed, role_name: str) -> list[dict[str, Any]]:
    found = [p for p in deployed.of_type(ROLE_POLICY) if p.inputs["role"] == role(deployed, role_name).state["__id"]]
    return [statement for policy in found for statement in statements(policy.inputs["policy"])]


@pulumi.runtime.test
def test_the_provider_is_githubs_issuer_for_sts(deploy):
    def check(deployed: Deployed) -> None:
        [provider] = deployed.of_type("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
        assert provider.inputs["url"] == f"https://{ISSUER}"
        assert provider.inputs["clientIdLists"] == ["sts.amazonaws.com"]
        assert set(deployed.outputs) == {"previewRoleArn", "deployRoleArn"}

    return deploy(check, config=CONFIG, program=main)


@pulumi.runtime.test
def test_each_role_trusts_only_this_repositorys_tokens_for_sts(deploy):
    def check(deployed: Deployed) -> None:
        provider = deployed.one("aws:iam/openIdConnectProvider:OpenIdConnectProvider").state["arn"]
        subjects = {
            PREVIEW_ROLE: [f"repo:{REPOSITORY}:pull_request"],
            DEPLOY_ROLE: [f"repo:{REPOSITORY}:environment:staging", f"repo:{REPOSITORY}:environment:production"],
        }
        for name, expected in subjects.items():
            [statement] = statements(role(deployed, name).inputs["assumeRolePolicy"])
            assert statement["Principal"] == {"Federated": provider}
            assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
            # StringEquals, never StringLike: no wildcard lets another branch, event or repository in.
            assert statement["Condition"] == {
                "StringEquals": {f"{ISSUER}:aud": "sts.amazonaws.com", f"{ISSUER}:sub": expected}
            }

    return deploy(check, config=CONFIG, program=main)


@pulumi.runtime.test
def test_the_preview_role_reads_and_locks_the_state_and_nothing_else(deploy):
    def check(deployed: Deployed) -> None:
        granted = policy_of(deployed, PREVIEW_ROLE)
        assert {action for s in granted for action in s["Action"]} == {
            "s3:ListBucket",
            "s3:GetObject",
            "s3:PutObject",
            "s3:DeleteObject",
        }
        assert {r for s in granted for r in s["Resource"]} == {
            "arn:aws:s3:::example-state",
            "arn:aws:s3:::example-state/*",
        }

    return deploy(check, config=CONFIG, program=main)


@pulumi.runtime.test
def test_with_pulumi_cloud_the_preview_role_has_no_policy(deploy):
    def check(deployed: Deployed) -> None:
        assert policy_of(deployed, PREVIEW_ROLE) == []
        assert not any("example-state" in json.dumps(s) for s in policy_of(deployed, DEPLOY_ROLE))

    config = {key: value for key, value in CONFIG.items() if not key.endswith("stateBucket")}
    return deploy(check, config=config, program=main)


@pulumi.runtime.test
def test_the_deploy_role_reaches_only_the_named_stacks_resources(deploy):
    def check(deployed: Deployed) -> None:
        granted = policy_of(deployed, DEPLOY_ROLE)
        by_sid = {s["Sid"]: s for s in granted}
        prefixes = ("serverless-platform-staging-", "serverless-platform-production-")
        assert by_sid["Tables"]["Resource"] == [f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{p}*" for p in prefixes]
        assert by_sid["Functions"]["Resource"] == [f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{p}*" for p in prefixes]
        assert by_sid["FunctionRoles"]["Action"] == list(ROLE_ACTIONS)
        assert by_sid["FunctionRoles"]["Resource"] == [f"arn:aws:iam::{ACCOUNT}:role/{p}*" for p in prefixes]
        assert by_sid["PassFunctionRoles"]["Condition"] == {
            "StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}
        }
        # Buckets by the prefix the program gives them (a long stack's is `<stack>-<bucket>-<hash>-`).
        assert by_sid["Buckets"]["Resource"] == [
            f"arn:aws:s3:::{names.bucket_prefix('serverless-platform', stack, bucket.name)}*"
            for stack in ("staging", "production")
            for bucket in catalog.BUCKETS
        ]
        for statement in granted:
            for resource in statement["Resource"]:
                # "*" only for the two actions that have no resource type.
                assert resource != "*" or statement["Action"] in (
                    ["cognito-idp:CreateUserPool"],
                    ["logs:DescribeLogGroups"],
                ), statement["Sid"]
                # Every resource names one of the two stacks, or is one the program cannot name (ids AWS assigns).
                assert any(p in resource for p in prefixes) or statement["Sid"] in {
                    "Buckets",
                    "UserPools",
                    "CreateUserPools",
                    "FindLogGroups",
                    "Apis",
                    "StateBucket",
                    "StateObjects",
                }, (statement["Sid"], resource)
        # No action that would let the role give itself or anyone more: no users, keys, attachments or policies.
        actions = {action for s in granted for action in s["Action"]}
        assert not {a for a in actions if a.startswith("iam:")} - {*ROLE_ACTIONS, "iam:PassRole"}

    return deploy(check, config=CONFIG, program=main)


@pulumi.runtime.test
def test_every_bootstrap_policy_passes_parliament_or_says_why(deploy):
    def check(deployed: Deployed) -> None:
        policies = generated_policies(deployed)
        assert {policy.kind for policy in policies} == {"identity", "trust"}
        found = [finding for policy in policies for finding in failing(findings(policy))]
        unexplained = [f for f in found if f.issue not in BOOTSTRAP_ALLOWED]
        assert not unexplained, unexplained
        assert {f.issue for f in found} == set(BOOTSTRAP_ALLOWED)
        for finding in found:
            if finding.issue == "RESOURCE_MISMATCH":
                assert finding.source.endswith("github-deploy-access"), finding
                assert "sns:GetSubscriptionAttributes" in finding.detail or "sns:Unsubscribe" in finding.detail

    return deploy(check, config=CONFIG, program=main)


def test_parliament_would_catch_a_deploy_role_granted_on_everything():
    """The audit above can fail: `iam:PassRole` on "*" is a finding parliament raises."""
    document = json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}]}
    )
    assert failing(findings(Policy("identity", "test", document)))


@pytest.mark.parametrize(
    ("repository", "stacks", "message"),
    [
        ("serverless-platform", ("staging",), "githubRepository must be owner/name"),
        ("a/b/c", ("staging",), "githubRepository must be owner/name"),
        ("example-org/serverless-platform", (), "stacks must name at least one"),
    ],
)
def test_bootstrap_settings_are_checked(repository, stacks, message):
    with pytest.raises(ValueError, match=message):
        BootstrapSettings(repository=repository, stacks=stacks)


@pulumi.runtime.test
def test_the_bootstrap_main_module_is_the_program(deploy):
    def check(deployed: Deployed) -> None:
        assert set(deployed.outputs) == {"previewRoleArn", "deployRoleArn"}

    return deploy(
        check,
        config=CONFIG,
        program=lambda: runpy.run_path(str(ROOT / "infra" / "bootstrap" / "__main__.py"), run_name="__main__"),
    )
