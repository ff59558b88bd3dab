from __future__ import annotations

import re
import subprocess
import sys
from typing import Any

import pytest

from embedded_stack.apigateway.events import lambda_context, proxy_event
from lambdas.platform.handler import lambda_handler

BROWSER = {
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Encoding": "gzip, deflate, br",
}


def get(path: str, resource: str | None = None, **parameters: str) -> dict[str, Any]:
    event = proxy_event("GET", path, resource=resource or path, headers=BROWSER, path_parameters=parameters or None)
    return lambda_handler(event, lambda_context("platform"))


def header(result: dict[str, Any], name: str) -> str:
    return result["multiValueHeaders"][name][0]


def asset_paths(page: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/docs/assets/[^"]+)"', page)


@pytest.mark.parametrize("path", ["/docs", "/swagger"])
def test_swagger_ui_is_a_small_page_under_a_strict_policy(path: str) -> None:
    result = get(path)

    assert result["statusCode"] == 200
    assert header(result, "Content-Type").startswith("text/html")
    assert len(result["body"]) < 2_000
    policy = header(result, "Content-Security-Policy")
    assert "script-src 'self';" in policy and "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy
    assert "<script>" not in result["body"] and "<style" not in result["body"]
    assert header(result, "X-Content-Type-Options") == "nosniff"
    assert header(result, "X-Frame-Options") == "DENY"
    assert header(result, "Cache-Control") == "no-cache"
    assert 'data-openapi-url="/openapi.json"' in result["body"]
    assert len(asset_paths(result["body"])) == 3


def test_swagger_ui_is_text_whatever_the_browser_accepts() -> None:
    # API Gateway (REST) turns a base64 body back into bytes only when the request's *first* Accept type is one of
    # the API's binary media types; a browser's is text/html, so a gzipped page would reach it as base64 text.
    result = get("/docs")

    assert result["isBase64Encoded"] is False
    assert "Content-Encoding" not in (result.get("multiValueHeaders") or {})


def test_the_pages_assets_are_served_for_good_under_their_version() -> None:
    page = get("/docs")["body"]
    served = {}
    for path in asset_paths(page):
        _, _, _, version, name = path.split("/")
        result = get(path, "/docs/assets/{version}/{name}", version=version, name=name)
        assert result["statusCode"] == 200, path
        assert header(result, "Cache-Control") == "public, max-age=31536000, immutable"
        served[name] = (header(result, "Content-Type"), result["body"])

    assert served["swagger-ui-bundle.js"][0].startswith("text/javascript")
    assert "SwaggerUIBundle" in served["swagger-ui-bundle.js"][1]
    assert served["swagger-ui.css"][0].startswith("text/css")
    assert "SwaggerUIBundle(" in served["start.js"][1]


@pytest.mark.parametrize(("version", "name"), [("0000000000000000", "start.js"), (None, "../handler.py")])
def test_an_unknown_asset_or_version_is_404(version: str | None, name: str) -> None:
    current = asset_paths(get("/docs")["body"])[0].split("/")[3]
    result = get("/docs/assets/x/y", "/docs/assets/{version}/{name}", version=version or current, name=name)

    assert result["statusCode"] == 404


def test_importing_the_platform_function_reads_no_swagger_ui() -> None:
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, lambdas.platform.handler; print(any('swagger_ui' in name for name in sys.modules))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )

    assert loaded.stdout.strip() == "False"
