"""The API's own routes: a health check, the OpenAPI document and Swagger UI. All public."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.swagger_ui import generate_swagger_html

from lambdas.catalog import PUBLIC
from lambdas.platform import openapi
from lambdas.shared.api import lambda_handler_for, resolver
from lambdas.shared.models import ResponseModel

logger = Logger()
app = resolver()
lambda_handler = lambda_handler_for(app, logger)

SWAGGER_ASSETS = Path(generate_swagger_html.__code__.co_filename).parent


class Health(ResponseModel):
    status: str


@app.get("/health", security=PUBLIC, tags=["platform"], summary="Health check")
def health() -> Health:
    return Health(status="ok")


@app.get("/openapi.json", security=PUBLIC, tags=["platform"], summary="The OpenAPI document of this API")
def openapi_document() -> Response[dict]:
    return Response(
        status_code=200, content_type=content_types.APPLICATION_JSON, body=openapi.document_for(_base_path())
    )


# Not `compress=True`: API Gateway decodes a base64 (gzipped) body only when the request's first Accept type is a
# binary media type, and a browser's is text/html. The page (~1.7 MB) is well within Lambda's response limit.
@app.get("/docs", security=PUBLIC, tags=["platform"], summary="Swagger UI for this API")
def swagger_ui() -> Response[str]:
    spec = json.dumps(openapi.document_for(_base_path())).replace("</", "<\\/")
    js, css = _swagger_assets()
    html = generate_swagger_html(spec, js, css, swagger_base_url="", oauth2_config=None)
    return Response(status_code=200, content_type="text/html", body=html)


def _base_path() -> str:
    """The stage prefix of the request path (``/prod`` when deployed; empty when served at the root)."""
    event = app.current_event
    return event.request_context.path.removesuffix(event.path)


@cache
def _swagger_assets() -> tuple[str, str]:
    return (
        (SWAGGER_ASSETS / "swagger-ui-bundle.min.js").read_text(encoding="utf-8"),
        (SWAGGER_ASSETS / "swagger-ui.min.css").read_text(encoding="utf-8"),
    )
