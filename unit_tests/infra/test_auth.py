from __future__ import annotations

import json

import pulumi
import pytest

from infra.auth import lambda_config_argument
from infra.functions import TRACE_ACTIONS
from lambdas import catalog
from unit_tests.infra.conftest import STACK, Deployed
from unit_tests.infra.declarations import RICH

PREFIX = f"serverless-platform-{STACK}-"


@pulumi.runtime.test
def test_user_pool_client_and_admin_group(deploy):
    def check(deployed: Deployed) -> None:
        pool = deployed.one("aws:cognito/userPool:UserPool")
        assert pool.inputs["name"] == f"{PREFIX}{catalog.USER_POOL.name}"
        assert pool.inputs["usernameAttributes"] == ["email"]
        assert pool.inputs["passwordPolicy"] == {
            "minimumLength": catalog.USER_POOL.password_min_length,
            "requireLowercase": "lowercase" in catalog.USER_POOL.password_requires,
            "requireUppercase": "uppercase" in catalog.USER_POOL.password_requires,
            "requireNumbers": "numbers" in catalog.USER_POOL.password_requires,
            "requireSymbols": "symbols" in catalog.USER_POOL.password_requires,
        }
        assert pool.inputs["mfaConfiguration"] == "OFF"
        assert "softwareTokenMfaConfiguration" not in pool.inputs
        assert pool.inputs["deletionProtection"] == "ACTIVE"
        client = deployed.one("aws:cognito/userPoolClient:UserPoolClient")
        assert client.inputs["name"] == catalog.USER_POOL.client_name
        assert client.inputs["userPoolId"] == pool.state["__id"]
        assert set(client.inputs["explicitAuthFlows"]) == {"ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}
        assert client.inputs["generateSecret"] is False
        group = deployed.one("aws:cognito/userGroup:UserGroup")
        assert group.inputs["name"] == catalog.USER_POOL.admin_group
        assert group.inputs["userPoolId"] == pool.state["__id"]

    return deploy(check)


@pulumi.runtime.test
def test_mfa_comes_from_the_stack_config(deploy):
    def check(deployed: Deployed) -> None:
        pool = deployed.one("aws:cognito/userPool:UserPool")
        assert pool.inputs["mfaConfiguration"] == "OPTIONAL"
        assert pool.inputs["softwareTokenMfaConfiguration"] == {"enabled": True}

    return deploy(check, config={"mfa": "optional"})


@pulumi.runtime.test
def test_no_sign_up_trigger_by_default(deploy):
    def check(deployed: Deployed) -> None:
        pool = deployed.one("aws:cognito/userPool:UserPool")
        assert "lambdaConfig" not in pool.inputs
        names = {f.inputs["name"] for f in deployed.of_type("aws:lambda/function:Function")}
        assert f"{PREFIX}presignup" not in names
        assert not [
            p
            for p in deployed.of_type("aws:lambda/permission:Permission")
            if p.inputs["principal"] == "cognito-idp.amazonaws.com"
        ]

    return deploy(check)


@pulumi.runtime.test
def test_auto_confirm_attaches_the_pre_sign_up_trigger_invocable_by_the_pool_only(deploy):
    def check(deployed: Deployed) -> None:
        pool = deployed.one("aws:cognito/userPool:UserPool")
        trigger = deployed.one("aws:lambda/function:Function", name=f"{PREFIX}presignup")
        assert trigger.inputs["handler"] == "lambdas.presignup.handler.lambda_handler"
        assert pool.inputs["lambdaConfig"] == {"preSignUp": trigger.state["arn"]}
        [permission] = [
            p
            for p in deployed.of_type("aws:lambda/permission:Permission")
            if p.inputs["principal"] == "cognito-idp.amazonaws.com"
        ]
        assert permission.inputs["function"] == trigger.inputs["name"]
        assert permission.inputs["sourceArn"] == pool.state["arn"]
        assert permission.inputs["action"] == "lambda:InvokeFunction"
        # Its role writes its own logs (and traces) and nothing else.
        role = deployed.one("aws:iam/role:Role", name=f"{PREFIX}presignup")
        [policy] = [
            p for p in deployed.of_type("aws:iam/rolePolicy:RolePolicy") if p.inputs["role"] == role.state["__id"]
        ]
        actions = {a for s in json.loads(policy.inputs["policy"])["Statement"] for a in s["Action"]}
        assert actions == {"logs:CreateLogStream", "logs:PutLogEvents", *TRACE_ACTIONS}
        # Made before the pool, it cannot know the pool's ids.
        assert catalog.USER_POOL.pool_id_env_var not in trigger.inputs["environment"]["variables"]

    return deploy(check, config={"autoConfirmSignUps": True})


@pulumi.runtime.test
def test_any_declared_trigger_is_wired_by_its_lambda_config_name(deploy):
    def check(deployed: Deployed) -> None:
        hook = deployed.one("aws:lambda/function:Function", name=f"{PREFIX}hook")
        assert deployed.one("aws:cognito/userPool:UserPool").inputs["lambdaConfig"] == {"preSignUp": hook.state["arn"]}

    return deploy(check, config={"autoConfirmSignUps": True}, declared=RICH)


def test_lambda_config_names():
    assert lambda_config_argument("PreSignUp") == "pre_sign_up"
    assert lambda_config_argument("PostConfirmation") == "post_confirmation"
    with pytest.raises(ValueError, match="not a Cognito user pool trigger"):
        lambda_config_argument("OnTuesdays")
