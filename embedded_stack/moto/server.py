"""moto's application served as AWS serves its APIs: connections kept open across requests.

moto's own server (Werkzeug's) closes the connection after every answer, so each AWS call of a function would
connect anew and start a thread. Here uvicorn keeps the connections (the API Gateway stand-in's own server,
embedded_stack.apigateway.edge.Serving), and a pool of threads runs the requests (moto's application is WSGI:
blocking, and one request at a time per service).
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

from a2wsgi import WSGIMiddleware
from moto.core.request import (
    PRESERVED_HEADER_NAMES_ENVIRON_KEY,
    environ_key_for_header,
    should_preserve_original_header_name,
)

from embedded_stack.apigateway import edge

# How often the servers look at their shutdown flag: Ctrl-C returns within about this.
POLL_SECONDS = 0.1
# Threads running moto's requests. Each service runs one request at a time (service_locks), so most of them wait on
# a service's lock; enough that a burst on one service (16 containers of a function) leaves room for the others.
MOTO_THREADS = 32


class MotoServer:
    """moto's WSGI application (`dispatcher`) served by uvicorn on `listening`, with a pool of threads."""

    def __init__(self, dispatcher: Any, listening: socket.socket, stop_seconds: float = POLL_SECONDS) -> None:
        self._application = WSGIMiddleware(keeping_metadata_names(dispatcher), workers=MOTO_THREADS)
        self._serving = edge.Serving(self._application, listening, stop_seconds, http="httptools", name="moto")
        self.port = self._serving.port

    def stop(self) -> None:
        self._serving.stop()
        self._application.executor.shutdown(wait=False)


def keeping_metadata_names(application: Callable[..., Any]) -> Callable[..., Any]:
    """`application` told the names of the S3 metadata headers as they were sent, as moto's own server tells it.

    WSGI folds `-` and `_` in a header's name into one `_`; S3 keeps `x-amz-meta-snake_case` and
    `x-amz-meta-kebab-case` apart, and moto does when its server names them (moto.core.request). The names as sent
    are in the request's ASGI scope, which a2wsgi passes in the environ."""

    def with_metadata_names(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        names: dict[str, str] = {}
        for raw_name, _ in environ["asgi.scope"]["headers"]:
            name = raw_name.decode("latin-1")
            if should_preserve_original_header_name(name):
                names.setdefault(environ_key_for_header(name), name)
        if names:
            environ[PRESERVED_HEADER_NAMES_ENVIRON_KEY] = names
        return application(environ, start_response)

    return with_metadata_names
