"""The user pool's password policy, as declared in the catalog, checked before Cognito is asked.

Cognito enforces the same policy (the Pulumi program and the embedded stack both create the pool from
`catalog.USER_POOL`), but its InvalidPasswordException names one rule at best; checking first lets a sign-up
answer with every rule the password breaks. Cognito's definitions are used: a symbol is one of the characters
listed in SYMBOLS, or a space that is neither first nor last; letters are the basic Latin ones.
https://docs.aws.amazon.com/cognito/latest/developerguide/managing-users-passwords.html

Any password, new or typed at login, has the form Cognito's Password parameter takes: one line, with no space at
either end. The document states that form with explicit classes (WHITE_SPACE, CONTROL) rather than `\\S` and `.`,
which Python's, ECMAScript's and Rust's regex engines read differently (Schemathesis reads patterns as Rust does).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from lambdas.catalog import USER_POOL, UserPool
from lambdas.shared.models import CONTROL, NO_LINE_FEED, WHITE_SPACE

SYMBOLS = "^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+-"
MAX_LENGTH = 256  # Cognito's limit for the Password parameter
_EDGE = f"[^{WHITE_SPACE}{CONTROL}]"  # a first or last character
_INNER = f"[^{CONTROL}]"
_SPACE_AT_AN_END = re.compile(f"^[{WHITE_SPACE}]|[{WHITE_SPACE}]$")
_HAS_CONTROL = re.compile(f"[{CONTROL}]")
# A password Cognito could hold, whatever the policy: what a login may send.
PASSWORD_PATTERN = f"^{NO_LINE_FEED}{_EDGE}(?:{_INNER}{{0,{MAX_LENGTH - 2}}}{_EDGE})?$"


def _has_symbol(password: str) -> bool:
    return any(character in SYMBOLS for character in password) or " " in password[1:-1]


_RULES: dict[str, tuple[Callable[[str], bool], str]] = {
    "lowercase": (lambda password: re.search(r"[a-z]", password) is not None, "must contain a lowercase letter"),
    "uppercase": (lambda password: re.search(r"[A-Z]", password) is not None, "must contain an uppercase letter"),
    "numbers": (lambda password: re.search(r"[0-9]", password) is not None, "must contain a number"),
    "symbols": (_has_symbol, "must contain a symbol, such as ! @ # $ % ^ & * - _ = +"),
}


_CLASSES = {"lowercase": "[a-z]", "uppercase": "[A-Z]", "numbers": "[0-9]"}


def policy_pattern(pool: UserPool = USER_POOL) -> str:
    """The policy as one regular expression (ECMA and Python alike), for the OpenAPI document: a client that
    generates passwords from it makes valid ones. Symbols include a space, which the pattern allows only inside."""
    symbols = "".join(f"\\{c}" if c in "\\]^-[" else c for c in SYMBOLS)
    classes = {**_CLASSES, "symbols": f"[ {symbols}]"}
    required = "".join(f"(?=.*{classes[rule]})" for rule in pool.password_requires)
    return f"^{NO_LINE_FEED}{required}{_EDGE}{_INNER}{{{pool.password_min_length - 2},{MAX_LENGTH - 2}}}{_EDGE}$"


def broken_rules(password: str, pool: UserPool = USER_POOL) -> list[str]:
    """Why `password` does not meet `pool`'s policy, one message per rule broken; empty when it does."""
    broken = []
    if len(password) < pool.password_min_length:
        broken.append(f"must be at least {pool.password_min_length} characters long")
    broken += broken_form(password)
    for rule in pool.password_requires:
        meets, message = _RULES[rule]
        if not meets(password):
            broken.append(message)
    return broken


def broken_form(password: str) -> list[str]:
    """Why `password` cannot be any user's password, whatever the policy (PASSWORD_PATTERN); empty when it can."""
    broken = []
    if len(password) > MAX_LENGTH:
        broken.append(f"must be at most {MAX_LENGTH} characters long")
    if _SPACE_AT_AN_END.search(password):
        # Cognito's own pattern for a password; stripping it silently would set a password the user never typed.
        broken.append("must not begin or end with a space")
    if _HAS_CONTROL.search(password):
        broken.append("must be one line, without line breaks or control characters")
    return broken
