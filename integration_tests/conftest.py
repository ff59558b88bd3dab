"""The stack under test: the embedded stack, started here once per session, or a deployed one.

- `STACK_OUTPUTS=path/to/outputs.json`: a deployed stack's outputs (`pulumi stack output --json`, or the embedded
  stack's `.local-stack/outputs.json` of a running `make run`);
- `API_URL=https://…`: that API (overrides the outputs' apiUrl);
- neither: the embedded stack, in this process, on free ports, its outbox (the emails Cognito would send) in a
  temporary folder (`outputs["outbox"]`; a deployed stack has none, and the tests that read codes skip there).

The tests create their own data with unique values and never depend on order, so they run against any of them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from integration_tests.auth_fixtures import *  # noqa: F403 - fixtures for signed-in users


class Api(requests.Session):
    """A requests session whose paths are relative to the API's base URL (which includes the stage path)."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 30)
        return super().request(method, self.url(str(url)), *args, **kwargs)

    def url(self, path: str) -> str:
        return path if path.startswith("http") else f"{self.base_url}{path}"


@pytest.fixture(scope="session")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    outputs_file = os.environ.get("STACK_OUTPUTS")
    api_url = os.environ.get("API_URL")
    if outputs_file or api_url:
        found: dict[str, Any] = json.loads(Path(outputs_file).read_text()) if outputs_file else {}
        yield found | ({"apiUrl": api_url} if api_url else {})
        return
    from embedded_stack.stack import EmbeddedStack, StackSettings

    settings = StackSettings(
        api_port=0, aws_port=0, outputs_file=None, reload=False, outbox_dir=tmp_path_factory.mktemp("outbox")
    )
    with EmbeddedStack(settings) as stack:
        yield stack.outputs


@pytest.fixture(scope="session")
def api(outputs: dict[str, Any]) -> Iterator[Api]:
    with Api(outputs["apiUrl"]) as session:
        yield session
