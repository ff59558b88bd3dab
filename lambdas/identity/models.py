from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StrictBool, StringConstraints

from lambdas.catalog import USER_POOL
from lambdas.identity.password_policy import MAX_LENGTH, PASSWORD_PATTERN, broken_form, broken_rules, policy_pattern
from lambdas.shared.email_address import EmailAddress
from lambdas.shared.models import WHITE_SPACE, RequestModel, ResponseModel, one_line, trimmed


def _lower(email: str) -> str:
    # Users type their address in any case; Cognito's username lookup may be case-sensitive, so one spelling is used.
    return email.lower()


def _no_white_space(code: str) -> str:
    if re.search(f"[{WHITE_SPACE}]", code):
        raise ValueError("must not contain spaces")
    return code


def _meets_policy(password: str) -> str:
    broken = broken_rules(password)
    if broken:
        raise ValueError("; ".join(broken))
    return password


def _could_be_a_password(password: str) -> str:
    broken = broken_form(password)
    if broken:
        raise ValueError("; ".join(broken))
    return password


Email = Annotated[EmailAddress, Field(max_length=254), AfterValidator(_lower)]
# Secrets are taken exactly as typed: RequestModel's whitespace trimming is turned off for them.
Secret = Annotated[str, StringConstraints(strip_whitespace=False, min_length=1)]
# The policy is documented as a pattern (for generated clients) and checked by `_meets_policy`, which names each
# rule a password breaks, rather than by pydantic, which would only say that the pattern does not match.
# The pattern states the lengths too, and only it: Schemathesis writes a minLength/maxLength into the pattern's
# quantifier, where the lookaheads leave no string its generator can find (a minute and a half of search per run).
NewPassword = Annotated[
    str,
    StringConstraints(strip_whitespace=False),
    AfterValidator(_meets_policy),
    Field(
        json_schema_extra={"pattern": policy_pattern()},
        description=f"The user pool's policy: {USER_POOL.password_min_length} to {MAX_LENGTH} characters with a "
        "lowercase and an uppercase letter, a number and a symbol, on one line, with no space at either end.",
    ),
]


class SignUp(RequestModel):
    email: Email
    password: NewPassword
    name: Annotated[str, *one_line(256)]


# Cognito's pattern for a confirmation code is "no whitespace"; its length depends on the pool's settings.
Code = Annotated[
    str,
    Field(min_length=1, max_length=2048),
    AfterValidator(_no_white_space),
    Field(json_schema_extra={"pattern": trimmed(f"[^{WHITE_SPACE}]+")}),
]
# An authenticator app's code: six digits (RFC 6238 as Cognito uses it).
# Trimmed like every request string; the pattern says so (as Code's does).
TotpCode = Annotated[
    str,
    Field(pattern=trimmed("[0-9]{6}"), description="The six digits the authenticator app shows"),
]
# Cognito's pattern for the tokens its token APIs take (AccessToken, RevokeToken's Token): base64url and dots.
TOKEN_PATTERN = r"^[A-Za-z0-9\-_=.]+$"
AccessToken = Annotated[
    Secret,
    Field(
        max_length=16384,
        pattern=TOKEN_PATTERN,
        description="The access token from POST /auth/login: Cognito's MFA set-up is authorised by it alone.",
    ),
]
# Cognito's Session parameter: 20 to 2048 characters.
Session = Annotated[Secret, Field(min_length=20, max_length=2048)]


class Confirm(RequestModel):
    email: Email
    code: Code


class EmailOnly(RequestModel):
    email: Email


class ResetPassword(RequestModel):
    email: Email
    code: Code
    new_password: NewPassword


class Logout(RequestModel):
    refresh_token: Annotated[Secret, Field(max_length=16384, pattern=TOKEN_PATTERN)]
    everywhere: StrictBool = Field(
        default=False, description="Sign out every session of the account, not only this refresh token's"
    )


class ChangePassword(RequestModel):
    current_password: Annotated[Secret, Field(max_length=MAX_LENGTH)]
    new_password: NewPassword


class ProfileUpdate(RequestModel):
    name: Annotated[str, *one_line(256)]


class TotpSetup(RequestModel):
    access_token: AccessToken


class TotpVerification(RequestModel):
    access_token: AccessToken
    code: TotpCode


class MfaLogin(RequestModel):
    email: Email
    session: Session
    code: TotpCode


# Any user's password, as a login sends it: the form Cognito takes for every password (the pattern states its
# length, as NewPassword's does).
Password = Annotated[
    Secret,
    AfterValidator(_could_be_a_password),
    Field(
        json_schema_extra={"pattern": PASSWORD_PATTERN},
        description=f"1 to {MAX_LENGTH} characters on one line, with no space at either end, as typed.",
    ),
]


class Login(RequestModel):
    email: Email
    password: Password


class Refresh(RequestModel):
    refresh_token: Annotated[Secret, Field(max_length=16384)]


class Accepted(ResponseModel):
    message: str


class SignedUp(ResponseModel):
    user_id: str


class RefreshedTokens(ResponseModel):
    id_token: str
    access_token: str
    expires_in: int
    token_type: str


class Tokens(RefreshedTokens):
    refresh_token: str


class MfaChallenge(ResponseModel):
    """A login that needs the code of the account's authenticator app: POST /auth/login/mfa with `session`."""

    challenge: Literal["SOFTWARE_TOKEN_MFA"]
    session: str


class Profile(ResponseModel):
    user_id: str
    email: str
    name: str
    mfa: bool = Field(description="True when logins need the code of an authenticator app (TOTP)")


class TotpSecret(ResponseModel):
    secret: str = Field(description="The base32 key to type into an authenticator app")
    otpauth_uri: str = Field(description="The same key as an otpauth:// URI, for a QR code")
