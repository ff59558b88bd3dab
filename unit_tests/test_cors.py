from __future__ import annotations

import pytest

from embedded_stack.apigateway.events import lambda_context, proxy_event
from lambdas.catalog import cors
from lambdas.platform.handler import lambda_handler

DEV = cors.DEV_ORIGINS


@pytest.mark.parametrize(
    ("origin", "allowed", "expected"),
    [
        ("http://localhost:5173", DEV, True),
        ("http://127.0.0.1:8080", DEV, True),
        ("http://localhost", DEV, False),
        ("https://localhost:5173", DEV, False),
        ("http://localhost:5173.evil.example", DEV, False),
        ("http://localhost:5173/", DEV, False),
        ("http://127.0.0.1:80@evil.example", DEV, False),
        ("http://127x0x0x1:80", DEV, False),
        ("https://app.example.com", ("https://app.example.com/",), True),
        ("https://a.example.com", ("https://*.example.com",), True),
        ("https://a.b.example.com", ("https://*.example.com",), False),
        ("https://example.com", ("https://*.example.com",), False),
        ("http://localhost:5173", (), False),
        (None, DEV, False),
        ("", DEV, False),
    ],
)
def test_which_origins_match(origin: str | None, allowed: tuple[str, ...], expected: bool) -> None:
    assert cors.is_allowed(origin, allowed) is expected


def test_the_environment_round_trips() -> None:
    assert cors.from_environment(cors.environment(DEV)) == DEV
    assert cors.from_environment({}) == ()


def test_no_allowed_origin_regex_matches_nothing() -> None:
    import re

    assert re.match(cors.origin_regex(()), "") is None


def call_health(origin: str, monkeypatch: pytest.MonkeyPatch, allowed: tuple[str, ...]) -> dict:
    monkeypatch.setenv(cors.ENV_VAR, cors.environment(allowed)[cors.ENV_VAR])
    event = proxy_event("GET", "/health", headers={"Origin": origin})
    return lambda_handler(event, lambda_context("platform"))


def test_a_function_answers_an_allowed_origin_with_cors_headers(monkeypatch: pytest.MonkeyPatch) -> None:
    result = call_health("http://localhost:5173", monkeypatch, DEV)

    headers = result["multiValueHeaders"]
    assert headers["Access-Control-Allow-Origin"] == ["http://localhost:5173"]
    assert "Origin" in headers["Vary"]


@pytest.mark.parametrize("allowed", [DEV, ()])
def test_a_function_says_nothing_to_another_origin(monkeypatch: pytest.MonkeyPatch, allowed: tuple[str, ...]) -> None:
    result = call_health("https://evil.example", monkeypatch, allowed)

    assert "Access-Control-Allow-Origin" not in (result.get("multiValueHeaders") or {})
