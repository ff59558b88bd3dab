"""A tenant's website: one domain name, normalised.

Accepted: a bare domain (``Example.COM``), its absolute form (``example.com.``), or an http(s) URL, of which
only the host is kept (``https://Example.com:8443/about?x=1`` -> ``example.com``): people paste URLs, and the
domain is what identifies the website. Internationalised names are stored in their punycode (A-label) form.
Rejected: IP addresses, single labels (``localhost``), an all-digit top-level domain, underscores, spaces,
labels over 63 characters, names over 253 characters, URLs with another scheme or with user info.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

import idna

# What the OpenAPI document promises, and pydantic checks before normalise_website: a domain name in ASCII (an
# internationalised one in its punycode form) of 2 to 6 labels of at most 42 characters (so at most 253 in all),
# the last of 2 to 24 starting with a letter (as every top-level domain does),
# alone, or as the host of an http(s) URL with an optional port below 10000 and path. Narrower than what
# normalise_website accepts, so that any value a client generates from the document is a valid website.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,40}[A-Za-z0-9])?"
_DOMAIN = rf"(?:{_LABEL}\.){{1,5}}[A-Za-z][A-Za-z0-9-]{{0,22}}[A-Za-z0-9]\.?"
WEBSITE_PATTERN = rf"^(?:{_DOMAIN}|[Hh][Tt][Tt][Pp][Ss]?://{_DOMAIN}(?::[1-9][0-9]{{0,3}})?(?:/[!-~]*)?)$"
MAX_NAME_LENGTH = 253
MAX_LABEL_LENGTH = 63
_LABEL_CHARACTERS = re.compile(r"^[a-z0-9-]+$")


def website(raw: object) -> object:
    """The API's rule: `raw` normalised, if it is a website and has the form WEBSITE_PATTERN describes."""
    if not isinstance(raw, str):
        return raw  # pydantic's type check answers
    name = normalise_website(raw)
    if not re.match(WEBSITE_PATTERN, raw):
        raise ValueError(
            "must be an ASCII domain name of at most 6 labels (an internationalised one in its xn-- form), or an "
            "http(s) URL of one, as the pattern in the API's schema describes"
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
    name = _to_ascii(value)
    if len(name) > MAX_NAME_LENGTH:
        raise ValueError(f"must be at most {MAX_NAME_LENGTH} characters long")
    labels = name.split(".")
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


def _to_ascii(value: str) -> str:
    if value.isascii():
        return value.lower()
    try:
        return idna.encode(value, uts46=True).decode("ascii")
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
    if label.startswith("xn--"):
        try:
            idna.decode(label)
        except idna.IDNAError:
            raise ValueError("has an invalid punycode label") from None
