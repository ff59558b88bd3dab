"""What the embedded stack costs a user, each figure against a fair baseline measured in the same rounds.

- stack_start: a fresh `make run` (`python -m embedded_stack`) until its first API request was served / a fresh
  moto server alone until it answered its first request (the floor for any moto-based local stack).
- api_gateway_overhead: one GET /health round trip through the stack over HTTP / the same round trip to a bare
  HTTP server of the same kind (uvicorn, as the gateway is served) answering the same body.
- authorizer_overhead: the Cognito authorizer itself (CognitoAuthorizer.claims on a real ID token, its key set
  cached as in the stack) / one GET /health round trip through the stack: what authorization adds to a request.
- gateway_memory_peak: peak Python memory (tracemalloc) of 100 GET /health through the gateway's ASGI app with
  `make run`'s settings (route match, event, handler, response) / of 100 direct calls of the same handler, in a
  process of their own that runs no server and no other thread (no socket buffers, no other requests counted).

The stack runs in its own process exactly as `make run` starts it (hot reload on, INFO logs); the clients run here.

    python -m bench.stack
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from typing import Any

import requests

from bench.common import ROUNDS, interleaved, per_call_seconds, row, table
from bench.servers import bare_server, embedded_stack, moto_server

CALLS = 100


def _start_seconds(server: Any) -> float:
    with server() as started:
        return started[1] if isinstance(started, tuple) else started


# Fewer rounds: each is two fresh interpreters importing moto (seconds each, tens of seconds on a loaded machine).
START_ROUNDS = 3


def stack_start() -> dict[str, Any]:
    candidate, baseline = interleaved(
        lambda: _start_seconds(embedded_stack), lambda: _start_seconds(moto_server), START_ROUNDS
    )
    return row("stack_start", candidate, baseline, "s", "`make run` until its first API answer / moto's server alone")


def signed_in(session: requests.Session, api: str) -> str:
    email, password = f"bench-{uuid.uuid4().hex[:8]}@example.com", "Bench-Password-42!"
    session.post(f"{api}/auth/signup", json={"email": email, "password": password, "name": "Bench"}).raise_for_status()
    tokens = session.post(f"{api}/auth/login", json={"email": email, "password": password})
    tokens.raise_for_status()
    return f"Bearer {tokens.json()['idToken']}"


def over_http(outputs: dict[str, Any]) -> list[dict[str, Any]]:
    from embedded_stack.apigateway.authorizer import CognitoAuthorizer

    api = outputs["apiUrl"]
    session = requests.Session()
    health = session.get(f"{api}/health")
    health.raise_for_status()
    rows = []
    with bare_server(health.headers["Content-Type"], health.content) as bare:
        bare_session = requests.Session()
        assert bare_session.get(bare).content == health.content
        stack_round_trip = lambda: per_call_seconds(lambda: session.get(f"{api}/health"), CALLS)  # noqa: E731
        candidate, baseline = interleaved(
            stack_round_trip, lambda: per_call_seconds(lambda: bare_session.get(bare), CALLS)
        )
        rows.append(
            row(
                "api_gateway_overhead",
                candidate,
                baseline,
                "s/request",
                "GET /health through the stack / a bare server of the same kind answering the same body",
            )
        )
    token = signed_in(session, api)
    pool = outputs["userPoolId"]
    authorizer = CognitoAuthorizer(
        jwks_url=f"{outputs['awsEndpoint']}/{pool}/.well-known/jwks.json",
        issuer=f"https://cognito-idp.{outputs['region']}.amazonaws.com/{pool}",
        audience=outputs["userPoolClientId"],
    )
    authorizer.claims(token)  # fetches the key set once, as the stack's authorizer has
    candidate, baseline = interleaved(
        lambda: per_call_seconds(lambda: authorizer.claims(token), CALLS), stack_round_trip
    )
    rows.append(
        row(
            "authorizer_overhead",
            candidate,
            baseline,
            "s/request",
            "CognitoAuthorizer.claims on an ID token / one GET /health round trip through the stack",
        )
    )
    return rows


MEMORY_PROBE = """
import asyncio, json, logging, sys, tracemalloc
logging.basicConfig(level=logging.INFO, stream=sys.stderr)  # make run's logging
from embedded_stack.apigateway.events import lambda_context, proxy_event
from embedded_stack.apigateway.gateway import Gateway, HandlerCode

class NoCaller:  # /health is public: the authorizer is never asked
    def claims(self, authorization_header):
        raise AssertionError("a public route needs no claims")

gateway = Gateway(HandlerCode(), NoCaller())
scope = {
    "type": "http", "method": "GET", "path": "/health", "query_string": b"", "headers": [(b"host", b"localhost")],
    "http_version": "1.1", "scheme": "http", "server": ("127.0.0.1", 3000), "client": ("127.0.0.1", 50000),
}

async def receive():
    return {"type": "http.request", "body": b"", "more_body": False}

async def send(message):
    pass

loop = asyncio.new_event_loop()
from lambdas.platform.handler import lambda_handler
event = proxy_event("GET", "/health", headers={"Host": "localhost"})

def peak(action, calls):
    tracemalloc.start()
    for _ in range(calls):
        action()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak

through_gateway = lambda: loop.run_until_complete(gateway(scope, receive, send))
direct = lambda: lambda_handler(event, lambda_context("platform"))
through_gateway(), direct()  # imports and caches: not what a request costs
samples = {"candidate": [], "baseline": []}
for round_number in range(int(sys.argv[1])):
    order = [("candidate", through_gateway), ("baseline", direct)]
    for name, action in order if round_number % 2 == 0 else order[::-1]:
        samples[name].append(peak(action, int(sys.argv[2])))
print(json.dumps(samples))
"""


def gateway_memory_peak() -> dict[str, Any]:
    probe = subprocess.run(
        [sys.executable, "-c", MEMORY_PROBE, str(ROUNDS), str(CALLS)],
        capture_output=True,
        text=True,
        check=True,
        env={**__import__("os").environ, "AWS_DEFAULT_REGION": "us-east-1"},
    )
    samples = json.loads(probe.stdout.splitlines()[-1])
    return row(
        "gateway_memory_peak",
        samples["candidate"],
        samples["baseline"],
        "bytes",
        f"tracemalloc peak of {CALLS} GET /health through the gateway's ASGI app / {CALLS} direct handler calls",
    )


def run() -> list[dict[str, Any]]:
    rows = [stack_start(), gateway_memory_peak()]
    with embedded_stack() as (outputs, _):
        rows += over_http(outputs)
    return rows


if __name__ == "__main__":
    print(table(run()))
