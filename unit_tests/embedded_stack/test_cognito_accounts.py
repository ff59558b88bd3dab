"""The embedded stack's Cognito adaptations for accounts: the outbox of codes, sessions and TOTP, through boto3
against moto (embedded_stack.moto.cognito_mail, embedded_stack.moto.cognito_sessions)."""

from __future__ import annotations

import base64
import datetime
import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from embedded_stack.moto.cognito_mail import Outbox
from embedded_stack.moto.cognito_sessions import code_is_valid, totp
from embedded_stack.provision import Provisioned
from lambdas.shared.aws import client

PASSWORD = "Correct-Horse-42"
EMAIL = "ada@example.com"
# RFC 6238, appendix B: the SHA1 key, and its 8-digit codes at these times; a 6-digit code is the last six digits.
RFC_6238_KEY = b"12345678901234567890"
RFC_6238_SHA1 = {59: "94287082", 1111111109: "07081804", 1234567890: "89005924", 2000000000: "69279037"}


def cognito() -> Any:
    return client("cognito-idp")


def error_code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def sign_up(aws: Provisioned, email: str = EMAIL) -> None:
    cognito().sign_up(ClientId=aws.user_pool_client_id, Username=email, Password=PASSWORD)


def log_in(aws: Provisioned, email: str = EMAIL) -> dict[str, Any]:
    return cognito().initiate_auth(
        ClientId=aws.user_pool_client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD},
    )


def refresh(aws: Provisioned, token: str) -> dict[str, Any]:
    return cognito().initiate_auth(
        ClientId=aws.user_pool_client_id, AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters={"REFRESH_TOKEN": token}
    )


# ---------------------------------------------------------------------------------------------- the outbox


def test_a_message_is_one_json_file_and_one_console_line(tmp_path: Path) -> None:
    lines: list[str] = []
    outbox = Outbox(tmp_path / "outbox", console=lines.append)

    outbox.send(
        "ada@example.com",
        "Your password reset code",
        "042042",
        datetime.datetime(2026, 12, 6, 11, 0, 0, tzinfo=datetime.UTC),
    )

    (written,) = (tmp_path / "outbox").iterdir()
    assert json.loads(written.read_text()) == {
        "to": "ada@example.com",
        "subject": "Your password reset code",
        "code": "042042",
        "sentAt": "2026-12-06T11:00:00.000000Z",
    }
    assert lines == [f"mail to ada@example.com: Your password reset code: 042042 ({tmp_path / 'outbox'})"]


def test_messages_sent_in_the_same_instant_to_the_same_address_are_two_files(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path, console=None)
    now = datetime.datetime(2026, 12, 6, tzinfo=datetime.UTC)

    outbox.send(EMAIL, "s", "111111", now)
    outbox.send(EMAIL, "s", "222222", now)

    assert sorted(json.loads(path.read_text())["code"] for path in tmp_path.iterdir()) == ["111111", "222222"]


def test_a_sign_up_left_unconfirmed_is_emailed_a_code_that_confirms_it(aws: Provisioned, outbox: Outbox) -> None:
    sign_up(aws)
    code = outbox.last_code(EMAIL)

    assert code is not None and len(code) == 6
    cognito().confirm_sign_up(ClientId=aws.user_pool_client_id, Username=EMAIL, ConfirmationCode=code)
    assert cognito().admin_get_user(UserPoolId=aws.user_pool_id, Username=EMAIL)["UserStatus"] == "CONFIRMED"


def test_confirm_sign_up_refuses_another_code(aws: Provisioned, outbox: Outbox) -> None:
    sign_up(aws)
    wrong = f"{(int(outbox.last_code(EMAIL) or 0) + 1) % 1_000_000:06d}"

    with pytest.raises(ClientError) as refused:
        cognito().confirm_sign_up(ClientId=aws.user_pool_client_id, Username=EMAIL, ConfirmationCode=wrong)

    assert error_code(refused) == "CodeMismatchException"


@pytest.mark.parametrize(
    ("confirmed", "expected"), [(True, "InvalidParameterException"), (None, "UserNotFoundException")]
)
def test_resend_confirmation_code_refuses_a_confirmed_or_unknown_user(
    aws: Provisioned, outbox: Outbox, confirmed: bool | None, expected: str
) -> None:
    if confirmed:
        sign_up(aws)
        cognito().admin_confirm_sign_up(UserPoolId=aws.user_pool_id, Username=EMAIL)

    with pytest.raises(ClientError) as refused:
        cognito().resend_confirmation_code(ClientId=aws.user_pool_client_id, Username=EMAIL)

    assert error_code(refused) == expected


def test_forgot_password_no_longer_hands_the_code_out_in_a_header(aws: Provisioned, outbox: Outbox) -> None:
    sign_up(aws)

    answer = cognito().forgot_password(ClientId=aws.user_pool_client_id, Username=EMAIL)

    assert "x-moto-forgot-password-confirmation-code" not in answer["ResponseMetadata"]["HTTPHeaders"]
    assert answer["CodeDeliveryDetails"] == {
        "Destination": "a***@e***",
        "DeliveryMedium": "EMAIL",
        "AttributeName": "email",
    }
    assert outbox.messages[-1].subject == "Your password reset code"


