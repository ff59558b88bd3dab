"""EmailAddress: whatever its documented pattern admits, pydantic's EmailStr (email-validator) and the embedded
stack's user pool accept, normalised as EmailStr does; what the pattern refuses is refused; email-validator is
imported only when an address is checked."""

from __future__ import annotations

import re
import subprocess
import sys

import jsonschema_rs
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from moto.cognitoidp.utils import validate_username_format
from pydantic import EmailStr, TypeAdapter, ValidationError

from lambdas.shared.email_address import PATTERN, EmailAddress

EMAIL_STR = TypeAdapter(EmailStr)
EMAIL_ADDRESS = TypeAdapter(EmailAddress)
DOCUMENTED = jsonschema_rs.validator_for({"type": "string", "pattern": PATTERN, "maxLength": 254})


def accepted(adapter: TypeAdapter[str], value: str) -> str | None:
    try:
        return adapter.validate_python(value)
    except ValidationError:
        return None


@given(st.from_regex(PATTERN, fullmatch=True) | st.emails())
def test_what_the_pattern_admits_email_str_accepts_and_so_do_we(value: str) -> None:
    assume(DOCUMENTED.is_valid(value))
    assert accepted(EMAIL_ADDRESS, value) == accepted(EMAIL_STR, value.strip()) is not None  # the models trim
    assert validate_username_format(value.strip())  # what the embedded stack's user pool takes as an email


@pytest.mark.parametrize(
    "value",
    [
        "ada@example.com",
        " Ada.Lovelace+tag@Example.COM ",
        "ada_lovelace%home@example.co.uk",
        "a@b.co",
        "x" * 64 + "@example.com",
        "ada@" + ".".join(["a" * 20] * 3) + ".com",
    ],
)
def test_addresses_people_have_are_accepted_as_email_str_accepts_them(value: str) -> None:
    assert re.search(PATTERN, value)
    assert accepted(EMAIL_ADDRESS, value) == accepted(EMAIL_STR, value) is not None


@pytest.mark.parametrize(
    "value",
    [
        "ada@example.test",
        "ada@Example.LOCAL",
        "ada@localhost",
        "ada@example",
        "ada@[127.0.0.1]",
        "ada@1.2",
        "ada@ab--c.com",
        "ada..lovelace@example.com",
        ".ada@example.com",
        "x" * 65 + "@example.com",
        "ada@" + ".".join(["a" * 63] * 4) + ".com",
        "ada@münchen.de",
        "o'brien@example.com",
        "ada#1@example.com",
        "ada@example.c0m",
        "ädä@example.com",
        '"ada lovelace"@example.com',
        "Ada <ada@example.com>",
        "ada\n@example.com",
        "",
        "ada",
    ],
)
def test_what_the_pattern_refuses_is_refused(value: str) -> None:
    assert not DOCUMENTED.is_valid(value)
    assert accepted(EMAIL_ADDRESS, value) is None


@given(st.text(max_size=40))
def test_we_accept_only_what_the_document_admits(value: str) -> None:
    if accepted(EMAIL_ADDRESS, value) is not None:
        assert DOCUMENTED.is_valid(value)


def test_a_model_using_it_does_not_import_email_validator_until_it_checks_an_address() -> None:
    probe = (
        "import sys\n"
        "from lambdas.tenants.models import NewTenant\n"
        "assert 'email_validator' not in sys.modules\n"
        "NewTenant.model_validate({'name': 'n', 'website': 'example.com', 'contactEmail': 'a@example.com'})\n"
        "assert 'email_validator' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", probe], check=True)
