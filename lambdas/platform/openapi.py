"""One OpenAPI document for the whole API, merged from every function's resolver by Powertools."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge

from lambdas import catalog

TITLE = "serverless-platform API"
VERSION = "1.0.0"


@cache
def document() -> dict[str, Any]:
    """The document without `servers`: the caller knows the base URL (the stage path, when deployed)."""
    merge = OpenAPIMerge(title=TITLE, version=VERSION, on_conflict="error")
    for function in catalog.FUNCTIONS:
        if function.serves_api:
            merge.add_schema(json.loads(function.resolver().get_openapi_json_schema(title=TITLE, version=VERSION)))
    return merge.get_openapi_schema()


def document_for(base_path: str) -> dict[str, Any]:
    return {**document(), "servers": [{"url": base_path or "/"}]}
