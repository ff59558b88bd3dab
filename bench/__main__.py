"""`make bench`: speed and memory of the embedded stack, each as a ratio to a baseline measured in the same run.

Absolute times depend on the machine; the ratios say what the stack adds on top of the code it runs:
- api_gateway_overhead: GET /health over HTTP through the stand-in / the same handler called directly.
- authorizer_overhead: GET /tenants/{id} with a Cognito token over HTTP / the same handler called directly.
- tenant_create: POST /tenants over HTTP / the same handler called directly (both write to the moto server).
- stack_start: a fresh interpreter until the embedded stack served its first API request / a fresh interpreter
  until moto's server alone answered its first request (the floor for any moto-based local stack).
- gateway_memory_peak: peak Python memory (tracemalloc) of 100 GET /health through the stand-in's WSGI app (route
  match, event, handler, response; no sockets, whose buffers belong to the dev HTTP server) / of 100 direct calls
  of the same handler.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import statistics
import subprocess
import sys
import time
import tracemalloc
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
from werkzeug.test import Client

from embedded_stack.events import lambda_context, proxy_event
from embedded_stack.stack import EmbeddedStack, StackSettings

RESULTS = Path(__file__).parent / "results" / "latest.json"
ROUNDS = 5


def batch_seconds(action: Callable[[], Any], calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        action()
    return (time.perf_counter() - started) / calls


def compare(name: str, candidate: Callable[[], Any], baseline: Callable[[], Any], calls: int) -> dict[str, Any]:
    """Median seconds per call of each, their rounds interleaved so that drift (a growing table, a busy
    machine) weighs on both alike."""
    candidate_samples, baseline_samples = [], []
    for _ in range(ROUNDS):
        candidate_samples.append(batch_seconds(candidate, calls))
        baseline_samples.append(batch_seconds(baseline, calls))
    return ratio(name, statistics.median(candidate_samples), statistics.median(baseline_samples), "s/request")


STACK_FIRST_REQUEST = """
import time
import requests
from embedded_stack.stack import EmbeddedStack, StackSettings
stack = EmbeddedStack(StackSettings(api_port=0, aws_port=0, outputs_file=None, reload=False)).start()
requests.get(stack.api_url + "/health").raise_for_status()
print(time.time())
stack.stop()
"""
MOTO_FIRST_REQUEST = """
import time
import requests
from moto.moto_server.threaded_moto_server import ThreadedMotoServer
moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
moto.start()
host, port = moto.get_host_and_port()
requests.get(f"http://{host}:{port}/moto-api/data.json").raise_for_status()
print(time.time())
moto.stop()
"""


def fresh_interpreter_seconds(program: str) -> float:
    """Seconds from starting a new interpreter until `program` prints the time its first request was served."""
    samples = []
    for _ in range(3):
        started = time.time()
        finished = subprocess.run([sys.executable, "-c", program], check=True, capture_output=True, text=True)
        samples.append(float(finished.stdout.split()[-1]) - started)
    return statistics.median(samples)


def peak_bytes(action: Callable[[], Any], calls: int) -> float:
    tracemalloc.start()
    for _ in range(calls):
        action()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def ratio(name: str, candidate: float, baseline: float, unit: str) -> dict[str, Any]:
    return {"name": name, "candidate": candidate, "baseline": baseline, "ratio": candidate / baseline, "unit": unit}


def direct(module: str, event: dict[str, Any]) -> Callable[[], Any]:
    handler = importlib.import_module(module).lambda_handler
    name = module.split(".")[1]
    return lambda: handler(event, lambda_context(name))


def signed_in(session: requests.Session, api: str) -> tuple[dict[str, str], dict[str, str]]:
    email, password = f"bench-{uuid.uuid4().hex[:8]}@example.com", "Bench-Password-42!"
    session.post(f"{api}/auth/signup", json={"email": email, "password": password, "name": "Bench"}).raise_for_status()
    tokens = session.post(f"{api}/auth/login", json={"email": email, "password": password})
    tokens.raise_for_status()
    id_token = tokens.json()["idToken"]
    from jwt import decode

    claims = {key: str(value) for key, value in decode(id_token, options={"verify_signature": False}).items()}
    return {"Authorization": f"Bearer {id_token}"}, claims


def main() -> None:
    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"  # the handlers' logs are not what is measured
    results = [
        ratio(
            "stack_start",
            fresh_interpreter_seconds(STACK_FIRST_REQUEST),
            fresh_interpreter_seconds(MOTO_FIRST_REQUEST),
            "s",
        )
    ]
    stack = EmbeddedStack(StackSettings(api_port=0, aws_port=0, outputs_file=None, reload=False)).start()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    try:
        api = stack.api_url
        session = requests.Session()
        headers, claims = signed_in(session, api)

        health_event = proxy_event("GET", "/health", headers={"Host": "localhost"})
        results.append(
            compare(
                "api_gateway_overhead",
                lambda: session.get(f"{api}/health"),
                direct("lambdas.platform.handler", health_event),
                200,
            )
        )
        tenant = session.post(
            f"{api}/tenants",
            json={"name": "Bench", "website": f"{uuid.uuid4().hex}.example", "contactEmail": "b@bench.example"},
            headers=headers,
        ).json()
        get_event = proxy_event(
            "GET",
            f"/tenants/{tenant['id']}",
            resource="/tenants/{tenantId}",
            path_parameters={"tenantId": tenant["id"]},
            claims=claims,
        )
        results.append(
            compare(
                "authorizer_overhead",
                lambda: session.get(f"{api}/tenants/{tenant['id']}", headers=headers),
                direct("lambdas.tenants.handler", get_event),
                100,
            )
        )

        def create_over_http() -> None:
            body = {"name": "Bench", "website": f"{uuid.uuid4().hex}.example", "contactEmail": "b@bench.example"}
            session.post(f"{api}/tenants", json=body, headers=headers).raise_for_status()

        tenants_handler = importlib.import_module("lambdas.tenants.handler").lambda_handler

        def create_directly() -> None:
            body = {"name": "Bench", "website": f"{uuid.uuid4().hex}.example", "contactEmail": "b@bench.example"}
            event = proxy_event(
                "POST", "/tenants", body=json.dumps(body), headers={"Content-Type": "application/json"}, claims=claims
            )
            tenants_handler(event, lambda_context("tenants"))

        results.append(compare("tenant_create", create_over_http, create_directly, 50))
        gateway = Client(stack.gateway)
        results.append(
            ratio(
                "gateway_memory_peak",
                peak_bytes(lambda: gateway.get("/health"), 100),
                peak_bytes(direct("lambdas.platform.handler", health_event), 100),
                "bytes",
            )
        )
    finally:
        stack.stop()

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print("| benchmark | candidate | baseline | ratio |")
    print("|---|---|---|---|")
    for row in results:
        unit = row["unit"]
        print(f"| {row['name']} | {row['candidate']:.6g} {unit} | {row['baseline']:.6g} {unit} | {row['ratio']:.2f}x |")


if __name__ == "__main__":
    main()
