"""The codes Cognito emails (sign-up confirmation, password reset), made, checked and delivered to a local outbox.

moto 5.2.5 sends nothing and checks almost nothing: ConfirmSignUp takes any code, ForgotPassword returns its code in
an HTTP header (`x-moto-forgot-password-confirmation-code`) and ConfirmForgotPassword accepts every code but its own
prefixed ones, without checking the new password against the policy; ResendConfirmationCode is missing. Here, as
Cognito does it:
- a sign-up left UNCONFIRMED, a ResendConfirmationCode and a ForgotPassword make a 6-digit code, valid 24 hours
  (confirmation) or 1 hour (reset), which replaces the previous one, and "email" it: `Outbox.send` writes one JSON
  file per message (`to`, `subject`, `code`, `sentAt`) and prints one line, as MailHog-style tools do;
- ConfirmSignUp of an unconfirmed user and ConfirmForgotPassword refuse a wrong code (CodeMismatchException) and
  an expired one (ExpiredCodeException); a code is used once;
- ConfirmForgotPassword checks the pool's password policy and answers CodeMismatchException for an unknown user,
  as Cognito does for a client with PreventUserExistenceErrors (the deployed one);
- ResendConfirmationCode refuses an unknown user (UserNotFoundException) and a confirmed one
  (InvalidParameterException "User is already confirmed.").
https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_ConfirmForgotPassword.html
The patches are on moto's response class: its server and `mock_aws` both see them. `install(outbox)` applies them
once and sets where messages go.
"""

from __future__ import annotations

import datetime
import json
import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import moto.core.responses as moto_responses
from moto.cognitoidp.exceptions import (
    CodeMismatchException,
    ExpiredCodeException,
    InvalidParameterException,
    UserNotFoundError,
)
from moto.cognitoidp.models import (
    CognitoIdpBackend,
    CognitoIdpUser,
    CognitoIdpUserPool,
    UserStatus,
    cognitoidp_backends,
    find_account_region_by_value,
)
from moto.cognitoidp.responses import CognitoIdpResponse
from moto.core.responses import ActionResult, EmptyResult

CONFIRMATION = "confirmation"
RESET = "reset"
SUBJECTS = {CONFIRMATION: "Your verification code", RESET: "Your password reset code"}
LIFETIMES = {CONFIRMATION: datetime.timedelta(hours=24), RESET: datetime.timedelta(hours=1)}
_CODES_ATTRIBUTE = "embedded_codes"  # on a moto user: {purpose: (code, expires at)}; pickled with the state
_MARK = "_sends_codes"
_lock = threading.Lock()


@dataclass(frozen=True)
class Message:
    to: str
    subject: str
    code: str
    sent_at: str

    def as_json(self) -> dict[str, str]:
        return {"to": self.to, "subject": self.subject, "code": self.code, "sentAt": self.sent_at}