def test_confirm_forgot_password_checks_the_policy(aws: Provisioned, outbox: Outbox) -> None:
    sign_up(aws)
    cognito().forgot_password(ClientId=aws.user_pool_client_id, Username=EMAIL)

    with pytest.raises(ClientError) as refused:
        cognito().confirm_forgot_password(
            ClientId=aws.user_pool_client_id, Username=EMAIL, ConfirmationCode=outbox.last_code(EMAIL), Password="weak"
        )

    assert error_code(refused) == "InvalidPasswordException"


def test_confirm_forgot_password_for_an_unknown_user_is_a_code_mismatch(aws: Provisioned) -> None:
    with pytest.raises(ClientError) as refused:
        cognito().confirm_forgot_password(
            ClientId=aws.user_pool_client_id, Username=EMAIL, ConfirmationCode="123456", Password=PASSWORD
        )

    assert error_code(refused) == "CodeMismatchException"


# ---------------------------------------------------------------------------------------------- sessions


def test_revoke_token_revokes_that_refresh_token(aws: Provisioned) -> None:
    sign_up(aws)
    cognito().admin_confirm_sign_up(UserPoolId=aws.user_pool_id, Username=EMAIL)
    token = log_in(aws)["AuthenticationResult"]["RefreshToken"]

    cognito().revoke_token(ClientId=aws.user_pool_client_id, Token=token)

    with pytest.raises(ClientError) as refused:
        refresh(aws, token)
    assert error_code(refused) == "NotAuthorizedException"


def test_a_global_sign_out_by_username_revokes_tokens_of_a_login_by_email(aws: Provisioned) -> None:
    sign_up(aws)
    cognito().admin_confirm_sign_up(UserPoolId=aws.user_pool_id, Username=EMAIL)
    token = log_in(aws)["AuthenticationResult"]["RefreshToken"]
    username = cognito().admin_get_user(UserPoolId=aws.user_pool_id, Username=EMAIL)["Username"]

    cognito().admin_user_global_sign_out(UserPoolId=aws.user_pool_id, Username=username)

    with pytest.raises(ClientError) as refused:
        refresh(aws, token)
    assert error_code(refused) == "NotAuthorizedException"


def test_a_deleted_users_refresh_token_is_refused_not_a_fault(aws: Provisioned) -> None:
    sign_up(aws)
    cognito().admin_confirm_sign_up(UserPoolId=aws.user_pool_id, Username=EMAIL)
    token = log_in(aws)["AuthenticationResult"]["RefreshToken"]

    cognito().admin_delete_user(UserPoolId=aws.user_pool_id, Username=EMAIL)

    with pytest.raises(ClientError) as refused:
        refresh(aws, token)
    assert error_code(refused) == "NotAuthorizedException"


# ---------------------------------------------------------------------------------------------- TOTP


@pytest.mark.parametrize(("at", "expected"), sorted(RFC_6238_SHA1.items()))
def test_totp_codes_are_rfc_6238s(at: int, expected: str) -> None:
    secret = base64.b32encode(RFC_6238_KEY).decode()

    assert totp(secret).generate(at).decode() == expected[-6:]
    assert code_is_valid(secret, expected[-6:], now=at)


@pytest.mark.parametrize(("offset", "valid"), [(-60, False), (-30, True), (0, True), (30, True), (60, False)])
def test_a_code_is_valid_for_its_step_and_the_steps_either_side(offset: int, valid: bool) -> None:
    secret = base64.b32encode(RFC_6238_KEY).decode()
    code = totp(secret).generate(1_000_000_000 + offset).decode()

    assert code_is_valid(secret, code, now=1_000_000_000) is valid


def test_verify_software_token_refuses_a_wrong_code(aws: Provisioned) -> None:
    sign_up(aws)
    cognito().admin_confirm_sign_up(UserPoolId=aws.user_pool_id, Username=EMAIL)
    access_token = log_in(aws)["AuthenticationResult"]["AccessToken"]
    secret = cognito().associate_software_token(AccessToken=access_token)["SecretCode"]
    wrong = f"{(int(totp(secret).generate(int(datetime.datetime.now().timestamp())).decode()) + 1) % 1_000_000:06d}"

    with pytest.raises(ClientError) as refused:
        cognito().verify_software_token(AccessToken=access_token, UserCode=wrong)

    assert error_code(refused) == "EnableSoftwareTokenMFAException"


def test_the_pool_offers_totp_as_optional(aws: Provisioned) -> None:
    config = cognito().get_user_pool_mfa_config(UserPoolId=aws.user_pool_id)

    assert config["MfaConfiguration"] == "OPTIONAL"
    assert config["SoftwareTokenMfaConfiguration"] == {"Enabled": True}
