"""The embedded stack (`make run`) against `chalice local`, side by side in one run: latency and throughput.

Both serve the same two routes against the same moto server: `GET /health`, and a DynamoDB read (`GET
/tenants/{id}`: one GetItem; the stack's route is protected, so it also checks a Cognito ID token, whose cost is
measured and reported on its own). The stack runs as `make run` runs it (`python -m embedded_stack`, its logs
included); chalice as `chalice local --no-autoreload`. The clients run in separate processes, with the standard
library's http.client: each request on a new connection (as curl makes them), and apart on kept-alive HTTP/1.1
connections (as requests' Session and browsers do; both servers keep them, chalice about 40 ms late per request).

- local_health_p50 / local_read_p50 (and their _keepalive rows): median latency over 5 rounds x 500 requests,
  rounds interleaved (stack, then chalice, in each round); the ratio's min/max is over the rounds. The read's
  candidate is the stack's latency minus the authorizer's median cost (local_authorizer_cost), which chalice does
  not pay.
- local_throughput_<n> (and local_throughput_8_keepalive): requests per second of n concurrent client processes on
  /health for 2 s, 3 interleaved rounds; the ratio is the stack's throughput over chalice's (higher is better).
- local_health_p50_same_function / local_read_p50_same_function / local_throughput_8_same_function: the same
  measures (new connections) against a second `chalice local` whose routes call the stack's own functions
  (bench/chalice_same_function: the Powertools resolvers the stack runs in containers, called in chalice's process),
  interleaved with the others. chalice's one-line views do far less than those functions; these rows compare what
  serves a function, the function being the same.
- Where the stack's `/health` goes, against chalice's p50 in the same rounds: local_health_p50_bare_server, the
  gateway's HTTP server alone answering a fixed body (bench.servers: uvicorn with the gateway's settings, in the
  rounds with the others); local_health_function, the `/health` function's own time in its container (the median
  Duration of its REPORT lines over those rounds). The stack's p50 less these two is what the gateway and the hand-
  offs to and from the container cost.

`python -m bench.local_stack` runs it alone.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bench.common import ROOT, free_port
from bench.servers import bare_server
from lambdas.catalog.functions import PLATFORM

CHALICE_PROJECT = Path(__file__).resolve().parent / "chalice_baseline"
SAME_FUNCTION_PROJECT = Path(__file__).resolve().parent / "chalice_same_function"
ROUNDS = int(os.environ.get("BENCH_ROUNDS", 5))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", 500))
THROUGHPUT_ROUNDS = int(os.environ.get("BENCH_THROUGHPUT_ROUNDS", 3))
THROUGHPUT_SECONDS = 2.0
CLIENTS = (1, 4, 8, 16)
STACK_LOG = "stack.log"


def wait_for(url: str, process: subprocess.Popen[bytes], limit: float = 180.0) -> None:
    """Until `url` answers 200; the process is stopped if it never does."""
    try:
        answered(url, process, limit)
    except BaseException:
        stop(process)
        raise


def answered(url: str, process: subprocess.Popen[bytes], limit: float) -> None:
    import requests

    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args} exited with {process.returncode}")
        try:
            if requests.get(url, timeout=60).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer")


def start_stack(workdir: Path) -> tuple[subprocess.Popen[bytes], str, dict[str, Any]]:
    """`make run`'s command, in a scratch directory (its outputs and data stay there)."""
    api_port, aws_port = free_port(), free_port()
    environment = os.environ | {"API_PORT": str(api_port), "AWS_PORT": str(aws_port), "PYTHONPATH": str(ROOT)}
    with open(workdir / STACK_LOG, "wb") as log:  # its console, as `make run` prints it (REPORT lines included)
        process = subprocess.Popen(
            [sys.executable, "-m", "embedded_stack"],
            cwd=workdir,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
        )
    api = f"http://127.0.0.1:{api_port}"
    wait_for(f"{api}/health", process)
    outputs = json.loads(next(workdir.rglob("outputs.json")).read_text())
    return process, api, outputs


