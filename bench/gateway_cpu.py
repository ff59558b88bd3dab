"""The gateway's event-loop thread: its CPU time per `GET /health`, against the same server with nothing behind it.

With many clients the stack is bounded by this one thread (docs/benchmarks.md): it parses every request, builds the
event, hands it to a container, and writes the answer and the log lines. The stack runs in this process as `make run`
runs it (hot reload, state snapshots, its logging settings; the log goes to /dev/null as bench.local_stack's does), its
functions in their containers. The baseline is a bare ASGI app answering a fixed body on the same server
(`embedded_stack.apigateway.edge.Serving`, in a thread of its own). A client process sends blocks of requests, each on a
new connection, to one and then the other (rounds interleaved); the CPU counted is each loop thread's own (Linux's
schedstat), not the client's or the containers'.

- gateway_loop_cpu: loop-thread CPU per request, the stack's gateway / the bare server.

`python -m bench.gateway_cpu` runs it alone (Linux only).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

from bench.common import ROOT, row
from bench.servers import bare_app

ROUNDS = int(os.environ.get("BENCH_ROUNDS", 7))
REQUESTS = int(os.environ.get("BENCH_CPU_REQUESTS", 300))


def cpu_seconds(thread: threading.Thread) -> float:
    """The CPU time `thread` has run so far (Linux: the first field of its schedstat, in nanoseconds)."""
    schedstat = Path(f"/proc/self/task/{thread.native_id}/schedstat").read_text()
    return int(schedstat.split()[0]) / 1e9


def loop_thread() -> threading.Thread:
    (thread,) = [thread for thread in threading.enumerate() if thread.name == "api-gateway"]
    return thread


def run() -> list[dict[str, Any]]:
    from embedded_stack.__main__ import configure_logging
    from embedded_stack.apigateway.edge import Serving
    from embedded_stack.stack import EmbeddedStack, StackSettings

    configure_logging(open(os.devnull, "w"))  # noqa: SIM115 (for as long as the process lives)
    with tempfile.TemporaryDirectory(prefix="bench-gateway-cpu-") as scratch:
        settings = StackSettings(api_port=0, aws_port=0, state_dir=Path(scratch), outputs_file=None)
        with EmbeddedStack(settings) as stack:
            gateway = loop_thread()
            listening = socket.create_server(("127.0.0.1", 0))
            bare = Serving(bare_app("application/json", b'{"status":"ok"}'), listening, stop_seconds=0.1)
            try:
                bare_url = f"http://127.0.0.1:{bare.port}/health"
                targets = {"candidate": (f"{stack.api_url}/health", gateway), "baseline": (bare_url, bare.thread)}
                samples = measure(targets)
            finally:
                bare.stop()
    return [
        row(
            "gateway_loop_cpu",
            samples["candidate"],
            samples["baseline"],
            "s/request",
            f"CPU of the gateway's loop thread per GET /health (new connection; {REQUESTS} a round) / the same "
            "server's with a bare app answering a fixed body",
        )
    ]


def measure(targets: dict[str, tuple[str, threading.Thread]]) -> dict[str, list[float]]:
    client = subprocess.Popen(
        [sys.executable, "-m", "bench.gateway_cpu", "client"],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ | {"PYTHONPATH": str(ROOT)},
    )
    assert client.stdin is not None and client.stdout is not None

    def block(url: str, requests: int) -> None:
        client.stdin.write(f"{url} {requests}\n")
        client.stdin.flush()
        if client.stdout.readline().strip() != "ok":
            raise RuntimeError(f"the bench client failed on {url}")

    samples: dict[str, list[float]] = {name: [] for name in targets}
    try:
        for url, _ in targets.values():
            block(url, 50)  # warm: a container, the connections' code paths
        for _ in range(ROUNDS):
            for name, (url, thread) in targets.items():
                before = cpu_seconds(thread)
                block(url, REQUESTS)
                samples[name].append((cpu_seconds(thread) - before) / REQUESTS)
    finally:
        client.stdin.close()
        client.wait(timeout=60)
    return samples


def client() -> None:
    """`URL N` lines on stdin: N GET requests to URL, each on a new connection; `ok` after each block."""
    from bench.local_stack import Client

    for line in sys.stdin:
        url, requests = line.split()
        target = Client(url, keep_alive=False)
        for _ in range(int(requests)):
            target.get()
        print("ok", flush=True)


if __name__ == "__main__":
    if sys.argv[1:] == ["client"]:
        client()
    else:
        from bench.common import table

        print(table(run()))
