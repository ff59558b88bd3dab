"""The Cognito user pool, its app client and admin group, and its Lambda triggers (catalog.USER_POOL_TRIGGERS)."""

from __future__ import annotations

import inspect
import re
from collections.abc import Mapping

import pulumi
import pulumi_aws as aws

from infra import names
from infra.functions import LambdaFunction
from infra.settings import SettingsError, StackSettings
from lambdas.catalog import UserPool

_PASSWORD_RULES = {
    "lowercase": "require_lowercase",
    "uppercase": "require_uppercase",
    "numbers": "require_numbers",
    "symbols": "require_symbols",
}
AUTH_FLOWS = ("ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH")


def password_policy(pool: UserPool) -> aws.cognito.UserPoolPasswordPolicyArgs:
    unknown = set(pool.password_requires) - _PASSWORD_RULES.keys()
    if unknown:
        raise ValueError(f"unknown password requirements {sorted(unknown)}: use {sorted(_PASSWORD_RULES)}")
    return aws.cognito.UserPoolPasswordPolicyArgs(
        minimum_length=pool.password_min_length,
        **{flag: rule in pool.password_requires for rule, flag in _PASSWORD_RULES.items()},
    )


def lambda_config_argument(trigger: str) -> str:
    """A Cognito LambdaConfig name (`PreSignUp`) as the argument of `UserPoolLambdaConfigArgs` (`pre_sign_up`)."""
    argument = re.sub(r"(?<!^)(?=[A-Z])", "_", trigger).lower()
    if argument not in inspect.signature(aws.cognito.UserPoolLambdaConfigArgs).parameters:
        raise ValueError(f"{trigger!r} is not a Cognito user pool trigger (LambdaConfig) name")
    return argument


def email_configuration(settings: StackSettings) -> aws.cognito.UserPoolEmailConfigurationArgs | None:
    """Through the stack's SES identity (DEVELOPER: SES's quotas, the account's own sender), or Cognito's default."""
    if settings.ses_identity_arn is None:
        return None
    return aws.cognito.UserPoolEmailConfigurationArgs(
        email_sending_account="DEVELOPER",
        source_arn=settings.ses_identity_arn,
        from_email_address=settings.ses_from_address,
    )


class Auth(pulumi.ComponentResource):
    """Email-as-username sign-in with the catalog's password policy; MFA per stack. `triggers` maps a LambdaConfig
    name to its deployed function; each may be invoked by this pool only."""

    def __init__(
        self,
        name: str,
        pool: UserPool,
        settings: StackSettings,
        triggers: Mapping[str, LambdaFunction],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("serverless-platform:auth:Auth", name, None, opts)
        if problem := settings.email_sender_problem():
            raise SettingsError(problem)
        child = pulumi.ResourceOptions(parent=self)
        lambda_config = {lambda_config_argument(key): fn.function.arn for key, fn in sorted(triggers.items())}
        mfa_on = settings.mfa != "OFF"
        self.user_pool = aws.cognito.UserPool(
            f"{name}-pool",
            name=names.USER_POOL.check(f"{settings.prefix}{pool.name}"),
            username_attributes=["email"],
            auto_verified_attributes=["email"],
            username_configuration=aws.cognito.UserPoolUsernameConfigurationArgs(case_sensitive=False),
            password_policy=password_policy(pool),
            mfa_configuration=settings.mfa,
            # OPTIONAL and ON need a second factor to offer: an authenticator app (no SMS role to manage).
            software_token_mfa_configuration=(
                aws.cognito.UserPoolSoftwareTokenMfaConfigurationArgs(enabled=True) if mfa_on else None
            ),
            account_recovery_setting=aws.cognito.UserPoolAccountRecoverySettingArgs(
                recovery_mechanisms=[
                    aws.cognito.UserPoolAccountRecoverySettingRecoveryMechanismArgs(name="verified_email", priority=1)
                ]
            ),
            admin_create_user_config=aws.cognito.UserPoolAdminCreateUserConfigArgs(allow_admin_create_user_only=False),
            lambda_config=aws.cognito.UserPoolLambdaConfigArgs(**lambda_config) if lambda_config else None,
            email_configuration=email_configuration(settings),
            deletion_protection="ACTIVE" if settings.deletion_protection else "INACTIVE",
            tags=settings.tags or None,
            opts=child,
        )
        for key, trigger in sorted(triggers.items()):
            aws.lambda_.Permission(
                f"{name}-invoke-{key}",
                action="lambda:InvokeFunction",
                function=trigger.function.name,
                principal="cognito-idp.amazonaws.com",
                source_arn=self.user_pool.arn,
                opts=child,
            )
        self.client = aws.cognito.UserPoolClient(
            f"{name}-client",
            name=pool.client_name,
            user_pool_id=self.user_pool.id,
            explicit_auth_flows=list(AUTH_FLOWS),
            generate_secret=False,
            prevent_user_existence_errors="ENABLED",
            enable_token_revocation=True,
            opts=child,
        )
        # Not prefixed: the pool is already per stack, and the functions look for this name in `cognito:groups`.
        self.admin_group = aws.cognito.UserGroup(
            f"{name}-admins",
            name=pool.admin_group,
            user_pool_id=self.user_pool.id,
            description="Administrators of the platform.",
            opts=child,
        )
        self.register_outputs(
            {"userPoolId": self.user_pool.id, "userPoolArn": self.user_pool.arn, "clientId": self.client.id}
        )
