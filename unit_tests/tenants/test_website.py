"""The website rule (normalise_website: what DNS and IDNA take) and its form in the document (WEBSITE_PATTERN),
which the API holds to (`website`): whatever the pattern admits, read as Schemathesis reads it (jsonschema_rs) or
as Python does, is a valid website, and what it refuses the API refuses."""

from __future__ import annotations

import re

import idna
import jsonschema_rs
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from lambdas.tenants.website import LATIN_LETTERS, WEBSITE_PATTERN, normalise_website, website

LABEL_63 = "a" * 63
NAME_253 = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 57, "com"])  # 63+63+63+57+3 + 4 dots = 253
NAME_254 = "e" + NAME_253
LABELS_127 = "a." * 126 + "b"  # the most labels DNS allows: 127, in 253 characters

VALID = [
    ("example.com", "example.com"),
    ("Example.COM", "example.com"),
    ("  example.com  ", "example.com"),
    ("example.com.", "example.com"),
    ("sub.domain.example.co.uk", "sub.domain.example.co.uk"),
    ("my-site.io", "my-site.io"),
    ("a1.b2", "a1.b2"),
    ("123.example", "123.example"),
    ("x.y", "x.y"),
    (f"{LABEL_63}.com", f"{LABEL_63}.com"),
    (NAME_253, NAME_253),
    ("https://Example.com/about", "example.com"),
    ("http://example.com", "example.com"),
    ("https://example.com:8443/a?b=c#d", "example.com"),
    ("HTTPS://WWW.EXAMPLE.COM/", "www.example.com"),
    ("bücher.de", "xn--bcher-kva.de"),
    ("BÜCHER.de", "xn--bcher-kva.de"),
    ("xn--bcher-kva.de", "xn--bcher-kva.de"),
    ("例え.jp", "xn--r8jz45g.jp"),
    ("https://münchen.de/stadt", "xn--mnchen-3ya.de"),
    ("example.xn--p1ai", "example.xn--p1ai"),
    ("ab--cd.com", "ab--cd.com"),
    ("xn--zz.com", "xn--zz.com"),  # LDH, as DNS takes it: punycode's validity is the registry's rule
    ("XN--BCHER-KVA.DE", "xn--bcher-kva.de"),
    ("straße.de", "xn--strae-oqa.de"),  # IDNA 2008: not strasse.de
    ("ab--cd.bücher.de", "ab--cd.xn--bcher-kva.de"),  # an ASCII label beside an IDN is DNS's, not IDNA's
    ("bücher。de", "xn--bcher-kva.de"),  # UTS 46 maps the ideographic full stop
    (LABELS_127, LABELS_127),
]

INVALID = [
    ("", "must be a domain name"),
    ("   ", "must be a domain name"),
    ("localhost", "top-level domain"),
    ("example", "top-level domain"),
    ("example.123", "all-digit top-level domain"),
    ("192.168.0.1", "IP address"),
    ("https://10.0.0.1/", "IP address"),
    ("[::1]", "domain name such as"),
    ("http://[::1]/", "IP address"),
    ("exa_mple.com", "only letters, digits, hyphens"),
    ("exa mple.com", "spaces"),
    ("example .com", "spaces"),
    ("-example.com", "starts or ends with a hyphen"),
    ("example-.com", "starts or ends with a hyphen"),
    ("example.-com", "starts or ends with a hyphen"),
    (f"{'a' * 64}.com", "longer than 63"),
    (NAME_254, "at most 253"),
    ("example..com", "empty labels"),
    (".example.com", "empty labels"),
    ("example.com..", "empty labels"),
    ("example.com/path", "domain name such as"),
    ("user@example.com", "domain name such as"),
    ("ftp://example.com", "http(s) URL"),
    ("https://user:pass@example.com", "user name or password"),
    ("https:///path-only", "must be a domain name"),
    ("https://example.com:99999", "valid port"),
    ("exam!ple.com", "only letters, digits, hyphens"),
    ("ab--cü.de", "internationalised"),
    ("☃.☃", "internationalised"),
]


@pytest.mark.parametrize(("raw", "expected"), VALID)
def test_accepts_and_normalises(raw: str, expected: str) -> None:
    assert normalise_website(raw) == expected


@pytest.mark.parametrize(("raw", "reason"), INVALID)
def test_rejects_with_a_reason(raw: str, reason: str) -> None:
    with pytest.raises(ValueError, match=None) as error:
        normalise_website(raw)
    assert reason in str(error.value)


def test_the_table_is_large_enough() -> None:
    assert len(VALID) + len(INVALID) >= 30
    assert len(NAME_253) == 253 and len(NAME_254) == 254


DOCUMENTED = jsonschema_rs.validator_for({"type": "string", "pattern": WEBSITE_PATTERN})


