from __future__ import annotations

import pytest

from lambdas.tenants.website import normalise_website

LABEL_63 = "a" * 63
NAME_253 = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 57, "com"])  # 63+63+63+57+3 + 4 dots = 253
NAME_254 = "e" + NAME_253

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
    ("xn--zz.com", "invalid punycode"),
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
