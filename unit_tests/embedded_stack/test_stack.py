"""Starting and stopping the embedded stack: busy ports, its state across restarts, its signing key, Ctrl-C and
kill -9 of `python -m embedded_stack` (the process `make run` starts)."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests
from moto.core.base_backend import BackendDict
from moto.utilities.utils import load_resource

from embedded_stack.__main__ import banner
from embedded_stack.moto import persistence, signing_key
from embedded_stack.stack import EmbeddedStack, StackSettings, StartError
from lambdas.shared.aws import client

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Correct-Horse-42"


@pytest.fixture(autouse=True)
def own_environment() -> Iterator[None]:
    """The stack points this process's AWS settings at its moto server: the other tests get theirs back."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)
    client.cache_clear()


@pytest.fixture
def busy_port() -> Iterator[int]:
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    listening.listen()
    yield listening.getsockname()[1]
    listening.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def settings(**overrides: Any) -> StackSettings:
    return StackSettings(**({"api_port": 0, "aws_port": 0, "outputs_file": None, "reload": False} | overrides))


@pytest.mark.parametrize("variable", ["API_PORT", "AWS_PORT"])
def test_a_busy_port_the_user_chose_fails_at_once_naming_the_variable(busy_port: int, variable: str) -> None:
    chosen = {"api_port": busy_port, "api_port_chosen": True} if variable == "API_PORT" else {}
    chosen = chosen or {"aws_port": busy_port, "aws_port_chosen": True}
    started = time.monotonic()

    with pytest.raises(StartError) as refused:
        EmbeddedStack(settings(**chosen)).start()

    assert time.monotonic() - started < 2
    assert f"{variable}={busy_port} is in use" in str(refused.value)
    assert f"set {variable} to a free port" in str(refused.value)


def test_a_busy_default_port_moves_to_the_next_free_one_and_says_so(busy_port: int) -> None:
    with EmbeddedStack(settings(api_port=busy_port)) as stack:
        assert requests.get(f"{stack.api_url}/health", timeout=10).status_code == 200
        used = int(stack.api_url.rsplit(":", 1)[1])
        assert used > busy_port
        assert stack.moved_ports == {"API_PORT": (busy_port, used)}
        assert f"API_PORT {busy_port} was busy: using {used}" in banner(stack)


def test_when_every_port_tried_is_busy_the_message_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("embedded_stack.stack.PORTS_TRIED", 1)
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        port = listening.getsockname()[1]
        with pytest.raises(StartError, match=f"Ports {port}-{port} are all in use: set AWS_PORT"):
            EmbeddedStack(settings(aws_port=port)).start()


def test_a_port_that_cannot_be_used_for_another_reason_names_the_variable() -> None:
    with pytest.raises(StartError, match=r"Cannot listen on 192\.0\.2\.1:0 .*set AWS_PORT"):
        EmbeddedStack(settings(host="192.0.2.1")).start()


