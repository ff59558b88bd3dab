"""Requests to a gateway served as the stack serves it (uvicorn, in a thread of its own), for unit tests."""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass
from typing import Any

import requests
from werkzeug.datastructures import Headers

from embedded_stack.apigateway import edge

_serving: list[edge.Serving] = []


@dataclass(frozen=True)
class Answer:
    status_code: int
    headers: Headers  # each repeated header on its own, as sent
    data: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.data)


class GatewayClient:
    def __init__(self, app: Any) -> None:
        listening = socket.socket()
        listening.bind(("127.0.0.1", 0))
        listening.listen(64)
        _serving.append(edge.Serving(app, listening, stop_seconds=0.1))
        self.url = f"http://127.0.0.1:{_serving[-1].port}"

    def open(self, method: str, path: str, **arguments: Any) -> Answer:
        response = requests.request(method, self.url + path, timeout=60, **arguments)
        return Answer(response.status_code, Headers(list(response.raw.headers.items())), response.content)

    def get(self, path: str, **arguments: Any) -> Answer:
        return self.open("GET", path, **arguments)

    def post(self, path: str, **arguments: Any) -> Answer:
        return self.open("POST", path, **arguments)

    def delete(self, path: str, **arguments: Any) -> Answer:
        return self.open("DELETE", path, **arguments)

    def options(self, path: str, **arguments: Any) -> Answer:
        return self.open("OPTIONS", path, **arguments)


def stop_serving() -> None:
    """Stops every gateway the test served."""
    while _serving:
        _serving.pop().stop()
