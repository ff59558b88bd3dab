"""Stack configuration: every `serverless-platform:*` key the program reads, with its default."""

from __future__ import annotations

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
    cors_allowed_methods: tuple[str, ...] = ("GET", "PUT", "HEAD")
    cors_max_age_seconds: int = 3000
    throttling_rate_limit: float = 100.0
    throttling_burst_limit: int = 200
    api_gateway_account_settings: bool = False
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
            cors_allowed_methods=tuple(config.get_object("corsAllowedMethods") or defaults.cors_allowed_methods),
            cors_max_age_seconds=_int(config, "corsMaxAgeSeconds", defaults.cors_max_age_seconds),
            throttling_rate_limit=config.get_float("throttlingRateLimit") or defaults.throttling_rate_limit,
            throttling_burst_limit=_int(config, "throttlingBurstLimit", defaults.throttling_burst_limit),
            api_gateway_account_settings=_bool(
                config, "apiGatewayAccountSettings", defaults.api_gateway_account_settings
            ),
            aws_endpoint=endpoint,
            artifact_dir=config.get("artifactDir") or defaults.artifact_dir,
            tags=dict(config.get_object("tags") or {}),
        )


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
