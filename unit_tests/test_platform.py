from __future__ import annotations

from embedded_stack.events import lambda_context, proxy_event
from lambdas.platform.handler import lambda_handler

BROWSER = {
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Encoding": "gzip, deflate, br",
}


def test_swagger_ui_is_text_whatever_the_browser_accepts() -> None:
    # API Gateway (REST) turns a base64 body back into bytes only when the request's *first* Accept type is one of
    # the API's binary media types; a browser's is text/html, so a gzipped page would reach it as base64 text.
    event = proxy_event("GET", "/docs", resource="/docs", headers=BROWSER)

    result = lambda_handler(event, lambda_context("platform"))

    assert result["statusCode"] == 200
    assert result["isBase64Encoded"] is False
    assert "Content-Encoding" not in (result.get("multiValueHeaders") or {})
    assert "SwaggerUIBundle" in result["body"]
