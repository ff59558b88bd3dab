"""The API's own routes: a health check, the OpenAPI document and Swagger UI. All public.

Swagger UI is a small page (`/docs`, `/swagger`) that loads Swagger UI's script and stylesheet, and a few lines that
start it, from versioned paths (`/docs/assets/<version>/<name>`, the version a hash of their contents): a browser
caches them for a year and fetches them again only when Powertools ships another Swagger UI. Nothing on the page is
inline, so its Content-Security-Policy allows scripts and styles from the API's own origin only. The assets are read
on the first request that needs them, never at import (a cold start of this function pays nothing for them).
"""

from __future__ import annotations

import hashlib
import html
import importlib.util
from functools import cache
from pathlib import Path

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from lambdas.catalog import PUBLIC
from lambdas.platform import openapi
from lambdas.shared.api import lambda_handler_for, resolver
from lambdas.shared.errors import NotFound
from lambdas.shared.models import ResponseModel

logger = Logger()
app = resolver()
lambda_handler = lambda_handler_for(app, logger)

SWAGGER_UI_PACKAGE = "aws_lambda_powertools.event_handler.openapi.swagger_ui"
# Swagger UI draws its icons as data: images and calls the API (Try it out) on this origin; nothing else is allowed.
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": PAGE_CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    # The page names the assets' current version: revalidate it, cache them.
    "Cache-Control": "no-cache",
}
ASSET_HEADERS = {"Cache-Control": "public, max-age=31536000, immutable", "X-Content-Type-Options": "nosniff"}
# Starts Swagger UI on the document named by the page (a file of its own: the CSP allows no inline script).
START_SCRIPT = """\
"use strict";
(function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    deepLinking: true,
    filter: true,
    docExpansion: "list",
    layout: "BaseLayout",
    presets: [SwaggerUIBundle.presets.apis],
    validatorUrl: null,
    persistAuthorization: false,
  });
})();
"""
HTML_PAGE: dict[int, OpenAPIResponse] = {
    200: {"description": "Swagger UI", "content": {"text/html": {"schema": {"type": "string"}}}}
}


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


# Not compressed here: API Gateway compresses (the REST API's minimumCompressionSize), and it would hand a base64
# body to a browser whose first Accept type is not a binary media type.
@app.get("/docs", security=PUBLIC, tags=["platform"], summary="Swagger UI for this API", responses=HTML_PAGE)
def docs_page() -> Response[str]:
    return _swagger_page()


@app.get("/swagger", security=PUBLIC, tags=["platform"], summary="Swagger UI for this API", responses=HTML_PAGE)
def swagger_page() -> Response[str]:
    return _swagger_page()


@app.get(
    "/docs/assets/<version>/<name>",
    security=PUBLIC,
    tags=["platform"],
    summary="A Swagger UI asset, cacheable for good under its version",
    responses={
        200: {
            "description": "The asset",
            "content": {"text/javascript": {"schema": {"type": "string"}}, "text/css": {"schema": {"type": "string"}}},
        }
    },
)
def swagger_asset(version: str, name: str) -> Response[str]:
    assets = _assets()
    if version != _assets_version() or name not in assets:
        raise NotFound("No such asset: the page names the current ones.")
    content_type, body = assets[name]
    return Response(status_code=200, content_type=content_type, body=body, headers=ASSET_HEADERS)


def _swagger_page() -> Response[str]:
    base = html.escape(_base_path(), quote=True)
    assets = f"{base}/docs/assets/{_assets_version()}"
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{html.escape(openapi.TITLE)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{assets}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{base}/openapi.json"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="{assets}/start.js"></script>
</body>
</html>
"""
    return Response(status_code=200, content_type="text/html; charset=utf-8", body=page, headers=PAGE_HEADERS)


def _base_path() -> str:
    """The stage prefix of the request path (``/prod`` when deployed; empty when served at the root)."""
    event = app.current_event
    return event.request_context.path.removesuffix(event.path)


@cache
def _assets() -> dict[str, tuple[str, str]]:
    """Each asset's content type and text, read from the Swagger UI that Powertools ships (found, not imported)."""
    spec = importlib.util.find_spec(SWAGGER_UI_PACKAGE)
    assert spec is not None and spec.submodule_search_locations, f"{SWAGGER_UI_PACKAGE} is not installed"
    folder = Path(next(iter(spec.submodule_search_locations)))
    return {
        "swagger-ui-bundle.js": (
            "text/javascript; charset=utf-8",
            (folder / "swagger-ui-bundle.min.js").read_text(encoding="utf-8"),
        ),
        "swagger-ui.css": ("text/css; charset=utf-8", (folder / "swagger-ui.min.css").read_text(encoding="utf-8")),
        "start.js": ("text/javascript; charset=utf-8", START_SCRIPT),
    }


@cache
def _assets_version() -> str:
    digest = hashlib.sha256()
    for name, (_, text) in sorted(_assets().items()):
        digest.update(f"{name}\0{text}\0".encode())
    return digest.hexdigest()[:16]
