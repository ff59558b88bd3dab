"""Password resets, resent codes, logouts, the caller's account and TOTP, against moto's Cognito as the embedded
stack adapts it (codes read from the outbox, TOTP checked per RFC 6238), and Cognito's answers moto cannot give
through botocore's Stubber."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from botocore.stub import Stubber

from embedded_stack.moto.cognito_mail import Outbox
from embedded_stack.moto.cognito_sessions import totp
from embedded_stack.provision import Provisioned
from lambdas.identity.cognito_errors import RESET_REFUSED, WRONG_RESET_CODE
from lambdas.shared.aws import client
from testkit import HttpResult, call
from unit_tests.identity.conftest import PASSWORD

NEW_PASSWORD = "Battery-Staple-77"


def sign_up_and_log_in() -> dict[str, Any]:
    email = f"ada-{uuid.uuid4().hex[:8]}@example.com"
    signed_up = call("POST", "/auth/signup", {"email": email, "password": PASSWORD, "name": "Ada Lovelace"})
    assert signed_up.status == 201, signed_up.body
    tokens = log_in(email, PASSWORD)
    user_id = signed_up.json()["userId"]
    claims = {"sub": user_id, "email": email, "cognito:username": user_id, "token_use": "id"}
    return {"email": email, "userId": user_id, "claims": claims, **tokens}


def log_in(email: str, password: str) -> dict[str, Any]:
    result = call("POST", "/auth/login", {"email": email, "password": password})
    assert result.status == 200, result.body
    return result.json()


def refresh(refresh_token: str) -> HttpResult:
    return call("POST", "/auth/refresh", {"refreshToken": refresh_token})


def other_code(code: str | None) -> str:
    return f"{(int(code or 0) + 1) % 1_000_000:06d}"


def fields(result: HttpResult) -> list[str]:
    return [error["field"] for error in result.json().get("errors", [])]


def current_totp(secret: str, at: float | None = None) -> str:
    return totp(secret).generate(int(time.time() if at is None else at)).decode()


# ---------------------------------------------------------------------------------------------- forgot password


def test_forgot_password_answers_202_and_emails_a_code(aws: Provisioned, trigger: None, outbox: Outbox) -> None:
    user = sign_up_and_log_in()

    result = call("POST", "/auth/forgot-password", {"email": user["email"].upper()})

    assert result.status == 202
    message = outbox.messages[-1]
    assert (message.to, message.subject) == (user["email"], "Your password reset code")
    assert len(message.code) == 6 and message.code.isdigit()


def test_forgot_password_answers_an_unknown_email_exactly_as_a_known_one(aws: Provisioned, trigger: None) -> None:
    known = sign_up_and_log_in()["email"]

    answers = [call("POST", "/auth/forgot-password", {"email": email}) for email in (known, "nobody@example.com")]

    assert answers[0].status == answers[1].status == 202
    assert answers[0].body == answers[1].body


@pytest.mark.parametrize(
    "code",
    ["UserNotFoundException", "InvalidParameterException", "NotAuthorizedException", "UserNotConfirmedException"],
)
def test_forgot_password_tells_no_refusal_about_the_account(cognito_stub: Stubber, code: str) -> None:
    cognito_stub.add_client_error("forgot_password", service_error_code=code)

    assert call("POST", "/auth/forgot-password", {"email": "ada@example.com"}).status == 202


@pytest.mark.parametrize("code", ["TooManyRequestsException", "LimitExceededException"])
def test_cognitos_rate_limits_pass_through_as_429(cognito_stub: Stubber, code: str) -> None:
    cognito_stub.add_client_error("forgot_password", service_error_code=code)

    result = call("POST", "/auth/forgot-password", {"email": "ada@example.com"})

    assert result.status == 429


# ---------------------------------------------------------------------------------------------- reset password


def test_reset_sets_the_new_password_and_revokes_every_earlier_refresh_token(
    aws: Provisioned, trigger: None, outbox: Outbox
) -> None:
    user = sign_up_and_log_in()
    other_session = log_in(user["email"], PASSWORD)
    call("POST", "/auth/forgot-password", {"email": user["email"]})

    result = call(
        "POST",
        "/auth/reset-password",
        {"email": user["email"], "code": outbox.last_code(user["email"]), "newPassword": NEW_PASSWORD},
    )

    assert result.status == 204, result.body
    assert call("POST", "/auth/login", {"email": user["email"], "password": PASSWORD}).status == 401
    assert log_in(user["email"], NEW_PASSWORD)["idToken"]
    assert refresh(user["refreshToken"]).status == 401
    assert refresh(other_session["refreshToken"]).status == 401


def test_a_reset_code_works_once(aws: Provisioned, trigger: None, outbox: Outbox) -> None:
    user = sign_up_and_log_in()
    call("POST", "/auth/forgot-password", {"email": user["email"]})
    body = {"email": user["email"], "code": outbox.last_code(user["email"]), "newPassword": NEW_PASSWORD}
    assert call("POST", "/auth/reset-password", body).status == 204

    again = call("POST", "/auth/reset-password", {**body, "newPassword": "Another-Password-9"})

    assert again.status == 403
    assert fields(again) == ["body.code"]


def test_a_wrong_code_an_unknown_email_and_no_reset_asked_answer_alike(
    aws: Provisioned, trigger: None, outbox: Outbox
) -> None:
    asked, not_asked = sign_up_and_log_in(), sign_up_and_log_in()
    call("POST", "/auth/forgot-password", {"email": asked["email"]})
    wrong = other_code(outbox.last_code(asked["email"]))

    answers = [
        call("POST", "/auth/reset-password", {"email": email, "code": wrong, "newPassword": NEW_PASSWORD})
        for email in (asked["email"], not_asked["email"], f"nobody-{uuid.uuid4().hex}@example.com")
    ]

    assert {answer.status for answer in answers} == {403}
    assert {(answer.json()["message"], str(answer.json()["errors"])) for answer in answers} == {
        (RESET_REFUSED, str([{"field": "body.code", "message": WRONG_RESET_CODE}]))
    }
    assert log_in(asked["email"], PASSWORD)["idToken"]


def test_an_expired_reset_code_is_403_on_code(aws: Provisioned, trigger: None, outbox: Outbox) -> None:
    user = sign_up_and_log_in()
    call("POST", "/auth/forgot-password", {"email": user["email"]})
    pool_user = next(u for u in _moto_pool(aws).users.values() if u.attribute_lookup.get("email") == user["email"])
    code, _ = pool_user.embedded_codes["reset"]
    pool_user.embedded_codes["reset"] = (code, pool_user.embedded_codes["reset"][1].replace(year=2000))

    result = call("POST", "/auth/reset-password", {"email": user["email"], "code": code, "newPassword": NEW_PASSWORD})

    assert result.status == 403
    assert fields(result) == ["body.code"]


@pytest.mark.parametrize(
    ("password", "why"),
    [("short-A1!", "at least 12"), ("no-upper-case-1!", "uppercase"), (" Leading-Space-1!", "space")],
)
def test_a_new_password_breaking_the_policy_is_400_on_new_password(aws: Provisioned, password: str, why: str) -> None:
    result = call(
        "POST", "/auth/reset-password", {"email": "ada@example.com", "code": "123456", "newPassword": password}
    )

    assert result.status == 400
    assert fields(result) == ["body.newPassword"]
    assert why in result.json()["errors"][0]["message"]
    assert password not in result.body


def test_a_policy_cognito_enforces_beyond_ours_is_400_on_new_password(cognito_stub: Stubber) -> None:
    cognito_stub.add_client_error("confirm_forgot_password", service_error_code="InvalidPasswordException")

    result = call(
        "POST", "/auth/reset-password", {"email": "ada@example.com", "code": "123456", "newPassword": NEW_PASSWORD}
    )

    assert result.status == 400
    assert fields(result) == ["body.newPassword"]


# ---------------------------------------------------------------------------------------------- resend code


def test_resend_code_emails_a_new_confirmation_code_that_replaces_the_first(
    aws: Provisioned, no_trigger: None, outbox: Outbox
) -> None:
    email = f"ada-{uuid.uuid4().hex[:8]}@example.com"
    call("POST", "/auth/signup", {"email": email, "password": PASSWORD, "name": "Ada"})
    first = outbox.last_code(email)

    result = call("POST", "/auth/resend-code", {"email": email})

    assert result.status == 202
    second = outbox.last_code(email)
    assert outbox.messages[-1].subject == "Your verification code"
    if first != second:
        assert call("POST", "/auth/confirm", {"email": email, "code": first}).status == 403
    assert call("POST", "/auth/confirm", {"email": email, "code": second}).status == 200


@pytest.mark.parametrize("who", ["confirmed", "unknown"])
def test_resend_code_answers_202_for_a_confirmed_account_and_an_unknown_email(
    aws: Provisioned, trigger: None, outbox: Outbox, who: str
) -> None:
    email = sign_up_and_log_in()["email"] if who == "confirmed" else f"nobody-{uuid.uuid4().hex}@example.com"
    sent = len(outbox.messages)

    result = call("POST", "/auth/resend-code", {"email": email})

    assert result.status == 202
    assert len(outbox.messages) == sent


# ---------------------------------------------------------------------------------------------- logout


def test_logout_revokes_that_refresh_token_only(aws: Provisioned, trigger: None) -> None:
    user = sign_up_and_log_in()
    other_session = log_in(user["email"], PASSWORD)

    result = call("POST", "/auth/logout", {"refreshToken": user["refreshToken"]})

    assert result.status == 204
    assert refresh(user["refreshToken"]).status == 401
    assert refresh(other_session["refreshToken"]).status == 200


def test_logging_out_twice_or_with_an_unknown_token_is_204(aws: Provisioned, trigger: None) -> None:
    user = sign_up_and_log_in()
    call("POST", "/auth/logout", {"refreshToken": user["refreshToken"]})

    assert call("POST", "/auth/logout", {"refreshToken": user["refreshToken"]}).status == 204
    assert call("POST", "/auth/logout", {"refreshToken": "made-up"}).status == 204


def test_logout_everywhere_revokes_every_session_of_the_account(aws: Provisioned, trigger: None) -> None:
    user, stranger = sign_up_and_log_in(), sign_up_and_log_in()
    other_session = log_in(user["email"], PASSWORD)

    result = call("POST", "/auth/logout", {"refreshToken": user["refreshToken"], "everywhere": True})

    assert result.status == 204
    assert refresh(user["refreshToken"]).status == 401
    assert refresh(other_session["refreshToken"]).status == 401
    assert refresh(stranger["refreshToken"]).status == 200


def test_logout_everywhere_with_a_revoked_token_is_401(aws: Provisioned, trigger: None) -> None:
    user = sign_up_and_log_in()
    call("POST", "/auth/logout", {"refreshToken": user["refreshToken"]})

    result = call("POST", "/auth/logout", {"refreshToken": user["refreshToken"], "everywhere": True})

    assert result.status == 401


def test_an_access_token_given_as_refresh_token_is_400(cognito_stub: Stubber) -> None:
    cognito_stub.add_client_error("revoke_token", service_error_code="UnsupportedTokenTypeException")

    result = call("POST", "/auth/logout", {"refreshToken": "an-access-token"})

    assert result.status == 400
    assert fields(result) == ["body.refreshToken"]


# ---------------------------------------------------------------------------------------------- change password


def test_change_password_with_the_current_one(aws: Provisioned, trigger: None) -> None:
    user = sign_up_and_log_in()

    result = call(
        "POST", "/auth/password", {"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD}, claims=user["claims"]
    )

    assert result.status == 204, result.body
    assert call("POST", "/auth/login", {"email": user["email"], "password": PASSWORD}).status == 401
    assert log_in(user["email"], NEW_PASSWORD)["idToken"]


def test_change_password_with_a_wrong_current_one_is_403(aws: Provisioned, trigger: None) -> None:
    user = sign_up_and_log_in()

    result = call(
        "POST",
        "/auth/password",
        {"currentPassword": "Not-The-Password-1", "newPassword": NEW_PASSWORD},
        claims=user["claims"],
    )

    assert result.status == 403
    assert fields(result) == ["body.currentPassword"]
    assert log_in(user["email"], PASSWORD)["idToken"]


def test_change_password_applies_the_policy(aws: Provisioned, trigger: None) -> None:
    user = sign_up_and_log_in()

    result = call("POST", "/auth/password", {"currentPassword": PASSWORD, "newPassword": "weak"}, claims=user["claims"])

    assert result.status == 400
    assert fields(result) == ["body.newPassword"]


def test_change_password_leaves_no_session_behind(aws: Provisioned, trigger: None) -> None:
    user = sign_up_and_log_in()
    pool = _moto_pool(aws)
    live_before = sum(1 for issued in pool.refresh_tokens.values() if issued is not None)

    call("POST", "/auth/password", {"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD}, claims=user["claims"])

    assert sum(1 for issued in pool.refresh_tokens.values() if issued is not None) == live_before


# ---------------------------------------------------------------------------------------------- /me


def test_get_me_answers_the_callers_account(aws: Provisioned, trigger: None) -> None:
    user = sign_up_and_log_in()

    result = call("GET", "/me", claims=user["claims"])

    assert result.status == 200
    assert result.json() == {"userId": user["userId"], "email": user["email"], "name": "Ada Lovelace", "mfa": False}


def test_patch_me_changes_the_name(aws: Provisioned, trigger: None) -> None:
    user = sign_up_and_log_in()

    result = call("PATCH", "/me", {"name": "  Countess of Lovelace "}, claims=user["claims"])

    assert result.status == 200
    assert result.json()["name"] == "Countess of Lovelace"
    assert call("GET", "/me", claims=user["claims"]).json()["name"] == "Countess of Lovelace"


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": "a\nb"}, {"name": "x" * 257}, {"name": "A", "email": "x"}])
def test_patch_me_refuses_a_bad_name(aws: Provisioned, body: dict[str, str]) -> None:
    assert call("PATCH", "/me", body).status == 400


def test_me_of_a_deleted_account_is_401(aws: Provisioned, trigger: None) -> None:
    user = sign_up_and_log_in()
    client("cognito-idp").admin_delete_user(UserPoolId=aws.user_pool_id, Username=user["userId"])

    assert call("GET", "/me", claims=user["claims"]).status == 401


# ---------------------------------------------------------------------------------------------- TOTP


def turn_totp_on(user: dict[str, Any]) -> str:
    setup = call("POST", "/me/mfa/totp", {"accessToken": user["accessToken"]}, claims=user["claims"])
    assert setup.status == 200, setup.body
    secret = setup.json()["secret"]
    verified = call(
        "POST",
        "/me/mfa/totp/verify",
        {"accessToken": user["accessToken"], "code": current_totp(secret)},
        claims=user["claims"],
    )
    assert verified.status == 204, verified.body
    return str(secret)


def test_totp_set_up_answers_a_secret_and_its_otpauth_uri(aws: Provisioned, trigger: None) -> None:
    user = sign_up_and_log_in()

    result = call("POST", "/me/mfa/totp", {"accessToken": user["accessToken"]}, claims=user["claims"])

    assert result.status == 200
    secret, uri = result.json()["secret"], result.json()["otpauthUri"]
    assert len(secret) == 32
    assert uri.startswith("otpauth://totp/serverless-platform%3A") and f"secret={secret}" in uri
    assert call("GET", "/me", claims=user["claims"]).json()["mfa"] is False


def test_each_user_gets_a_secret_of_their_own(aws: Provisioned, trigger: None) -> None:
    secrets = {
        call("POST", "/me/mfa/totp", {"accessToken": u["accessToken"]}, claims=u["claims"]).json()["secret"]
        for u in (sign_up_and_log_in(), sign_up_and_log_in())
    }

    assert len(secrets) == 2


def test_with_totp_on_a_login_answers_the_challenge_and_the_code_completes_it(aws: Provisioned, trigger: None) -> None:
    user = sign_up_and_log_in()
    secret = turn_totp_on(user)
    assert call("GET", "/me", claims=user["claims"]).json()["mfa"] is True

    login = call("POST", "/auth/login", {"email": user["email"], "password": PASSWORD})

    assert login.status == 200
    assert set(login.json()) == {"challenge", "session"} and login.json()["challenge"] == "SOFTWARE_TOKEN_MFA"
    answered = call(
        "POST",
        "/auth/login/mfa",
        {"email": user["email"], "session": login.json()["session"], "code": current_totp(secret)},
    )
    assert answered.status == 200, answered.body
    assert {"idToken", "accessToken", "refreshToken"} <= set(answered.json())


def test_a_wrong_totp_code_is_403_and_the_session_may_try_again(aws: Provisioned, trigger: None) -> None:
    user = sign_up_and_log_in()
    secret = turn_totp_on(user)
    session = call("POST", "/auth/login", {"email": user["email"], "password": PASSWORD}).json()["session"]
    a_minute_ago = current_totp(secret, time.time() - 90)
    wrong = a_minute_ago if a_minute_ago != current_totp(secret) else other_code(a_minute_ago)

    refused = call("POST", "/auth/login/mfa", {"email": user["email"], "session": session, "code": wrong})

    assert refused.status == 403
    assert fields(refused) == ["body.code"]
    right = {"email": user["email"], "session": session, "code": current_totp(secret)}
    assert call("POST", "/auth/login/mfa", right).status == 200


def test_a_challenge_session_answers_only_for_its_own_user(aws: Provisioned, trigger: None) -> None:
    user, other = sign_up_and_log_in(), sign_up_and_log_in()
    secret = turn_totp_on(user)
    session = call("POST", "/auth/login", {"email": user["email"], "password": PASSWORD}).json()["session"]

    result = call(
        "POST", "/auth/login/mfa", {"email": other["email"], "session": session, "code": current_totp(secret)}
    )

    assert result.status == 401


def test_an_unknown_session_is_401(aws: Provisioned) -> None:
    result = call("POST", "/auth/login/mfa", {"email": "ada@example.com", "session": "s" * 40, "code": "123456"})

    assert result.status == 401


def test_verify_with_a_wrong_code_leaves_totp_off(aws: Provisioned, trigger: None) -> None:
    user = sign_up_and_log_in()
    secret = call("POST", "/me/mfa/totp", {"accessToken": user["accessToken"]}, claims=user["claims"]).json()["secret"]

    result = call(
        "POST",
        "/me/mfa/totp/verify",
        {"accessToken": user["accessToken"], "code": other_code(current_totp(secret))},
        claims=user["claims"],
    )

    assert result.status == 403
    assert fields(result) == ["body.code"]
    assert call("GET", "/me", claims=user["claims"]).json()["mfa"] is False
    assert "idToken" in log_in(user["email"], PASSWORD)


def test_another_accounts_access_token_is_403(aws: Provisioned, trigger: None) -> None:
    user, other = sign_up_and_log_in(), sign_up_and_log_in()

    result = call("POST", "/me/mfa/totp", {"accessToken": other["accessToken"]}, claims=user["claims"])

    assert result.status == 403
    assert fields(result) == ["body.accessToken"]


def test_a_made_up_access_token_is_401(aws: Provisioned, trigger: None) -> None:
    user = sign_up_and_log_in()

    result = call("POST", "/me/mfa/totp", {"accessToken": "made-up"}, claims=user["claims"])

    assert result.status == 401
    assert fields(result) == ["body.accessToken"]


@pytest.mark.parametrize("code", ["12345", "1234567", "12345a", "123 456"])
def test_a_totp_code_is_six_digits(aws: Provisioned, code: str) -> None:
    result = call("POST", "/me/mfa/totp/verify", {"accessToken": "t", "code": code})

    assert result.status == 400
    assert fields(result) == ["body.code"]


def _moto_pool(aws: Provisioned) -> Any:
    from moto.cognitoidp.models import cognitoidp_backends

    return cognitoidp_backends["123456789012"]["us-east-1"].user_pools[aws.user_pool_id]
