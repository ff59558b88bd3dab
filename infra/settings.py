"""Stack configuration: every `serverless-platform:*` key the program reads, with its default."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from infra.package import LAMBDA_RUNTIME, runtime_problem

if TYPE_CHECKING:
    import pulumi

PROJECT = "serverless-platform"

ARCHITECTURES = ("arm64", "x86_64")
MFA_SETTINGS = ("OFF", "OPTIONAL", "ON")
# The only values CloudWatch Logs accepts for a retention period.
LOG_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# A CORS origin entry: `http(s)://host[:port]`, where a `*` stands for a whole port or part of one DNS label.
ORIGIN_PATTERN = re.compile(r"(?:https?)://(?P<host>[A-Za-z0-9*-]+(?:\.[A-Za-z0-9*-]+)*)(?::(?P<port>\d{1,5}|\*))?/?")
# An SES identity: `arn:<partition>:ses:<region>:<account>:identity/<email address or domain>`.
SES_IDENTITY_ARN = re.compile(r"arn:aws[a-z-]*:ses:[a-z0-9-]+:\d{12}:identity/(?P<identity>[^/\s]+)")
# `no-reply@example.com` or `Example <no-reply@example.com>`: Cognito's FROM address forms.
FROM_ADDRESS = re.compile(r"(?:[^<>]*<(?P<bracketed>[^<>@\s]+@[^<>@\s]+)>|(?P<bare>[^<>@\s]+@[^<>@\s]+))")


class SettingsError(ValueError):
    pass


@dataclass(frozen=True)
class StackSettings:
    """One stack's settings. Defaults suit a production stack; Pulumi.dev.yaml overrides them for LocalStack."""

    project: str
    stack: str
    stage_name: str
    auto_confirm_sign_ups: bool = False
    deletion_protection: bool = True
    log_retention_days: int = 30
    log_level: str = "INFO"
    lambda_runtime: str = LAMBDA_RUNTIME
    lambda_architecture: str = "arm64"
    lambda_memory_mb: int = 256
    lambda_timeout_seconds: int = 10
    mfa: str = "OFF"
    bucket_versioning: bool = True
    # Browser origins that may call the API (and the buckets): none until set (lambdas/catalog/cors.py).
    cors_allowed_origins: tuple[str, ...] = ()
    # The buckets' origins, where S3's rule differs (one `*`, which matches dots too); None: the API's.
    bucket_cors_allowed_origins: tuple[str, ...] | None = None
    # Nothing uploads to a bucket from a browser: the API takes the uploads.
    cors_allowed_methods: tuple[str, ...] = ("GET", "HEAD")
    cors_max_age_seconds: int = 3000
    throttling_rate_limit: float = 100.0
    throttling_burst_limit: int = 200
    api_gateway_account_settings: bool = False
    # Cognito sends its emails (confirmation codes) through this SES identity (DEVELOPER), from this address.
    ses_identity_arn: str | None = None
    ses_from_address: str | None = None
    # Cognito's own sender is capped at a few dozen emails a day: a stack uses it only when it says so.
    cognito_default_email_is_enough: bool = False
    aws_endpoint: str | None = None
    artifact_dir: str = "build"
    tags: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.lambda_architecture not in ARCHITECTURES:
            raise SettingsError(f"lambdaArchitecture must be one of {ARCHITECTURES}, not {self.lambda_architecture!r}")
        if self.mfa not in MFA_SETTINGS:
            raise SettingsError(f"mfa must be one of {MFA_SETTINGS}, not {self.mfa!r}")
        if self.log_retention_days not in LOG_RETENTION_DAYS:
            raise SettingsError(f"logRetentionDays must be one of {LOG_RETENTION_DAYS}, not {self.log_retention_days}")
        if self.log_level not in LOG_LEVELS:
            raise SettingsError(f"logLevel must be one of {LOG_LEVELS}, not {self.log_level!r}")
        if problem := runtime_problem(self.lambda_runtime):
            raise SettingsError(problem)
        if not 128 <= self.lambda_memory_mb <= 10240:
            raise SettingsError(f"lambdaMemoryMb must be between 128 and 10240, not {self.lambda_memory_mb}")
        if problem := ses_problem(self.ses_identity_arn, self.ses_from_address):
            raise SettingsError(problem)
        for origin in self.cors_allowed_origins:
            if problem := api_origin_problem(origin):
                raise SettingsError(f"corsAllowedOrigins: {problem}")
        for origin in self.bucket_origins:
            if problem := api_origin_problem(origin) or s3_origin_problem(origin):
                key = "corsAllowedOrigins" if self.bucket_cors_allowed_origins is None else "bucketCorsAllowedOrigins"
                raise SettingsError(
                    f"{key} (the buckets' CORS rule): {problem}. Set bucketCorsAllowedOrigins to origins S3 can "
                    "express (or to [] for no CORS on the buckets)"
                )

    @property
    def bucket_origins(self) -> tuple[str, ...]:
        """The origins of the buckets' CORS rule."""
        if self.bucket_cors_allowed_origins is None:
            return self.cors_allowed_origins
        return self.bucket_cors_allowed_origins

    def email_sender_problem(self) -> str | None:
        """Why the user pool's emails would silently stop, or None. Checked when the pool is declared (a preview),
        not here: the embedded stack builds these settings too, and sends no email."""
        if self.auto_confirm_sign_ups or self.ses_identity_arn or self.cognito_default_email_is_enough:
            return None
        return (
            "sign-ups are not auto-confirmed, so every sign-up needs an emailed code, and without an SES identity "
            "Cognito sends them itself, capped at a few dozen emails a day (a sign-up wave stops getting codes): set "
            "sesIdentityArn (a verified SES identity, and sesFromAddress), or cognitoDefaultEmailIsEnough: true"
        )

    @property
    def prefix(self) -> str:
        """What every physical name starts with, so that two stacks (or projects) in one account never collide."""
        return f"{self.project}-{self.stack}-"

    @classmethod
    def from_pulumi(cls, config: pulumi.Config, aws_config: pulumi.Config, project: str, stack: str) -> StackSettings:
        """Reads the project's config namespace; `awsEndpoint` falls back to the aws provider's one endpoint."""
        defaults = cls(project=project, stack=stack, stage_name=stack)
        endpoint = config.get("awsEndpoint") or _single_endpoint(aws_config.get_object("endpoints"))
        return cls(
            project=project,
            stack=stack,
            stage_name=config.get("stageName") or stack,
            auto_confirm_sign_ups=_bool(config, "autoConfirmSignUps", defaults.auto_confirm_sign_ups),
            deletion_protection=_bool(config, "deletionProtection", defaults.deletion_protection),
            log_retention_days=_int(config, "logRetentionDays", defaults.log_retention_days),
            log_level=config.get("logLevel") or defaults.log_level,
            lambda_runtime=config.get("lambdaRuntime") or defaults.lambda_runtime,
            lambda_architecture=config.get("lambdaArchitecture") or defaults.lambda_architecture,
            lambda_memory_mb=_int(config, "lambdaMemoryMb", defaults.lambda_memory_mb),
            lambda_timeout_seconds=_int(config, "lambdaTimeoutSeconds", defaults.lambda_timeout_seconds),
            mfa=(config.get("mfa") or defaults.mfa).upper(),
            bucket_versioning=_bool(config, "bucketVersioning", defaults.bucket_versioning),
            cors_allowed_origins=tuple(config.get_object("corsAllowedOrigins") or ()),
            bucket_cors_allowed_origins=_optional_tuple(config.get_object("bucketCorsAllowedOrigins")),
            cors_allowed_methods=tuple(config.get_object("corsAllowedMethods") or defaults.cors_allowed_methods),
            cors_max_age_seconds=_int(config, "corsMaxAgeSeconds", defaults.cors_max_age_seconds),
            throttling_rate_limit=config.get_float("throttlingRateLimit") or defaults.throttling_rate_limit,
            throttling_burst_limit=_int(config, "throttlingBurstLimit", defaults.throttling_burst_limit),
            api_gateway_account_settings=_bool(
                config, "apiGatewayAccountSettings", defaults.api_gateway_account_settings
            ),
            ses_identity_arn=config.get("sesIdentityArn") or None,
            ses_from_address=config.get("sesFromAddress") or None,
            cognito_default_email_is_enough=_bool(
                config, "cognitoDefaultEmailIsEnough", defaults.cognito_default_email_is_enough
            ),
            aws_endpoint=endpoint,
            artifact_dir=config.get("artifactDir") or defaults.artifact_dir,
            tags=dict(config.get_object("tags") or {}),
        )


