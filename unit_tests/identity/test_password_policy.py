"""The user pool's password policy, and its pattern in the document: whatever the pattern admits, read by
Schemathesis' engine (jsonschema_rs, Rust) or Python's, the API accepts, and what it refuses the API refuses."""

from __future__ import annotations

import re

import jsonschema_rs
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from lambdas.catalog import UserPool
from lambdas.identity.password_policy import PASSWORD_PATTERN, broken_form, broken_rules, policy_pattern

STRONG = "Correct-Horse-42"


@pytest.mark.parametrize(
    ("password", "broken"),
    [
        (STRONG, []),
        ("Aa1!aaaaaaaa", []),  # exactly 12
        ("Aa1!aaaaaaa", ["must be at least 12 characters long"]),
        ("correct-horse-42", ["must contain an uppercase letter"]),
        ("CORRECT-HORSE-42", ["must contain a lowercase letter"]),
        ("Correct-Horse-xx", ["must contain a number"]),
        ("CorrectHorse4242", ["must contain a symbol, such as ! @ # $ % ^ & * - _ = +"]),
        ("Correct Horse 42", []),  # an inner space counts as a symbol, as in Cognito
        (
            " CorrectHorse42",
            ["must not begin or end with a space", "must contain a symbol, such as ! @ # $ % ^ & * - _ = +"],
        ),
        ("Correct-Horse-42 ", ["must not begin or end with a space"]),
        ("Correct-Horse-42\u3000", ["must not begin or end with a space"]),  # any Unicode White_Space
        ("\x1fCorrect-Horse-42", ["must be one line, without line breaks or control characters"]),
        ("Correct\rHorse-42", ["must be one line, without line breaks or control characters"]),
        ("Correct\u2028Horse-42", ["must be one line, without line breaks or control characters"]),
        ("\ufeffCorrect-Horse-42", []),  # a BOM is not White_Space, though ECMAScript's \\s says it is
        ("Ünïcödé-Pass-42x", []),  # non-Latin letters are allowed, the rules count the Latin ones
        ("ÜNÏCÖDÉ-PASS-42X", ["must contain a lowercase letter"]),
        ("Aa1!" + "a" * 253, ["must be at most 256 characters long"]),
        (
            "",
            [
                "must be at least 12 characters long",
                "must contain a lowercase letter",
                "must contain an uppercase letter",
                "must contain a number",
                "must contain a symbol, such as ! @ # $ % ^ & * - _ = +",
            ],
        ),
    ],
)
def test_the_catalogs_policy(password: str, broken: list[str]) -> None:
    assert broken_rules(password) == broken


@pytest.mark.parametrize("symbol", list("^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+-"))
def test_every_cognito_symbol_counts(symbol: str) -> None:
    assert broken_rules(f"CorrectHorse42{symbol}") == []


def test_another_pool_s_policy() -> None:
    lenient = UserPool(
        name="p", client_name="c", admin_group="g", password_min_length=6, password_requires=("numbers",)
    )

    assert broken_rules("abcdef1", lenient) == []
    assert broken_rules("abcdef", lenient) == ["must contain a number"]


POLICY = policy_pattern()
TRICKY = [
    "Correct-Horse-42",
    " Correct-Horse-42",
    "Correct-Horse-42\n",
    "\x1fCorrect-Horse-42",
    "Correct-Horse-42\x1c",
    "\ufeffCorrect-Horse-42",
    "Correct-Horse-42\x85",
    "Correct\rHorse-42",
    "Correct\u2029Horse-42",
    "Correct\tHorse-42",
    "Correct Horse 42",
]


@pytest.mark.parametrize("password", TRICKY)
def test_the_documented_policy_admits_exactly_what_the_api_accepts(password: str) -> None:
    accepted = broken_rules(password) == []

    assert jsonschema_rs.validator_for({"type": "string", "pattern": POLICY}).is_valid(password) == accepted
    assert (re.search(POLICY, password) is not None) == accepted


@pytest.mark.parametrize("password", [*TRICKY, "x", "Ab", "  ", "x" * 256, "x" * 257, ""])
def test_the_documented_form_of_any_password_admits_exactly_what_a_login_accepts(password: str) -> None:
    accepted = password != "" and broken_form(password) == []

    assert jsonschema_rs.validator_for({"type": "string", "pattern": PASSWORD_PATTERN}).is_valid(password) == accepted
    assert (re.search(PASSWORD_PATTERN, password) is not None) == accepted


@given(st.from_regex(POLICY, fullmatch=True) | st.text(min_size=10, max_size=20))
@example("\x1fCorrect-Horse-42")
def test_a_generated_password_is_documented_as_valid_exactly_when_the_api_accepts_it(password: str) -> None:
    documented = jsonschema_rs.validator_for({"type": "string", "pattern": POLICY}).is_valid(password)

    assert documented == (broken_rules(password) == [])
