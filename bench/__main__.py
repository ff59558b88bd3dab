"""`make bench`: speed and memory of the embedded stack, each as a ratio to a baseline measured in the same run.

Absolute times depend on the machine; the ratios say what the stack adds on top of the code it runs:
- api_gateway_overhead: GET /health over HTTP through the stand-in / the same handler called directly.
- authorizer_overhead: GET /tenants/{id} with a Cognito token over HTTP / the same handler called directly.
- tenant_create: POST /tenants over HTTP / the same handler called directly (both write to the moto server).
- stack_start: starting the whole embedded stack / starting moto's server alone.
- memory_per_request: bytes allocated per HTTP request (tracemalloc peak) / per direct handler call.
"""

from __future__ import annotations

import importlib
import json
import statistics
import time
import tracemalloc
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
from moto.moto_server.threaded_moto_server import ThreadedMotoServer

from embedded_stack.events import lambda_context, proxy_event
from embedded_stack.stack import EmbeddedStack, StackSettings

RESULTS = Path(__file__).parent / "results" / "latest.json"
ROUNDS = 5


def per_call(action: Callable[[], Any], calls: int) -> float:
    """Median over ROUNDS of the mean seconds per call."""
    samples = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for _ in range(calls):
            action()
        samples.append((time.perf_counter() - started) / calls)
    return statistics.median(samples)


def peak_bytes(action: Callable[[], Any], calls: int) -> float:
    tracemalloc.start()
    for _ in range(calls):
        action()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / calls


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
    results = []
    started = time.perf_counter()
    stack = EmbeddedStack(StackSettings(api_port=0, aws_port=0, outputs_file=None, reload=False)).start()
    stack_start = time.perf_counter() - started
    moto_started = time.perf_counter()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    moto_start = time.perf_counter() - moto_started
    moto.stop()
    results.append(ratio("stack_start", stack_start, moto_start, "s"))
    try:
        api = stack.api_url
        session = requests.Session()
        headers, claims = signed_in(session, api)

        health_event = proxy_event("GET", "/health", headers={"Host": "localhost"})
        results.append(
            ratio(
                "api_gateway_overhead",
                per_call(lambda: session.get(f"{api}/health"), 200),
                per_call(direct("lambdas.platform.handler", health_event), 200),
                "s/request",
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
            ratio(
                "authorizer_overhead",
                per_call(lambda: session.get(f"{api}/tenants/{tenant['id']}", headers=headers), 100),
                per_call(direct("lambdas.tenants.handler", get_event), 100),
                "s/request",
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

        results.append(
            ratio("tenant_create", per_call(create_over_http, 50), per_call(create_directly, 50), "s/request")
        )
        results.append(
            ratio(
                "memory_per_request",
                peak_bytes(lambda: session.get(f"{api}/health"), 100),
                peak_bytes(direct("lambdas.platform.handler", health_event), 100),
                "bytes/request",
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
