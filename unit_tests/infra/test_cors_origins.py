"""The CORS origins of a stack, checked per target at preview: API Gateway's preflight mock and the functions match
a `*` as one port or part of one DNS label (lambdas/catalog/cors.py); S3 allows one `*` per origin, and its `*`
matches dots too (S3 User Guide, "CORS configuration": AllowedOrigin "can contain at most one * wildcard").
An origin one target cannot express passed preview and then failed PutBucketCors: now preview names it."""

from __future__ import annotations

import pulumi
import pytest

from infra.settings import SettingsError, StackSettings, api_origin_problem, s3_origin_problem
from unit_tests.infra.conftest import Deployed


def settings(**overrides: object) -> StackSettings:
    return StackSettings(project="p", stack="s", stage_name="s", **overrides)  # type: ignore[arg-type]


# (origin, accepted by the API's matcher, accepted on a bucket)
ORIGINS = [
    ("https://app.example.com", True, True),
    ("http://localhost:*", True, True),
    ("http://127.0.0.1:*", True, True),
    ("https://*.example.com", True, True),
    ("https://app-*.example.com", True, True),
    ("https://app.example.com/", True, True),
    # Two `*`: S3 refuses the whole CORS configuration (PutBucketCors: InvalidRequest).
    ("http://*.localhost:*", True, False),
    # S3's `*` matches `x.evil.example` too: nothing fixed follows it in the host.
    ("https://app.example.*", True, False),
    ("https://*", True, False),
    # Not origins at all: a path, no scheme, a bare `*`, a quote that would end the preflight template's regex.
    ("https://app.example.com/login", False, False),
    ("app.example.com", False, False),
    ("*", False, False),
    ("https://app.example.com'", False, False),
    ("ftp://app.example.com", False, False),
    ("https://app..example.com", False, False),
]


@pytest.mark.parametrize(("origin", "api", "bucket"), ORIGINS)
def test_each_target_accepts_the_origins_it_can_express(origin: str, api: bool, bucket: bool):
    assert (api_origin_problem(origin) is None) is api
    assert (api_origin_problem(origin) is None and s3_origin_problem(origin) is None) is bucket


def test_an_origin_with_two_wildcards_is_refused_for_the_buckets_naming_the_setting_to_change():
    with pytest.raises(SettingsError, match=r"corsAllowedOrigins \(the buckets' CORS rule\): .* at most one"):
        settings(cors_allowed_origins=("http://*.localhost:*",))
    with pytest.raises(SettingsError, match="Set bucketCorsAllowedOrigins"):
        settings(cors_allowed_origins=("http://*.localhost:*",))


def test_the_buckets_may_take_origins_of_their_own_or_none():
    own = settings(cors_allowed_origins=("http://*.localhost:*",), bucket_cors_allowed_origins=("http://localhost:*",))
    assert own.bucket_origins == ("http://localhost:*",)
    none = settings(cors_allowed_origins=("http://*.localhost:*",), bucket_cors_allowed_origins=())
    assert none.bucket_origins == ()
    with pytest.raises(SettingsError, match=r"bucketCorsAllowedOrigins \(the buckets' CORS rule\): .*dots"):
        settings(bucket_cors_allowed_origins=("https://app.example.*",))


def test_an_origin_the_api_cannot_match_is_refused():
    with pytest.raises(SettingsError, match=r"corsAllowedOrigins: '\*' is not an origin"):
        settings(cors_allowed_origins=("*",))


@pulumi.runtime.test
def test_an_api_pattern_s3_cannot_express_fails_at_preview(deploy):
    with pytest.raises(SettingsError, match="S3 allows at most one"):
        deploy(lambda _: None, config={"corsAllowedOrigins": ["http://*.localhost:*"]})
    return pulumi.Output.from_input(None)


@pulumi.runtime.test
def test_the_api_and_the_buckets_get_their_own_origins_and_the_buckets_take_no_put(deploy):
    def check(deployed: Deployed) -> None:
        [cors] = deployed.of_type("aws:s3/bucketCorsConfiguration:BucketCorsConfiguration")
        [rule] = cors.inputs["corsRules"]
        assert rule["allowedOrigins"] == ["http://localhost:*"]
        assert rule["allowedMethods"] == ["GET", "HEAD"]
        functions = deployed.of_type("aws:lambda/function:Function")
        assert any("http://*.localhost:*" in str(f.inputs["environment"]) for f in functions)

    config = {"corsAllowedOrigins": ["http://*.localhost:*"], "bucketCorsAllowedOrigins": ["http://localhost:*"]}
    return deploy(check, config=config)