def api_origin_problem(origin: str) -> str | None:
    """What API Gateway's preflight mock and the functions can match (lambdas/catalog/cors.py): an origin, each `*` a
    whole port or part of one DNS label, never a dot or a slash."""
    if ORIGIN_PATTERN.fullmatch(origin) is None:
        return (
            f"{origin!r} is not an origin: http(s)://host[:port], a '*' standing for a port or part of a DNS label "
            "(http://localhost:*, https://*.example.com)"
        )
    return None


def s3_origin_problem(origin: str) -> str | None:
    """S3's rule (PutBucketCors, AllowedOrigin): at most one `*`, and it matches any characters, dots included. A
    host `*` must be followed by a dot in the host, so that a fixed domain ends every origin it matches."""
    if origin.count("*") > 1:
        return f"{origin!r} has {origin.count('*')} '*': S3 allows at most one in an origin"
    match = ORIGIN_PATTERN.fullmatch(origin)
    host = match["host"] if match else ""
    if "*" in host and "." not in host.partition("*")[2]:
        return (
            f"{origin!r}: S3's '*' also matches dots, so it would let {origin.replace('*', 'x.evil.example')!r} read "
            "the buckets; put a fixed domain after the '*' (https://*.example.com)"
        )
    return None


def ses_problem(identity_arn: str | None, from_address: str | None) -> str | None:
    """The SES settings' shape: an identity ARN, and a FROM address that identity may send as (the address itself
    for an email identity; one at the domain, or a subdomain, for a domain identity, which needs one)."""
    if identity_arn is None:
        return "sesFromAddress needs sesIdentityArn (the SES identity it is sent through)" if from_address else None
    identity = SES_IDENTITY_ARN.fullmatch(identity_arn)
    if identity is None:
        return (
            f"sesIdentityArn {identity_arn!r} is not an SES identity ARN "
            "(arn:aws:ses:<region>:<account>:identity/<email address or domain>)"
        )
    name = identity["identity"].lower()
    if from_address is None:
        return None if "@" in name else f"sesFromAddress is needed to send through the domain identity {name!r}"
    address = FROM_ADDRESS.fullmatch(from_address.strip())
    if address is None:
        return f"sesFromAddress {from_address!r} is not an address (no-reply@example.com or Name <no-reply@…>)"
    sender = (address["bracketed"] or address["bare"]).lower()
    domain = sender.rpartition("@")[2]
    allowed = sender == name if "@" in name else domain == name or domain.endswith(f".{name}")
    if not allowed:
        return f"sesFromAddress {sender!r} is not one the SES identity {name!r} may send as"
    return None


def _optional_tuple(value: object) -> tuple[str, ...] | None:
    return None if value is None else tuple(value)  # type: ignore[call-overload]


def _bool(config: pulumi.Config, key: str, default: bool) -> bool:
    value = config.get_bool(key)
    return default if value is None else value


def _int(config: pulumi.Config, key: str, default: int) -> int:
    value = config.get_int(key)
    return default if value is None else value


def _single_endpoint(endpoints: object) -> str | None:
    """The one URL every `aws:endpoints` entry points at (LocalStack's), or None for real AWS."""
    if not endpoints:
        return None
    urls = {url.rstrip("/") for entry in endpoints for url in entry.values()} if isinstance(endpoints, list) else set()
    if len(urls) != 1:
        raise SettingsError(
            "aws:endpoints points at several URLs: set serverless-platform:awsEndpoint to the one the stack outputs"
        )
    return urls.pop()
