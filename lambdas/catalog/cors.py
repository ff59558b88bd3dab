"""Which browser origins may call the API, and the CORS headers every answer gives them.

One list of allowed origins per stack (`serverless-platform:corsAllowedOrigins`, the embedded stack's
`StackSettings.cors_allowed_origins`). An entry is an exact origin (`https://app.example.com`) or one with `*`
standing for one port or one DNS label (`http://localhost:*`, `https://*.example.com`): a `*` never matches a dot or
a slash, so `http://localhost:*` does not match `http://localhost:1.evil.example`. An answer echoes the request's
`Origin` when it matches (with `Vary: Origin`), and says nothing otherwise, so the browser refuses to hand it over.

The same rule runs in three places: the functions (`lambdas/shared/api.py`, reading ``CORS_ALLOWED_ORIGINS``), the
deployed API's preflight mock (a Java regular expression in its mapping template, `origin_regex`), and the embedded
gateway.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from functools import cache

ENV_VAR = "CORS_ALLOWED_ORIGINS"
# What a browser may send beyond the CORS-safelisted headers, and what a script may read beyond the safelisted ones.
ALLOWED_HEADERS = ("Authorization", "Content-Type", "Idempotency-Key")
EXPOSED_HEADERS = ("Location", "Link", "Retry-After")
MAX_AGE_SECONDS = 600  # Chromium caps a preflight cache at 2 hours, Firefox at 24; 10 minutes is quick to change.
DEV_ORIGINS = ("http://localhost:*", "http://127.0.0.1:*")

_WILDCARD = "[A-Za-z0-9-]+"


def origin_regex(allowed: Iterable[str]) -> str:
    """One anchored regular expression matching exactly the allowed origins (same meaning in Python and Java)."""
    alternatives = [_literal(pattern) for pattern in allowed]
    return "^(?:" + "|".join(alternatives) + ")$" if alternatives else "(?!)"


def _literal(pattern: str) -> str:
    return _WILDCARD.join(re.escape(piece) for piece in pattern.rstrip("/").split("*"))


@cache
def _compiled(allowed: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(origin_regex(allowed))


def is_allowed(origin: str | None, allowed: Sequence[str]) -> bool:
    return bool(origin) and bool(allowed) and _compiled(tuple(allowed)).match(origin or "") is not None


def response_headers(origin: str | None, allowed: Sequence[str]) -> dict[str, str]:
    """The headers an actual (not preflight) answer adds for `origin`: none when it may not read the answer."""
    if not is_allowed(origin, allowed):
        return {}
    return {
        "Access-Control-Allow-Origin": str(origin),
        "Access-Control-Expose-Headers": ", ".join(EXPOSED_HEADERS),
        "Vary": "Origin",
    }


def preflight_headers(origin: str | None, allowed: Sequence[str], methods: Iterable[str]) -> dict[str, str]:
    """The answer to a preflight (`OPTIONS`) on a resource serving `methods`."""
    headers = {
        "Access-Control-Allow-Methods": ", ".join(sorted({*methods, "OPTIONS"})),
        "Access-Control-Allow-Headers": ", ".join(ALLOWED_HEADERS),
        "Access-Control-Max-Age": str(MAX_AGE_SECONDS),
        "Vary": "Origin",
    }
    if is_allowed(origin, allowed):
        headers["Access-Control-Allow-Origin"] = str(origin)
    return headers


def environment(allowed: Sequence[str]) -> dict[str, str]:
    """What a function's environment carries: the list as JSON."""
    return {ENV_VAR: json.dumps(list(allowed))}


def from_environment(environ: Mapping[str, str]) -> tuple[str, ...]:
    return tuple(json.loads(environ.get(ENV_VAR) or "[]"))
