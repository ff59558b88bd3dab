from __future__ import annotations

import pytest

from infra.settings import SettingsError, StackSettings, _single_endpoint


def settings(**overrides: object) -> StackSettings:
    return StackSettings(project="serverless-platform", stack="prod", stage_name="prod", **overrides)  # type: ignore[arg-type]


def test_defaults_suit_production():
    defaults = settings()
    assert defaults.prefix == "serverless-platform-prod-"
    assert defaults.deletion_protection is True
    assert defaults.auto_confirm_sign_ups is False
    assert defaults.mfa == "OFF"
    assert (defaults.lambda_runtime, defaults.lambda_architecture) == ("python3.13", "arm64")
    assert defaults.aws_endpoint is None
    assert defaults.api_gateway_account_settings is False


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("lambda_architecture", "sparc", "lambdaArchitecture"),
        ("mfa", "SOMETIMES", "mfa"),
        ("log_retention_days", 10, "logRetentionDays"),
        ("log_level", "LOUD", "logLevel"),
        ("lambda_memory_mb", 64, "lambdaMemoryMb"),
    ],
)
def test_invalid_settings_name_the_config_key(field, value, message):
    with pytest.raises(SettingsError, match=message):
        settings(**{field: value})


def test_the_endpoint_is_the_one_url_of_aws_endpoints():
    assert _single_endpoint(None) is None
    assert _single_endpoint([{"s3": "http://localhost:4566/", "iam": "http://localhost:4566"}]) == (
        "http://localhost:4566"
    )
    with pytest.raises(SettingsError, match="awsEndpoint"):
        _single_endpoint([{"s3": "http://localhost:4566", "iam": "http://localhost:4567"}])