@pytest.mark.parametrize("value", ["abc", "70000", "-1", ""])
def test_a_port_variable_that_is_not_a_port_is_refused_by_name(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("AWS_PORT", value)

    with pytest.raises(StartError, match="AWS_PORT must be a port number"):
        StackSettings.from_environment()


def test_ports_from_the_environment_are_the_users_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_PORT", "3700")
    monkeypatch.delenv("AWS_PORT", raising=False)

    chosen = StackSettings.from_environment()

    assert (chosen.api_port, chosen.api_port_chosen) == (3700, True)
    assert (chosen.aws_port, chosen.aws_port_chosen) == (5050, False)
    assert chosen.state_dir == Path(".local-stack")


def sign_up_and_log_in(api: str, email: str) -> str:
    credentials = {"email": email, "password": PASSWORD, "name": "Ada"}
    requests.post(f"{api}/auth/signup", json=credentials, timeout=10)
    login = requests.post(f"{api}/auth/login", json={"email": email, "password": PASSWORD}, timeout=10)
    assert login.status_code == 200, login.text
    return str(login.json()["idToken"])


def create_tenant(api: str, token: str, website: str) -> str:
    created = requests.post(
        f"{api}/tenants",
        json={"name": "Acme", "website": website, "contactEmail": "ops@acme.example"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def test_a_restarted_stack_has_the_users_tenants_ids_and_signing_key_of_the_stopped_one(tmp_path: Path) -> None:
    outputs_file = tmp_path / "outputs.json"
    with EmbeddedStack(settings(state_dir=tmp_path, outputs_file=outputs_file)) as first:
        assert not first.restored
        token = sign_up_and_log_in(first.api_url, "ada@example.com")
        tenant_id = create_tenant(first.api_url, token, "acme.example")
        first_outputs = first.outputs
    BackendDict.reset()  # as in a new process: moto's backends are empty, no boto3 client is made yet
    client.cache_clear()

    with EmbeddedStack(settings(state_dir=tmp_path, outputs_file=outputs_file)) as second:
        api = second.api_url
        assert second.restored
        # A token issued before the restart still verifies: the same key signs and is served.
        before_restart = requests.get(
            f"{api}/tenants/{tenant_id}", headers={"Authorization": f"Bearer {token}"}, timeout=10
        )
        assert before_restart.status_code == 200, before_restart.text
        assert before_restart.json()["website"] == "acme.example"
        assert sign_up_and_log_in(api, "ada@example.com")  # the password still logs in
        for same in ("userPoolId", "userPoolClientId", "tables", "buckets"):
            assert second.outputs[same] == first_outputs[same]
        assert json.loads(outputs_file.read_text())["userPoolId"] == first_outputs["userPoolId"]


def forged_id_token(outputs: dict[str, Any], groups: list[str]) -> str:
    """An ID token for the stack's pool and client, signed with the private key that ships inside moto."""
    moto_key = load_resource("cognitoidp/resources/jwks-private.json")
    now = int(time.time())
    claims = {
        "iss": f"https://cognito-idp.{outputs['region']}.amazonaws.com/{outputs['userPoolId']}",
        "aud": outputs["userPoolClientId"],
        "sub": "forged",
        "token_use": "id",
        "iat": now,
        "exp": now + 3600,
        "cognito:groups": groups,
    }
    private_key = jwt.PyJWK(moto_key, algorithm="RS256").key
    return jwt.encode(claims, private_key, algorithm="RS256", headers={"kid": "dummy"})


def test_a_token_signed_with_motos_bundled_key_is_refused_and_the_stacks_own_key_is_served() -> None:
    with EmbeddedStack(settings()) as stack:
        forged = forged_id_token(stack.outputs, ["admins"])
        refused = requests.get(
            f"{stack.api_url}/sla-errors?fileName=x.csv", headers={"Authorization": f"Bearer {forged}"}, timeout=10
        )
        real = sign_up_and_log_in(stack.api_url, "grace@example.com")
        served = requests.get(
            f"{stack.outputs['awsEndpoint']}/{stack.outputs['userPoolId']}/.well-known/jwks.json", timeout=10
        ).json()

    assert refused.status_code == 401
    key = signing_key.current()
    assert key is not None
    assert served == {"keys": [key.as_dict(private=False)]}
    assert jwt.get_unverified_header(real)["kid"] == key.kid != "dummy"


def test_pools_made_before_a_new_key_is_installed_sign_with_it(aws: Any) -> None:
    first, second = signing_key.new_key(), signing_key.new_key()
    signing_key.install(first)
    pool_id = client("cognito-idp").create_user_pool(PoolName="before")["UserPool"]["Id"]

    signing_key.install(second)

    from moto.cognitoidp.models import cognitoidp_backends

    pool = cognitoidp_backends["123456789012"]["us-east-1"].user_pools[pool_id]
    assert pool.json_web_key is second


# `python -m embedded_stack`, as `make run` starts it ------------------------------------------------------------


class RunningStack:
    def __init__(self, workdir: Path) -> None:
        self.api_port, self.aws_port = free_port(), free_port()
        self.api = f"http://127.0.0.1:{self.api_port}"
        environment = os.environ | {
            "API_PORT": str(self.api_port),
            "AWS_PORT": str(self.aws_port),
            "PYTHONPATH": str(ROOT),
        }
        for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
            environment.pop(name, None)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "embedded_stack"],
            cwd=workdir,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.process.communicate()[0]
            try:
                if requests.get(f"{self.api}/health", timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                time.sleep(0.1)
        raise AssertionError("the stack did not answer /health within 120 s")

    def output(self) -> str:
        return self.process.communicate(timeout=30)[0]


def test_ctrl_c_returns_within_a_second_and_kill_9_loses_only_the_last_seconds(tmp_path: Path) -> None:
    first = RunningStack(tmp_path)
    token = sign_up_and_log_in(first.api, "ada@example.com")
    tenant_id = create_tenant(first.api, token, "acme.example")
    time.sleep(2.5)  # one snapshot interval: the tenant is on disk now
    first.process.kill()  # kill -9: no chance to save on the way out
    first.process.wait(10)

    second = RunningStack(tmp_path)
    token = sign_up_and_log_in(second.api, "ada@example.com")
    found = requests.get(f"{second.api}/tenants/{tenant_id}", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert found.status_code == 200, found.text
    created_last = create_tenant(second.api, token, "last-moment.example")
    interrupted = time.monotonic()
    second.process.send_signal(signal.SIGINT)  # Ctrl-C: saves what the snapshot had not yet
    second.process.wait(10)
    # It stops rather than hangs: about 0.2 s on an idle machine, 2.5 s at a load of 23 on two cores. Not a speed
    # figure (those are bench/'s): the bound only tells a stuck stop from a slow machine.
    assert time.monotonic() - interrupted < 15
    printed = second.output()
    assert "State: restored from .local-stack/" in printed
    assert f"API={second.api}" in printed  # the walkthrough, for this port
    assert "uvicorn" not in printed  # the server's lifecycle lines are its own business, not the user's
    assert second.process.returncode == 0

    saved = persistence.load(tmp_path / ".local-stack")
    assert saved is not None
    tables = saved.backends["dynamodb"]["123456789012"]["us-east-1"].tables
    assert any(key.value == f"TENANT#{created_last}" for key in tables["local-tenants"].items)


def test_a_busy_port_makes_make_run_exit_with_the_variable_to_set(tmp_path: Path, busy_port: int) -> None:
    environment = os.environ | {"API_PORT": str(busy_port), "AWS_PORT": str(free_port()), "PYTHONPATH": str(ROOT)}
    started = time.monotonic()
    finished = subprocess.run(
        [sys.executable, "-m", "embedded_stack"], cwd=tmp_path, env=environment, capture_output=True, text=True
    )

    assert finished.returncode == 1
    assert f"Could not start: API_PORT={busy_port} is in use" in finished.stderr
    assert time.monotonic() - started < 60  # the interpreter's imports; the port itself is refused at once


def test_a_burst_of_stop_signals_stops_the_stack_with_its_state_saved(tmp_path: Path) -> None:
    running = RunningStack(tmp_path)
    token = sign_up_and_log_in(running.api, "ada@example.com")
    tenant_id = create_tenant(running.api, token, "burst.example")

    # `timeout` sends SIGTERM to the process group, so the stack gets it twice at once; a user presses Ctrl-C
    # again. Signals keep coming while it stops, each a chance to land inside the previous one's handler.
    deadline = time.monotonic() + 3
    burst = itertools.cycle((signal.SIGTERM, signal.SIGINT))
    while running.process.poll() is None and time.monotonic() < deadline:
        with contextlib.suppress(ProcessLookupError):
            running.process.send_signal(next(burst))
    try:
        running.process.wait(60)
    finally:
        running.process.kill()  # a stack stuck in its handler would otherwise outlive the test

    printed = running.output()
    assert running.process.returncode == 0, printed
    assert "stopped; the state is saved in .local-stack/" in printed
    saved = persistence.load(tmp_path / ".local-stack")
    assert saved is not None
    tables = saved.backends["dynamodb"]["123456789012"]["us-east-1"].tables
    assert any(key.value == f"TENANT#{tenant_id}" for key in tables["local-tenants"].items)


def test_a_second_make_run_in_the_same_folder_refuses_naming_the_first(tmp_path: Path) -> None:
    first = RunningStack(tmp_path)
    environment = os.environ | {"PYTHONPATH": str(ROOT)}
    try:
        second = subprocess.run(
            [sys.executable, "-m", "embedded_stack"],
            cwd=tmp_path,
            env=environment,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        first.process.send_signal(signal.SIGINT)

    assert second.returncode == 1
    assert (
        f"Could not start: .local-stack/ is in use by another stack: process {first.process.pid} "
        f"(API {first.api}, AWS endpoint http://127.0.0.1:{first.aws_port})"
    ) in second.stderr
    assert "`STACK_STATE_DIR=.local-stack-2 make run`" in second.stderr
    assert first.process.wait(30) == 0
