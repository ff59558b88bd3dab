"""JSON request bodies parsed with limits, so a hostile body is a 400 and never a RecursionError or ValueError.

Limits: at most MAX_DEPTH nested arrays/objects (Python's parser recurses once per level and would raise
RecursionError near 1,000), integer literals of at most MAX_INTEGER_DIGITS digits (DynamoDB keeps 38; Python
refuses over 4,300 with ValueError), and only what RFC 8259 calls JSON (no NaN or Infinity). Nothing here quotes
the body in an error.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

from lambdas.shared.errors import InvalidInput

MAX_DEPTH = 32
MAX_INTEGER_DIGITS = 64

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class _Refused(ValueError):
    pass


def _integer(literal: str) -> int:
    if len(literal.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise _Refused(f"has an integer with more than {MAX_INTEGER_DIGITS} digits")
    return int(literal)


def _constant(_: str) -> Any:
    raise _Refused("is not valid JSON (NaN and Infinity are not JSON)")


def parse(text: str) -> Any:
    """`text` as JSON; InvalidInput on `body` saying why not."""
    if _too_deep(text):
        raise InvalidInput("body", f"nests arrays and objects more than {MAX_DEPTH} levels deep")
    try:
        return json.loads(text, parse_int=_integer, parse_constant=_constant)
    except _Refused as refused:
        raise InvalidInput("body", str(refused)) from None
    except (ValueError, RecursionError):  # JSONDecodeError is a ValueError; its text quotes the body
        raise InvalidInput("body", "is not valid JSON") from None


def _too_deep(text: str) -> bool:
    # Cheap first: a body with few brackets cannot be deep. Brackets inside strings do not nest anything.
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return False
    brackets = _BRACKET.findall(_STRING.sub("", text))
    return max(accumulate(_STEP[bracket] for bracket in brackets), default=0) > MAX_DEPTH
