"""A tenant's website: one domain name, normalised.

Accepted: a bare domain (``Example.COM``), its absolute form (``example.com.``), or an http(s) URL, of which
only the host is kept (``https://Example.com:8443/about?x=1`` -> ``example.com``): people paste URLs, and the
domain is what identifies the website. Internationalised names are stored in their punycode (A-label) form, so
``Bücher.de`` and ``xn--bcher-kva.de`` are one website. Rejected: IP addresses, single labels (``localhost``), an
all-digit top-level domain, underscores, spaces, labels over 63 characters and names over 253 (in the stored form),
URLs with another scheme or with user info.

An ASCII label is taken as DNS takes it, letters, digits and hyphens, ``xn--`` labels included: whether one is
valid punycode is the registry's rule, not DNS's, and no pattern can state it.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

import idna

from lambdas.shared.models import NO_LINE_FEED

MAX_NAME_LENGTH = 253
MAX_LABEL_LENGTH = 63
# Latin letters beyond ASCII that IDNA 2008 (with UTS 46's mapping of capitals) allows anywhere in a label, each one
# code point below U+0180 once mapped: what an internationalised name in the document may hold (test_website proves
# it for each). A label of Cyrillic, CJK, ... is sent in its xn-- form.
LATIN_LETTERS = "\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u012f\u0131\u0134-\u013e\u0141-\u0148\u014a-\u017f"
# Punycode writes each such letter in at most 4 characters (every delta is below (0x180 - 0x80) * 64 + 64 < 28886,
# the least a 4-digit generalised integer holds), so a label of n characters, k of them beyond ASCII, is at most
# 5 + n + 3k long as an A-label: with n <= 37 and k <= 7, at most 63. A name with k <= 7 such letters in all grows
# by at most 8 a letter (the xn-- and hyphen once a label, 3 more a letter): 197 characters make at most 253.
MAX_LATIN_LETTERS = 7
MAX_INTERNATIONAL_LABEL = 37
MAX_INTERNATIONAL_NAME = 197

_LDH = "A-Za-z0-9-"
_ASCII_LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_LETTER_OR_DIGIT = f"A-Za-z0-9{LATIN_LETTERS}"
_ANY = f"{_LETTER_OR_DIGIT}-"
_INTERNATIONAL_LABEL = (
    f"(?![{_ANY}]{{{MAX_INTERNATIONAL_LABEL + 1}}})"  # at most 37 characters
    f"(?![{_ANY}]{{2}}--)"  # IDNA reserves hyphens in the 3rd and 4th places (xn--)
    f"[{_LETTER_OR_DIGIT}](?:[{_ANY}]*[{_LETTER_OR_DIGIT}])?"
)


def _not_all_digits(label_characters: str) -> str:
    """A lookahead: the label here is not all digits (a top-level domain never is)."""
    return f"(?![0-9]+(?![{label_characters}]))"


def _at_most(length: int, label_characters: str) -> str:
    """A lookahead: a name of at most `length` characters here, besides a final dot (the absolute form)."""
    return f"(?![{label_characters}.]{{{length + 2}}}|[{label_characters}.]{{{length}}}[{label_characters}])"


_ASCII_NAME = f"{_at_most(MAX_NAME_LENGTH, _LDH)}(?:{_ASCII_LABEL}\\.)+{_not_all_digits(_LDH)}{_ASCII_LABEL}\\.?"
_LABEL = f"(?:{_ASCII_LABEL}|{_INTERNATIONAL_LABEL})"
_INTERNATIONAL_NAME = f"{_at_most(MAX_INTERNATIONAL_NAME, _ANY)}(?:{_LABEL}\\.)+{_not_all_digits(_ANY)}{_LABEL}\\.?"
_HOST = f"(?:{_ASCII_NAME}|{_INTERNATIONAL_NAME})"
_PORT = "[0-9]{1,4}|[0-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]"
# What the OpenAPI document promises and the API holds to (`website`): a domain name of labels of letters, digits and
# hyphens bounded as DNS bounds them, with at most 7 Latin letters beyond ASCII in all, alone or as the host of an
# http(s) URL with an optional port and path. Every value it admits is a valid website.
WEBSITE_PATTERN = (
    f"^{NO_LINE_FEED}(?![^{LATIN_LETTERS}]*(?:[{LATIN_LETTERS}][^{LATIN_LETTERS}]*){{{MAX_LATIN_LETTERS + 1}}})"
    f"(?:{_HOST}|[Hh][Tt][Tt][Pp][Ss]?://{_HOST}(?::(?:{_PORT}))?(?:[/?#][!-~]*)?)$"
)
_LABEL_CHARACTERS = re.compile(r"^[a-z0-9-]+$")


def website(raw: object) -> object:
    """The API's rule: `raw` normalised, if it is a website and has the form WEBSITE_PATTERN describes."""
    if not isinstance(raw, str):
        return raw  # pydantic's type check answers
    name = normalise_website(raw)
    if not re.fullmatch(WEBSITE_PATTERN, raw):
        raise ValueError(
            "must be a domain name, with no more than 7 Latin letters beyond ASCII (any other internationalised "
            "name in its xn-- form), or an http(s) URL of one, as the pattern in the API's schema describes"
        )
    return name