def start_chalice(outputs: dict[str, Any], project: Path = CHALICE_PROJECT) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    environment = os.environ | {
        "PYTHONPATH": str(ROOT),  # the same-function app imports the stack's function
        "AWS_ENDPOINT_URL": outputs["awsEndpoint"],
        "AWS_DEFAULT_REGION": outputs["region"],
        "AWS_ACCESS_KEY_ID": "embedded",
        "AWS_SECRET_ACCESS_KEY": "embedded",
        "TENANTS_TABLE": outputs["tables"]["tenants"],
    }
    chalice = [str(Path(sys.executable).parent / "chalice"), "--project-dir", str(project)]
    process = subprocess.Popen(
        [*chalice, "local", "--no-autoreload", "--host", "127.0.0.1", "--port", str(port)],
        env=environment,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    api = f"http://127.0.0.1:{port}"
    wait_for(f"{api}/health", process)
    return process, api


def signed_in_tenant(api: str) -> tuple[str, str]:
    """An ID token and a tenant of its user, through the stack's API."""
    import requests

    email, password = f"bench-{uuid.uuid4().hex[:8]}@example.com", "Bench-Password-42!"
    with requests.Session() as session:
        session.post(f"{api}/auth/signup", json={"email": email, "password": password, "name": "Bench"}, timeout=60)
        login = session.post(f"{api}/auth/login", json={"email": email, "password": password}, timeout=60)
        login.raise_for_status()
        token = login.json()["idToken"]
        body = {"name": "Bench", "website": f"{uuid.uuid4().hex}.example", "contactEmail": "b@bench.example"}
        created = session.post(f"{api}/tenants", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=60)
        created.raise_for_status()
        return token, created.json()["id"]


def authorizer_seconds(outputs: dict[str, Any], token: str) -> float:
    """Median seconds of one Cognito ID-token check as the stack's authorizer makes it (JWKS cached)."""
    from embedded_stack.apigateway.authorizer import CognitoAuthorizer

    pool_id = outputs["userPoolId"]
    authorizer = CognitoAuthorizer(
        jwks_url=f"{outputs['awsEndpoint']}/{pool_id}/.well-known/jwks.json",
        issuer=f"https://cognito-idp.{outputs['region']}.amazonaws.com/{pool_id}",
        audience=outputs["userPoolClientId"],
    )
    header = f"Bearer {token}"
    authorizer.claims(header)
    samples = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        authorizer.claims(header)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def function_seconds(log: Path, function: str) -> list[float]:
    """The Duration of each of `function`'s invocations in the stack's log so far, in seconds (REPORT lines)."""
    report = re.compile(rf"embedded_stack\.lambda\.{function} REPORT RequestId: \S+\tDuration: ([\d.]+) ms")
    return [float(match[1]) / 1000 for match in report.finditer(log.read_text(errors="replace"))]


def run_client(mode: str, spec: dict[str, Any]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "bench.local_stack", mode, json.dumps(spec)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=os.environ | {"PYTHONPATH": str(ROOT)},
    )


def client_output(process: subprocess.Popen[bytes]) -> Any:
    assert process.stdout is not None
    if process.stdin and not process.stdin.closed:
        process.stdin.close()
    out = process.stdout.read()
    if process.wait(timeout=600):
        raise RuntimeError(f"bench client failed with {process.returncode}")
    return json.loads(out)


def latency_rounds(targets: dict[str, tuple[str, dict[str, str]]], keep_alive: bool) -> dict[str, list[float]]:
    """Per target (url, headers): the median latency of each round, in seconds. One client process for all."""
    spec = {"targets": targets, "rounds": ROUNDS, "requests": REQUESTS, "keepAlive": keep_alive}
    return dict(client_output(run_client("latency", spec)))


def throughput(url: str, clients: int, seconds: float, keep_alive: bool) -> float:
    """Requests per second that `clients` concurrent client processes got answered within `seconds`."""
    processes = [run_client("load", {"url": url, "keepAlive": keep_alive}) for _ in range(clients)]
    for process in processes:  # each has connected and made one request
        assert process.stdout is not None and process.stdout.readline().strip() == b"ready"
    end = time.time() + seconds
    for process in processes:
        assert process.stdin is not None
        process.stdin.write(f"{end}\n".encode())
        process.stdin.close()
    return sum(client_output(process) for process in processes) / seconds


def row(name: str, candidate: list[float], baseline: list[float], unit: str, note: str) -> dict[str, Any]:
    ratios = [c / b for c, b in zip(candidate, baseline, strict=True)]
    middle_candidate, middle_baseline = statistics.median(candidate), statistics.median(baseline)
    print(f"{name}: {candidate} vs {baseline} {unit}", file=sys.stderr, flush=True)  # a long run shows progress
    return {
        "name": name,
        "candidate": middle_candidate,
        "baseline": middle_baseline,
        "unit": unit,
        "ratio": middle_candidate / middle_baseline,
        "ratio_min": min(ratios),
        "ratio_max": max(ratios),
        "note": note,
    }


def run() -> list[dict[str, Any]]:
    rows = []
    with ExitStack() as cleanup, tempfile.TemporaryDirectory() as scratch:
        stack, api, outputs = start_stack(Path(scratch))
        cleanup.callback(stop, stack)
        bare = cleanup.enter_context(bare_server("application/json", b'{"status":"ok"}'))
        chalice, baseline = start_chalice(outputs)
        cleanup.callback(stop, chalice)
        same_function_chalice, same_function = start_chalice(outputs, SAME_FUNCTION_PROJECT)
        cleanup.callback(stop, same_function_chalice)
        token, tenant_id = signed_in_tenant(api)
        authorized = {"Authorization": f"Bearer {token}"}
        authorizer = authorizer_seconds(outputs, token)

        latency_routes = (  # (row name, path, protected, what a request does)
            ("local_health_p50", "/health", False, "GET /health"),
            ("local_read_p50", f"/tenants/{tenant_id}", True, "one GetItem"),
        )
        for keep_alive, mode in ((False, "new connection per request"), (True, "kept-alive connection")):
            suffix = "_keepalive" if keep_alive else ""
            for name, path, protected, what in latency_routes:
                headers = authorized if protected else {}
                targets = {"stack": (f"{api}{path}", headers), "chalice": (f"{baseline}{path}", {})}
                if not keep_alive:  # chalice's 40 ms a kept-alive request says enough once
                    targets["same_function"] = (f"{same_function}{path}", headers)
                if not keep_alive and not protected:
                    targets["bare"] = (f"{bare}{path}", {})
                    invocations_before = len(function_seconds(Path(scratch) / STACK_LOG, PLATFORM.name))
                seconds = latency_rounds(targets, keep_alive)
                stack_seconds, taken_out = seconds["stack"], ""
                if protected:  # the stack's authorizer is measured apart (chalice checks no token)
                    protected_read = seconds["stack"]  # the last, kept-alive, is the authorizer's row's baseline
                    stack_seconds = [each - authorizer for each in seconds["stack"]]
                    taken_out = (
                        f"; the stack's authorizer ({authorizer * 1000:.2f} ms) taken out "
                        f"(with it: {statistics.median(seconds['stack']) * 1000:.2f} ms)"
                    )
                note = f"{what}, {mode}{taken_out}"
                rows.append(row(f"{name}{suffix}", stack_seconds, seconds["chalice"], "s", note))
                if "same_function" in seconds:
                    note = f"{what}, {mode}; chalice serves the stack's own function in its process{taken_out}"
                    rows.append(row(f"{name}_same_function", stack_seconds, seconds["same_function"], "s", note))
                if "bare" in seconds:
                    rows.extend(health_parts(seconds, Path(scratch) / STACK_LOG, invocations_before))
        rows.append(
            row(
                "local_authorizer_cost",
                [authorizer] * ROUNDS,
                protected_read,
                "s",
                "median Cognito ID-token check (signature, claims; JWKS cached) / the stack's protected read p50",
            )
        )

        for keep_alive, clients in [(False, n) for n in CLIENTS] + [(True, 8)]:
            servers = {"stack": api, "chalice": baseline}
            if clients == 8 and not keep_alive:
                servers["same_function"] = same_function
            for server in servers.values():  # warm: as many containers as clients
                throughput(f"{server}/health", clients, 1.0, keep_alive)
            rates: dict[str, list[float]] = {name: [] for name in servers}
            for _ in range(THROUGHPUT_ROUNDS):
                for name, server in servers.items():
                    rates[name].append(throughput(f"{server}/health", clients, THROUGHPUT_SECONDS, keep_alive))
            mode = "kept-alive connections" if keep_alive else "a new connection per request"
            name = f"local_throughput_{clients}" + ("_keepalive" if keep_alive else "")
            note = f"{clients} concurrent clients on GET /health, {mode} (higher is better)"
            rows.append(row(name, rates["stack"], rates["chalice"], "req/s", note))
            if "same_function" in rates:
                note += "; chalice serves the stack's own function in its process"
                rows.append(row(f"{name}_same_function", rates["stack"], rates["same_function"], "req/s", note))
    return rows


def health_parts(seconds: dict[str, list[float]], log: Path, invocations_before: int) -> list[dict[str, Any]]:
    """The rows that split the stack's `/health` p50: its HTTP server alone, and its function alone."""
    time.sleep(0.5)  # a REPORT line is written once its answer is on its way
    durations = function_seconds(log, PLATFORM.name)[invocations_before:]
    function = statistics.median(durations)
    note = "GET /health, new connection per request; the gateway's HTTP server alone, a fixed answer"
    return [
        row("local_health_p50_bare_server", seconds["bare"], seconds["chalice"], "s", note),
        row(
            "local_health_function",
            [function] * len(seconds["chalice"]),
            seconds["chalice"],
            "s",
            f"the /health function's own time in its container, median of {len(durations)} REPORT lines",
        ),
    ]


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# The client side, in its own processes: only the standard library.


class Client:
    """GET requests to one URL: on one kept-alive connection, or each on a new one (closed after it)."""

    def __init__(self, url: str, keep_alive: bool, headers: dict[str, str] | None = None) -> None:
        netloc, _, path = url.split("//", 1)[1].partition("/")
        self.netloc, self.path, self.keep_alive, self.headers = netloc, f"/{path}", keep_alive, headers or {}
        self.connection: http.client.HTTPConnection | None = None

    def get(self) -> None:
        reused = self.connection is not None
        try:
            response = self._send()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            if not reused:
                raise
            # A server may close a connection left idle (the other server's turn, in a round): as urllib3 does,
            # a request on a pooled connection that was closed meanwhile goes again on a new one.
            self.connection = None
            response = self._send()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"GET {self.path}: {response.status}")
        if not self.keep_alive or response.will_close:
            self.connection.close()
            self.connection = None

    def _send(self) -> http.client.HTTPResponse:
        if self.connection is None:
            self.connection = http.client.HTTPConnection(self.netloc, timeout=60)
            self.connection.connect()
            # As urllib3 (requests) does: small requests go out at once.
            self.connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.connection.request("GET", self.path, headers=self.headers)
        return self.connection.getresponse()