def documented(raw: str) -> bool:
    """Whether the document admits `raw`, read by Schemathesis' engine and by Python's alike (or the test fails)."""
    by_rust = DOCUMENTED.is_valid(raw)
    assert by_rust == (re.search(WEBSITE_PATTERN, raw) is not None), raw
    return by_rust


def accepted(raw: str) -> str | None:
    try:
        return str(website(raw))
    except ValueError:
        return None


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("bücher.de", "xn--bcher-kva.de"),
        ("https://Bücher.de:8443/shop?q=1", "xn--bcher-kva.de"),
        ("xn--bcher-kva.de", "xn--bcher-kva.de"),
        ("straße.de", "xn--strae-oqa.de"),
        ("łódź.pl", "xn--d-uga0v4h.pl"),
        ("äöüßéèñçł.example", None),  # 9 letters beyond ASCII: more than the document's 7
        ("äöüßéèñ.example", "xn--zcajnd5b0a6b.example"),
        ("a.b.c.d.e.f.g.h.example.com", "a.b.c.d.e.f.g.h.example.com"),  # more than 6 labels: DNS allows 127
        (LABELS_127, LABELS_127),
        (NAME_253, NAME_253),
        (NAME_253 + ".", NAME_253),
        (NAME_254, None),
        (f"{LABEL_63}.com", f"{LABEL_63}.com"),
        (f"{'a' * 64}.com", None),
        ("a.b", "a.b"),
        ("xn--zz.com", "xn--zz.com"),
        ("https://example.com:65535/", "example.com"),
        ("https://example.com:65536/", None),
        ("example.com\n", None),  # Python's `$` alone would admit it
        ("bücher.123", None),
        ("例え.jp", None),  # sent as xn--r8jz45g.jp
        ("xn--r8jz45g.jp", "xn--r8jz45g.jp"),
        ("ab--cü.de", None),
        ("a" * 36 + "ü.de", "xn--" + "a" * 36 + "-e1d.de"),  # an IDN label of 37 characters
        ("a" * 37 + "ü.de", None),
    ],
)
def test_the_document_admits_a_website_exactly_when_the_api_accepts_it(raw: str, stored: str | None) -> None:
    assert documented(raw) == (stored is not None)
    assert accepted(raw) == stored


def test_a_message_says_to_send_other_scripts_in_their_xn_form() -> None:
    with pytest.raises(ValueError, match="xn-- form"):
        website("例え.jp")


@pytest.mark.parametrize(
    "letter", [chr(point) for point in range(0xC0, 0x180) if re.match(f"[{LATIN_LETTERS}]", chr(point))]
)
def test_every_latin_letter_the_document_admits_is_valid_anywhere_in_a_label(letter: str) -> None:
    for label in (letter, f"a{letter}", f"{letter}a", f"a{letter}a", letter * 2, f"{letter}-{letter}", f"0{letter}"):
        assert idna.encode(label, uts46=True)
    (mapped,) = idna.uts46_remap(letter, std3_rules=True, transitional=False)  # one letter, below U+0180
    assert ord(mapped) < 0x180


def test_the_longest_documented_idn_labels_fit_in_63_characters_as_a_labels() -> None:
    # The highest letters, in the order punycode writes largest: each delta as big as the class allows.
    highest = [chr(point) for point in range(0x17E, 0xBF, -1) if re.match(f"[{LATIN_LETTERS}]", chr(point))][:7]
    for letters in (highest, highest[::-1], highest[::2] + highest[1::2]):
        label = "a" * 30 + "".join(letters)
        assert documented(f"{label}.de")
        assert len(normalise_website(f"{label}.de").split(".")[0]) <= 63


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.from_regex(WEBSITE_PATTERN, fullmatch=True))
@example("ä.ä.ä.ä.ä.ä.ä")
@example("ä." + "a." * 96 + "dee")  # 197 characters as typed, 203 as stored
def test_every_website_the_pattern_generates_is_accepted(raw: str) -> None:
    assert documented(raw)
    assert accepted(raw) is not None


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.text(alphabet="aZ0-.:/äßÀ_ 例\n", max_size=24) | st.text())
@example("bücher.de\n")
@example("xn--bcher-kva.de.")
def test_the_api_accepts_a_website_exactly_when_the_document_admits_it(raw: str) -> None:
    assert (accepted(raw) is not None) == documented(raw)


@pytest.mark.parametrize("raw", ["a" * 2048, "a-" * 1024, "ä" * 2048, "a." * 1024, "aä." * 682, "http://" + "a" * 2041])
def test_a_long_hostile_value_is_refused_at_once(raw: str) -> None:
    assert accepted(raw) is None  # no catastrophic backtracking: this would hang