def normalise_website(raw: str) -> str:
    """The domain name of `raw` in lower-case ASCII, or ValueError saying why it is not one."""
    value = _host_of(raw.strip())
    if not value:
        raise ValueError("must be a domain name such as example.com")
    if any(character.isspace() for character in value):
        raise ValueError("must not contain spaces")
    value = value.removesuffix(".")  # the absolute form names the same domain
    if _is_ip_address(value):
        raise ValueError("must be a domain name, not an IP address")
    if not value.isascii():  # UTS 46 maps capitals to small letters, and the ideographic full stop to a dot
        value = idna.uts46_remap(value, std3_rules=False, transitional=False)
    labels = [_to_ascii(label) for label in value.split(".")]
    name = ".".join(labels)
    if len(name) > MAX_NAME_LENGTH:
        raise ValueError(f"must be at most {MAX_NAME_LENGTH} characters long")
    if len(labels) < 2:
        raise ValueError("must include a top-level domain, such as example.com")
    for label in labels:
        _check_label(label)
    if labels[-1].isdigit():
        raise ValueError("must not have an all-digit top-level domain")
    return name


def _host_of(value: str) -> str:
    if "://" not in value:
        if any(character in value for character in "/?#@:"):
            raise ValueError("must be a domain name such as example.com, or an http(s) URL")
        return value
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError("must be a domain name or an http(s) URL")
    if "@" in parts.netloc:
        raise ValueError("must not include a user name or password")
    try:
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError as error:
        raise ValueError("must have a valid port, if any") from error
    return parts.hostname or ""


def _is_ip_address(value: str) -> bool:
    try:
        ipaddress.ip_address(value.strip("[]"))
    except ValueError:
        return False
    return True


def _to_ascii(label: str) -> str:
    """One label as DNS stores it. Labels are encoded one by one: IDNA's rules for U-labels (no `--` in the 3rd and
    4th places, valid punycode) are not DNS's rules for the ASCII labels beside them."""
    if label.isascii():
        return label.lower()
    try:
        return idna.encode(label).decode("ascii")
    except idna.IDNAError:  # its message quotes the name
        raise ValueError("is not a valid internationalised domain name") from None


def _check_label(label: str) -> None:
    if not label:
        raise ValueError("must not contain empty labels (two dots in a row)")
    if len(label) > MAX_LABEL_LENGTH:
        raise ValueError(f"has a label longer than {MAX_LABEL_LENGTH} characters")
    if not _LABEL_CHARACTERS.match(label):
        raise ValueError("may contain only letters, digits, hyphens and dots")
    if label.startswith("-") or label.endswith("-"):
        raise ValueError("must not have a label that starts or ends with a hyphen")