class Outbox:
    """Where the messages Cognito would send go: files in `directory` (when set), a line on `console`, and
    `messages` (the last ones, for tests)."""

    def __init__(self, directory: Path | None = None, console: Callable[[str], None] | None = print) -> None:
        self.directory = directory
        self.console = console
        self.messages: list[Message] = []
        self._lock = threading.Lock()

    def send(self, to: str, subject: str, code: str, now: datetime.datetime | None = None) -> Message:
        sent_at = (now or datetime.datetime.now(datetime.UTC)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        message = Message(to=to, subject=subject, code=code, sent_at=sent_at)
        with self._lock:
            self.messages.append(message)
            del self.messages[:-100]
            if self.directory is not None:
                self.directory.mkdir(parents=True, exist_ok=True)
                name = f"{sent_at.replace(':', '')}-{re.sub(r'[^A-Za-z0-9]+', '_', to)}-{secrets.token_hex(3)}.json"
                (self.directory / name).write_text(json.dumps(message.as_json(), indent=2) + "\n")
        if self.console:
            where = f" ({self.directory})" if self.directory is not None else ""
            self.console(f"mail to {to}: {subject}: {code}{where}")
        return message

    def last_code(self, to: str) -> str | None:
        """The code of the last message to `to` (tests)."""
        with self._lock:
            return next((message.code for message in reversed(self.messages) if message.to == to), None)


_outbox = Outbox(console=None)


def install(outbox: Outbox) -> None:
    """Codes made, checked and sent as Cognito does, to `outbox` (see the module's docstring); idempotent."""
    global _outbox
    with _lock:
        _outbox = outbox
        if getattr(CognitoIdpResponse.sign_up, _MARK, False):
            return
        CognitoIdpResponse.sign_up = _sending_a_confirmation_code(CognitoIdpResponse.sign_up)  # type: ignore[method-assign,assignment]  # patches moto in place
        CognitoIdpResponse.confirm_sign_up = _checking_the_code(CognitoIdpResponse.confirm_sign_up)  # type: ignore[method-assign,assignment]  # patches moto in place
        CognitoIdpResponse.resend_confirmation_code = _resend_confirmation_code  # type: ignore[attr-defined]  # adds an action moto lacks
        CognitoIdpResponse.forgot_password = _forgot_password  # type: ignore[method-assign,assignment]  # patches moto in place
        CognitoIdpResponse.confirm_forgot_password = _confirm_forgot_password  # type: ignore[method-assign,assignment]  # patches moto in place
        # moto_patches caches each response class's method names: the new action must be seen.
        cache_clear = getattr(moto_responses.method_names_from_class, "cache_clear", None)
        if cache_clear:
            cache_clear()


def outbox() -> Outbox:
    return _outbox


def issue_code(user: CognitoIdpUser, purpose: str, now: datetime.datetime | None = None) -> str:
    """A new code for `purpose`, replacing the previous one, sent to the user's email."""
    now = now or datetime.datetime.now(datetime.UTC)
    code = f"{secrets.randbelow(1_000_000):06d}"
    codes = user.__dict__.setdefault(_CODES_ATTRIBUTE, {})
    codes[purpose] = (code, now + LIFETIMES[purpose])
    _outbox.send(user.attribute_lookup.get("email", user.username), SUBJECTS[purpose], code, now)
    return code


def use_code(user: CognitoIdpUser, purpose: str, code: str, now: datetime.datetime | None = None) -> None:
    """Accepts `code` once; CodeMismatchException or ExpiredCodeException otherwise."""
    now = now or datetime.datetime.now(datetime.UTC)
    codes = user.__dict__.get(_CODES_ATTRIBUTE, {})
    pending = codes.get(purpose)
    if pending is None or not secrets.compare_digest(pending[0], code):
        raise CodeMismatchException("Invalid verification code provided, please try again.")
    if now >= pending[1]:
        raise ExpiredCodeException("Invalid code provided, please request a code again.")
    del codes[purpose]


def _pool_and_user(response: CognitoIdpResponse) -> tuple[CognitoIdpBackend, CognitoIdpUserPool, CognitoIdpUser | None]:
    client_id = response._get_param("ClientId")
    account, region = find_account_region_by_value(
        "client_id", client_id, fallback=(response.current_account, response.region)
    )
    backend = cognitoidp_backends[account][region]
    pool = next((pool for pool in backend.user_pools.values() if client_id in pool.clients), None)
    if pool is None:
        from moto.cognitoidp.exceptions import ResourceNotFoundError

        raise ResourceNotFoundError(client_id)
    return backend, pool, pool._get_user(response._get_param("Username"))


def _delivery(user: CognitoIdpUser) -> dict[str, Any]:
    email = user.attribute_lookup.get("email", "")
    local, _, domain = email.partition("@")
    return {"Destination": f"{local[:1]}***@{domain[:1]}***", "DeliveryMedium": "EMAIL", "AttributeName": "email"}


Action = Callable[[CognitoIdpResponse], Any]


def _sending_a_confirmation_code(sign_up: Action) -> Action:
    def sign_up_sending_a_code(response: CognitoIdpResponse) -> Any:
        result = sign_up(response)
        _, _, user = _pool_and_user(response)
        if user is not None and user.status is UserStatus.UNCONFIRMED:
            issue_code(user, CONFIRMATION)
        return result

    setattr(sign_up_sending_a_code, _MARK, True)
    return sign_up_sending_a_code


def _checking_the_code(confirm_sign_up: Action) -> Action:
    def confirm_sign_up_checking_the_code(response: CognitoIdpResponse) -> Any:
        _, _, user = _pool_and_user(response)
        if user is not None and user.status is UserStatus.UNCONFIRMED:
            use_code(user, CONFIRMATION, response._get_param("ConfirmationCode") or "")
        return confirm_sign_up(response)

    return confirm_sign_up_checking_the_code


def _resend_confirmation_code(response: CognitoIdpResponse) -> ActionResult:
    _, _, user = _pool_and_user(response)
    if user is None:
        raise UserNotFoundError("Username/client id combination not found.")
    if user.status is not UserStatus.UNCONFIRMED:
        raise InvalidParameterException("User is already confirmed.")
    issue_code(user, CONFIRMATION)
    return ActionResult({"CodeDeliveryDetails": _delivery(user)})


def _forgot_password(response: CognitoIdpResponse) -> ActionResult:
    _, _, user = _pool_and_user(response)
    if user is None:
        # PreventUserExistenceErrors: an answer like any other, and no message.
        return ActionResult({"CodeDeliveryDetails": {"Destination": "u***@e***", "DeliveryMedium": "EMAIL"}})
    issue_code(user, RESET)
    return ActionResult({"CodeDeliveryDetails": _delivery(user)})


def _confirm_forgot_password(response: CognitoIdpResponse) -> EmptyResult:
    backend, pool, user = _pool_and_user(response)
    if user is None:
        raise CodeMismatchException("Invalid verification code provided, please try again.")
    password = response._get_param("Password") or ""
    backend._validate_password(pool.id, password)
    use_code(user, RESET, response._get_param("ConfirmationCode") or "")
    user.password = password
    if user.status is UserStatus.RESET_REQUIRED:
        user.status = UserStatus.CONFIRMED
    return EmptyResult()