def latency_client(spec: dict[str, Any]) -> dict[str, list[float]]:
    medians: dict[str, list[float]] = {name: [] for name in spec["targets"]}
    clients = {name: Client(url, spec["keepAlive"], headers) for name, (url, headers) in spec["targets"].items()}
    for _ in range(spec["rounds"]):
        for name, client in clients.items():
            client.get()  # a kept-alive connection is open before timing
            samples = []
            for _ in range(spec["requests"]):
                started = time.perf_counter()
                client.get()
                samples.append(time.perf_counter() - started)
            medians[name].append(statistics.median(samples))
    return medians


def load_client(spec: dict[str, Any]) -> int:
    client = Client(spec["url"], spec["keepAlive"])
    for _ in range(5):  # cold starts of many containers at once can take longer than API Gateway waits (504)
        try:
            client.get()
            break
        except RuntimeError:
            client.connection = None
    print("ready", flush=True)
    end = float(sys.stdin.readline())
    answered = 0
    while time.time() < end:
        client.get()
        answered += 1
    return answered


def print_rows(rows: list[dict[str, Any]]) -> None:
    print("| benchmark | stack | chalice local | ratio (min-max) | note |")
    print("|---|---|---|---|---|")
    for entry in rows:
        scale, unit = (1000, "ms") if entry["unit"] == "s" else (1, entry["unit"])
        print(
            f"| {entry['name']} | {entry['candidate'] * scale:.3g} {unit} | {entry['baseline'] * scale:.3g} {unit} "
            f"| {entry['ratio']:.2f}x ({entry['ratio_min']:.2f}-{entry['ratio_max']:.2f}) | {entry['note']} |"
        )


if __name__ == "__main__":
    if len(sys.argv) == 3:
        client = {"latency": latency_client, "load": load_client}[sys.argv[1]]
        print(json.dumps(client(json.loads(sys.argv[2]))))
    else:
        print_rows(run())
