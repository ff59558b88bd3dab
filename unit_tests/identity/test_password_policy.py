from __future__ import annotations

import pytest

from lambdas.catalog import UserPool
from lambdas.identity.password_policy import broken_rules

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
