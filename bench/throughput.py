"""Requests per second with 1, 4 and 16 concurrent clients: the stack (as `make run` starts it) / a bare HTTP
server of the same kind answering the same body. A ratio below 1 is what the stack costs in throughput.

The clients are threads of this process (one requests.Session each), the servers run in their own processes.
Other modules may extend it: `throughput_rows(name, candidate_url, baseline_url)` measures any pair of URLs at
every concurrency in CONCURRENCY.

    python -m bench.throughput
"""

from __future__ import annotations

import threading
import time
from typing import Any

import requests

from bench.common import interleaved, row, table
from bench.servers import bare_server, embedded_stack

CONCURRENCY = (1, 4, 16)
SECONDS = 1.0
ROUNDS = 5


def requests_per_second(url: str, clients: int, seconds: float = SECONDS) -> float:
    """Every client sends requests back to back until the deadline; answered requests / elapsed seconds."""
    answered = [0] * clients
    start = threading.Barrier(clients + 1)
    deadline = [0.0]

    def client(index: int) -> None:
        session = requests.Session()
        start.wait()
        while time.perf_counter() < deadline[0]:
            session.get(url).raise_for_status()
            answered[index] += 1

    threads = [threading.Thread(target=client, args=(index,)) for index in range(clients)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    deadline[0] = began + seconds
    start.wait()
    for thread in threads:
        thread.join()
    return sum(answered) / (time.perf_counter() - began)


def throughput_rows(name: str, candidate_url: str, baseline_url: str, note: str) -> list[dict[str, Any]]:
    rows = []
    for clients in CONCURRENCY:
        candidate, baseline = interleaved(
            lambda c=clients: requests_per_second(candidate_url, c),
            lambda c=clients: requests_per_second(baseline_url, c),
            ROUNDS,
        )
        rows.append(row(f"{name}_{clients}_clients", candidate, baseline, "requests/s", note))
    return rows


def run() -> list[dict[str, Any]]:
    with embedded_stack() as (outputs, _):
        health = requests.get(f"{outputs['apiUrl']}/health")
        with bare_server(health.headers["Content-Type"], health.content) as bare:
            return throughput_rows(
                "throughput_health",
                f"{outputs['apiUrl']}/health",
                bare,
                "GET /health through the stack / a bare server of the same kind answering the same body",
            )


if __name__ == "__main__":
    print(table(run()))
