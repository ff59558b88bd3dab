"""`EmailAddress`: an ASCII address that pydantic's EmailStr also accepts, documented by a pattern that says which.

EmailStr's check is email-validator's, which no JSON Schema can state (it refuses special-use domains such as
`.test`, labels like `ab--c`, numeric top-level domains, …), so a client generated from `format: email` alone would
send addresses the API refuses. The pattern below is a common subset of that check and of what the user pool
accepts on every stack, written out; an address must match it *and* pass email-validator (through pydantic's own
`validate_email`, normalised the same way), and the unit tests prove that whatever matches the pattern passes both.
Internationalised addresses, and local parts with characters other than letters, digits and `._%+-`, are refused.

email-validator is imported at the first check rather than when a model is defined, as EmailStr does: that import
is off every function's cold start (docs/benchmarks.md, "Cold start").
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field
from pydantic.networks import validate_email

from lambdas.shared.models import WHITE_SPACE, trimmed

MAX_LENGTH = 254
SPECIAL_USE_DOMAINS = ("arpa", "invalid", "local", "localhost", "onion", "test")  # email-validator refuses them

# Written without lookaheads where it can be, so that generators (Schemathesis, Hypothesis) draw from it cheaply:
# the lengths are bounded by the repetitions (local part at most 64, domain at most 252) instead.
# The local part's characters are those Cognito's emulator (moto) takes, so that every stack accepts the same
# addresses: letters, digits and `_%+-`, in up to three dot-separated runs, the first starting with a letter, a digit
# or `_`.
_RUN = "[A-Za-z0-9_%+-]"
_LOCAL = (
    f"[A-Za-z0-9_](?:{_RUN}{{0,63}}|{_RUN}{{0,30}}\\.{_RUN}{{1,32}}|{_RUN}{{0,19}}\\.{_RUN}{{1,20}}\\.{_RUN}{{1,20}})"
)
# Labels of at most 62 characters, hyphens single and inside (so never the `ab--` email-validator refuses).
_LABEL = "[A-Za-z0-9]{1,20}(?:-[A-Za-z0-9]{1,20}){0,2}"
_ANY_CASE_SPECIAL = "|".join("".join(f"[{c.upper()}{c}]" for c in name) for name in SPECIAL_USE_DOMAINS)
# A top-level domain of 2 to 63 letters (as Cognito's emulator requires; real ones are), not a special-use one.
_TOP_LEVEL = f"(?!(?:{_ANY_CASE_SPECIAL})(?:[{WHITE_SPACE}]|$))[A-Za-z]{{2,63}}"
ADDRESS = f"{_LOCAL}@(?:{_LABEL}\\.){{1,3}}{_TOP_LEVEL}"
PATTERN = trimmed(ADDRESS)
_TRIMMED_ADDRESS = re.compile(f"[{WHITE_SPACE}]*({ADDRESS})[{WHITE_SPACE}]*")


def _normalised(value: str) -> str:
    trimmed_value = _TRIMMED_ADDRESS.fullmatch(value)
    if trimmed_value is None:
        raise ValueError("must be a valid email address, such as name@example.com: in ASCII, on a public domain")
    return validate_email(trimmed_value[1])[1]


EmailAddress = Annotated[
    str,
    Field(max_length=MAX_LENGTH),
    AfterValidator(_normalised),
    # No `format: email`: that format admits no whitespace, and the address is trimmed as every text field is.
    Field(json_schema_extra={"pattern": PATTERN}, description="An email address in ASCII, on a public domain"),
]
