"""AWS's naming rules for every physical name the program makes, checked at preview with a message that says
which name, which rule and what to change, instead of an API error halfway through `pulumi up`.

Names are `<project>-<stack>-<catalog name>`: a stack name may hold `.` or `_` (Pulumi allows both), a catalog
name `_` (`sla_errors`). Bucket prefixes are converted (S3 allows neither); everything else is refused. A name
longer than its rule allows is shortened, deterministically, with a hash of the whole name in place of its end
(`fit`): stack names of up to 30 characters (`production`, `prod-eu-west-1`) make valid names everywhere.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

# Characters of a hash that stands in for what a shortened name leaves out: 8 hex digits, 2^32 values.
HASH_LENGTH = 8


class InvalidName(ValueError):
    pass


@dataclass(frozen=True)
class NameRule:
    what: str
    allowed: re.Pattern[str]
    allowed_in_words: str
    max_length: int
    min_length: int = 1

    def check(self, name: str) -> str:
        if not self.min_length <= len(name) <= self.max_length:
            raise InvalidName(
                f"{self.what} {name!r} has {len(name)} characters; AWS allows {self.min_length} to "
                f"{self.max_length}: use a shorter stack name"
            )
        refused = sorted({char for char in name if not self.allowed.fullmatch(char)})
        if refused:
            raise InvalidName(
                f"{self.what} {name!r} contains {''.join(refused)!r}; AWS allows only {self.allowed_in_words}: "
                "rename the stack (or set the name's config key) without them"
            )
        return name

    def fit(self, name: str) -> str:
        """`name`, or when it is too long, its start and a hash of all of it (same name in, same name out)."""
        return self.check(shortened(name, self.max_length))


def shortened(name: str, max_length: int) -> str:
    if len(name) <= max_length:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:HASH_LENGTH]
    return f"{name[: max_length - HASH_LENGTH - 1].rstrip('-_.')}-{digest}"


# Lambda CreateFunction, FunctionName: `[a-zA-Z0-9-_]+`, at most 64 characters.
LAMBDA_FUNCTION = NameRule("Lambda function name", re.compile(r"[A-Za-z0-9_-]"), "letters, digits, - and _", 64)
# IAM CreateRole, RoleName: `[\w+=,.@-]+`, at most 64 characters.
IAM_ROLE = NameRule("IAM role name", re.compile(r"[\w+=,.@-]", re.ASCII), "letters, digits and +=,.@-_", 64)
# API Gateway CreateStage, stageName: letters, digits, hyphens and underscores, at most 128 characters.
STAGE = NameRule("API Gateway stage name (stageName)", re.compile(r"[A-Za-z0-9_-]"), "letters, digits, - and _", 128)
# DynamoDB CreateTable, TableName: `[a-zA-Z0-9_.-]+`, 3 to 255 characters.
DYNAMODB_TABLE = NameRule(
    "DynamoDB table name", re.compile(r"[A-Za-z0-9_.-]"), "letters, digits, _, - and .", 255, min_length=3
)
# CloudWatch Logs CreateLogGroup, logGroupName: `[\.\-_/#A-Za-z0-9]+`, at most 512 characters.
LOG_GROUP = NameRule("log group name", re.compile(r"[A-Za-z0-9._/#-]"), "letters, digits and ._-/#", 512)
# Cognito CreateUserPool, PoolName: `[\w\s+=,.@-]+`, at most 128 characters.
USER_POOL = NameRule(
    "Cognito user pool name", re.compile(r"[\w\s+=,.@-]", re.ASCII), "letters, digits, spaces and +=,.@-_", 128
)

# S3 general purpose bucket naming rules (S3 User Guide, "Bucket naming rules"): 3-63 characters of lowercase
# letters, digits, dots and hyphens; begins and ends with a letter or digit; no two adjacent periods; not an IP
# address; reserved prefixes and suffixes. The provider appends a 26-digit unique suffix to `bucket_prefix`, so a
# prefix has at most 63 - 26 = 37 characters, and the suffix ends the name with a digit.
BUCKET_SUFFIX_LENGTH = 26
MAX_BUCKET_PREFIX = 63 - BUCKET_SUFFIX_LENGTH
_BUCKET_CHARACTERS = re.compile(r"[a-z0-9.-]")
_IP_ADDRESS = re.compile(r"\d+\.\d+\.\d+\.\d+")
_BUCKET_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")


def bucket_prefix(project: str, stack: str, bucket: str) -> str:
    """`<project>-<stack>-<bucket>-`, made S3-valid: lowercase, `_` and `.` as `-` (dots also break TLS for
    virtual-hosted-style requests, S3's default addressing), then checked as the names it will make. Longer than 37
    characters (`serverless-platform-production-avatars-` is 39), it is `<stack>-<bucket>-<hash>-`, the stack cut
    short if need be, where the hash of the full form keeps two projects (or two long stacks) apart."""
    prefix = _s3_words(f"{project}-{stack}-{bucket}") + "-"
    if len(prefix) > MAX_BUCKET_PREFIX:
        digest = hashlib.sha256(prefix.encode()).hexdigest()[:HASH_LENGTH]
        room = MAX_BUCKET_PREFIX - HASH_LENGTH - 2  # the hyphens before and after the hash
        words = _s3_words(bucket)[:room].strip("-")
        stack_words = _s3_words(stack)[: room - len(words) - 1].strip("-")
        prefix = f"{stack_words}-{words}-{digest}-" if stack_words else f"{words}-{digest}-"
    bucket_name(prefix + "0" * BUCKET_SUFFIX_LENGTH)
    return prefix


def _s3_words(text: str) -> str:
    return re.sub(r"[_.]", "-", text.lower())


def bucket_name(name: str) -> str:
    if not 3 <= len(name) <= 63:
        raise InvalidName(f"S3 bucket name {name!r} must have 3 to 63 characters")
    refused = "".join(sorted(set(_BUCKET_CHARACTERS.sub("", name))))
    if refused:
        raise InvalidName(
            f"S3 bucket name {name!r} contains {refused!r}; S3 allows only lowercase letters, digits, . and -"
        )
    if not (name[0].isalnum() and name[-1].isalnum()):
        raise InvalidName(f"S3 bucket name {name!r} must begin and end with a letter or a digit")
    if ".." in name:
        raise InvalidName(f"S3 bucket name {name!r} has two adjacent periods")
    if name.startswith(_BUCKET_RESERVED_PREFIXES):
        raise InvalidName(f"S3 bucket name {name!r} starts with a prefix S3 reserves: {_BUCKET_RESERVED_PREFIXES}")
    if _IP_ADDRESS.fullmatch(name):
        raise InvalidName(f"S3 bucket name {name!r} is formatted as an IP address")
    return name
