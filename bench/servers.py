"""The servers a bench measures, each in a process of its own (the client, the bench, never shares their
interpreter lock): the embedded stack exactly as `make run` starts it, and a bare HTTP server of the same kind.

`python -m bench.servers PORT CONTENT_TYPE BODY` runs the bare server: uvicorn with the settings of the embedded
gateway's server (embedded_stack.apigateway.edge.Serving), answering every request with the given body, and nothing
else.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

from bench.common import ROOT, free_port


def wait_until_answering(url: str, process: subprocess.Popen, timeout: float = 300.0, poll: float = 0.005) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args} exited with {process.returncode} before answering {url}")
        try:
            if requests.get(url, timeout=1).ok:
                return
        except (requests.ConnectionError, requests.Timeout):  # not listening yet, or listening but not serving yet
            pass
        time.sleep(poll)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def launched(arguments: list[str], url: str, *, env: dict[str, str] | None = None) -> Iterator[tuple[float, Path]]:
    """Starts `python <arguments>` in a scratch folder; yields the seconds until `url` first answered, and the
    folder."""
    with tempfile.TemporaryDirectory(prefix="bench-server-") as scratch:
        environment = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
        with open(Path(scratch) / "server.log", "wb") as log:
            started = time.perf_counter()
            process = subprocess.Popen(
                [sys.executable, *arguments], cwd=scratch, env=environment, stdout=log, stderr=subprocess.STDOUT
            )
            try:
                wait_until_answering(url, process)
                yield time.perf_counter() - started, Path(scratch)
            finally:
                _stop(process)


@contextmanager
def embedded_stack() -> Iterator[tuple[dict[str, Any], float]]:
    """`make run` (`python -m embedded_stack`: hot reload on, INFO logs, written to a file here, not a terminal) on
    free ports; yields its outputs (apiUrl, awsEndpoint, userPoolId...) and the seconds until its first API request
    was served."""
    api_port, aws_port = free_port(), free_port()
    api = f"http://127.0.0.1:{api_port}"
    environment = {"API_PORT": str(api_port), "AWS_PORT": str(aws_port)}
    with launched(["-m", "embedded_stack"], f"{api}/health", env=environment) as (seconds, scratch):
        outputs = json.loads((scratch / ".local-stack" / "outputs.json").read_text())
        yield outputs, seconds


@contextmanager
def moto_server() -> Iterator[float]:
    """moto's server alone, the floor for any moto-based local stack; yields the seconds until it answered."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/moto-api/data.json"
    with launched(["-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], url) as (seconds, _):
        yield seconds


@contextmanager
def bare_server(content_type: str, body: bytes) -> Iterator[str]:
    """A bare HTTP server of the gateway's kind answering `body`; yields its URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with launched(["-m", "bench.servers", str(port), content_type, body.decode()], url):
        yield url


def bare_app(content_type: str, body: bytes) -> Callable[..., Awaitable[None]]:
    """An ASGI app answering every request with `body`, and doing nothing else."""
    headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


def serve_bare(port: int, content_type: str, body: bytes) -> None:
    import socket
    import threading

    from embedded_stack.apigateway.edge import Serving

    listening = socket.create_server(("127.0.0.1", port))
    Serving(bare_app(content_type, body), listening, stop_seconds=0.1)  # the gateway's server, without the gateway
    threading.Event().wait()  # until the bench stops this process


if __name__ == "__main__":
    serve_bare(int(sys.argv[1]), sys.argv[2], sys.argv[3].encode())
