"""Who sends the user pool's emails. Cognito's own sender (COGNITO_DEFAULT) is capped at a few dozen emails a day
(Cognito Developer Guide, "Email settings for Amazon Cognito user pools"): a stack whose sign-ups need an emailed
code must send through SES (DEVELOPER), or say that the cap is enough."""

from __future__ import annotations

import re

import pulumi
import pytest

from infra.settings import SettingsError, StackSettings, ses_problem
from unit_tests.infra.conftest import Deployed

IDENTITY = "arn:aws:ses:us-east-1:123456789012:identity/example.com"
EMAIL_IDENTITY = "arn:aws:ses:eu-west-1:123456789012:identity/no-reply@example.com"


def pool_email(deployed: Deployed) -> object:
    return deployed.one("aws:cognito/userPool:UserPool").inputs.get("emailConfiguration")


@pulumi.runtime.test
def test_a_stack_with_an_ses_identity_sends_through_it(deploy):
    def check(deployed: Deployed) -> None:
        assert pool_email(deployed) == {
            "emailSendingAccount": "DEVELOPER",
            "sourceArn": IDENTITY,
            "fromEmailAddress": "Example <no-reply@example.com>",
        }

    config = {"sesIdentityArn": IDENTITY, "sesFromAddress": "Example <no-reply@example.com>"}
    return deploy(check, config=config, base_config=False)


@pulumi.runtime.test
def test_a_stack_that_needs_emailed_codes_and_names_no_sender_is_refused_at_preview(deploy):
    with pytest.raises(SettingsError, match=r"sesIdentityArn .* or cognitoDefaultEmailIsEnough: true"):
        deploy(lambda _: None, base_config=False)
    return pulumi.Output.from_input(None)


@pulumi.runtime.test
@pytest.mark.parametrize(
    "config", [{"autoConfirmSignUps": True}, {"cognitoDefaultEmailIsEnough": True}], ids=["auto-confirm", "said"]
)
def test_cognitos_own_sender_where_no_code_is_needed_or_the_stack_says_so(deploy, config):
    def check(deployed: Deployed) -> None:
        assert pool_email(deployed) is None

    return deploy(check, config=config, base_config=False)


# (identity ARN, FROM address, what the refusal says): each a pool AWS would refuse, or one that sends nothing.
REFUSED = [
    (None, "no-reply@example.com", "needs sesIdentityArn"),
    ("arn:aws:sns:us-east-1:123456789012:identity/example.com", None, "not an SES identity ARN"),
    ("arn:aws:ses:us-east-1:1234:identity/example.com", None, "not an SES identity ARN"),
    (IDENTITY, None, "needed to send through the domain identity 'example.com'"),
    (IDENTITY, "no-reply@example.org", "not one the SES identity 'example.com' may send as"),
    (IDENTITY, "no-reply@notexample.com", "not one the SES identity 'example.com' may send as"),
    (EMAIL_IDENTITY, "other@example.com", "not one the SES identity 'no-reply@example.com' may send as"),
    (IDENTITY, "no reply", "not an address"),
]


@pytest.mark.parametrize(("identity", "sender", "message"), REFUSED)
def test_ses_settings_cognito_would_refuse_fail_at_preview(identity, sender, message):
    assert message in (ses_problem(identity, sender) or "")
    with pytest.raises(SettingsError, match=re.escape(message.split("'")[0])):
        StackSettings(project="p", stack="s", stage_name="s", ses_identity_arn=identity, ses_from_address=sender)


@pytest.mark.parametrize(
    ("identity", "sender"),
    [
        (IDENTITY, "no-reply@example.com"),
        (IDENTITY, "Example Team <no-reply@mail.example.com>"),
        (EMAIL_IDENTITY, None),
        (EMAIL_IDENTITY, "No Reply <No-Reply@Example.com>"),
        ("arn:aws-cn:ses:cn-north-1:123456789012:identity/example.cn", "a@example.cn"),
    ],
)
def test_ses_settings_cognito_accepts(identity, sender):
    assert ses_problem(identity, sender) is None
