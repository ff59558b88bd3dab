"""Lambda-like containers: parallel, isolated, queued past the machine's cap, throttled past reserved concurrency,
reused while warm, retired on a new deployment, timed out.

No timing is asserted: overlapping invocations meet at a barrier (files in a folder), blocked ones wait at a gate
the test opens. Only the timeouts under test are short.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import signal
import threading
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
import uvloop

from embedded_stack.apigateway.events import proxy_event
from embedded_stack.apigateway.gateway import Gateway
from embedded_stack.lambda_service.containers import (
    Containers,
    FunctionFailed,
    FunctionSettings,
    FunctionTimedOut,
    IntegrationTimedOut,
    Throttled,
)
from embedded_stack.lambda_service.runtime import max_memory_used_mb
from infra import package
from lambdas.catalog import Function, Route
from unit_tests.embedded_stack.container_handlers import wait_until
from unit_tests.gateway_client import GatewayClient


@dataclass(frozen=True)
class FixtureFunction(Function):
    handler_module: str = "unit_tests.embedded_stack.container_handlers"

    @property
    def module(self) -> str:
        return self.handler_module


SLOW = FixtureFunction(name="slow", description="waits at barriers and gates")
REPORT = re.compile(
    r"^REPORT RequestId: (?P<id>[0-9a-f-]+)\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\tMemory Size: 256 MB"
    r"\tMax Memory Used: \d+ MB(?P<init>\tInit Duration: \d+\.\d\d ms)?(?P<status>\tStatus: timeout)?$"
)


@pytest.fixture
def pool_with(request: pytest.FixtureRequest) -> Iterator[Any]:
    pools: list[Containers] = []

    def make(**settings: Any) -> Containers:
        pools.append(Containers(FunctionSettings(**({"memory_mb": 256} | settings))))
        return pools[-1]

    yield make
    for pool in pools:
        pool.close()


def event(**command: Any) -> bytes:
    return json.dumps(proxy_event("POST", "/slow", body=json.dumps(command))).encode()


# The gateway's kind of event loop, in a thread of its own as the stack runs it.
LOOP = uvloop.new_event_loop()
threading.Thread(target=LOOP.run_forever, name="test-gateway-loop", daemon=True).start()


def on_the_loop(invocation: Coroutine[Any, Any, dict[str, Any]]) -> dict[str, Any]:
    return asyncio.run_coroutine_threadsafe(invocation, LOOP).result()


def invoke(pool: Containers, function: Function = SLOW, **command: Any) -> dict[str, Any]:
    result = on_the_loop(pool.invoke(function, event(**command), str(uuid4())))
    return dict(json.loads(result["body"]))


def report_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The REPORT lines logged so far (a container over its memory size also logs a warning, as coverage's can)."""
    return [record.getMessage() for record in caplog.records if record.getMessage().startswith("REPORT")]


def in_thread(target: Any) -> tuple[threading.Thread, dict[str, Any]]:
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = target()
        except Exception as error:
            outcome["error"] = error

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def test_concurrent_requests_run_in_parallel_each_in_its_own_container(pool_with: Any, tmp_path: Path) -> None:
    pool = pool_with()
    runs = [in_thread(lambda: invoke(pool, barrier=str(tmp_path), parties=2)) for _ in range(2)]
    for thread, _ in runs:
        thread.join()

    answers = [outcome["value"] for _, outcome in runs]
    assert all(answer["met"] for answer in answers)  # both were inside the handler at once
    assert answers[0]["pid"] != answers[1]["pid"]
    assert [answer["calls"] for answer in answers] == [1, 1]  # module state is the container's own
    assert pool.containers(SLOW) == 2


def test_a_warm_container_is_reused_and_only_its_first_invocation_reports_init(
    pool_with: Any, caplog: pytest.LogCaptureFixture
) -> None:
    pool = pool_with()
    caplog.set_level(logging.INFO, logger="embedded_stack.lambda")

    first, second = invoke(pool), invoke(pool, print=True)

    assert first["pid"] == second["pid"] and (first["calls"], second["calls"]) == (1, 2)
    assert (first["function"], first["memory"]) == ("slow", 256)
    assert wait_until(lambda: len(report_lines(caplog)) == 2)  # written once the answer is on its way
    reports = [REPORT.match(line) for line in report_lines(caplog)]
    assert all(reports)
    assert reports[0]["init"] and not reports[1]["init"]  # type: ignore[index]
    assert reports[0]["id"] == first["requestId"]  # type: ignore[index]


def test_a_container_runs_the_handler_on_the_lambda_runtimes_python_and_says_which_as_lambda_does(
    pool_with: Any,
) -> None:
    answer = invoke(pool_with())

    assert answer["python"] == package.PYTHON_VERSION == "3.13"
    assert answer["executionEnv"] == "AWS_Lambda_python3.13"


def test_a_container_leaves_ctrl_c_to_the_stack(pool_with: Any) -> None:
    # A terminal's Ctrl-C signals the whole foreground process group, containers included: the stack stops them
    # itself (no traceback from each), and a container goes on serving until it does.
    pool = pool_with()
    first = invoke(pool)

    os.kill(first["pid"], signal.SIGINT)
    second = invoke(pool)

    assert (second["pid"], second["calls"]) == (first["pid"], 2)


def test_a_container_reports_its_own_peak_memory_not_the_stacks(
    pool_with: Any, caplog: pytest.LogCaptureFixture
) -> None:
    stack_memory = bytearray(300 * 1024 * 1024)
    stack_memory[::4096] = b"x" * len(range(0, len(stack_memory), 4096))  # resident, page by page
    caplog.set_level(logging.INFO, logger="embedded_stack.lambda")

    invoke(pool_with())

    assert wait_until(lambda: len(report_lines(caplog)) == 1)
    (report,) = report_lines(caplog)
    used = int(re.search(r"Max Memory Used: (\d+) MB", report)[1])  # type: ignore[index]
    assert used < 150, report  # a bare handler's process: tens of MB; the stack's 300 MB are not its own
    del stack_memory


def test_max_memory_used_rises_with_what_the_function_keeps_and_never_falls(
    pool_with: Any, caplog: pytest.LogCaptureFixture
) -> None:
    pool = pool_with()
    caplog.set_level(logging.INFO, logger="embedded_stack.lambda")

    invoke(pool)
    invoke(pool, allocate=64)
    invoke(pool)

    assert wait_until(lambda: len(report_lines(caplog)) == 3)
    used = [int(re.search(r"Max Memory Used: (\d+) MB", line)[1]) for line in report_lines(caplog)]  # type: ignore[index]
    assert used[1] >= used[0] + 50, used
    assert used[2] >= used[1], used  # a peak


def test_the_peak_is_read_from_the_kernel_only_after_pages_were_faulted_in(monkeypatch: pytest.MonkeyPatch) -> None:
    reads = []
    real_pread = os.pread
    monkeypatch.setattr(os, "pread", lambda *arguments: reads.append(1) or real_pread(*arguments))
    max_memory_used_mb()
    before = len(reads)

    for _ in range(100):  # nothing in between faults a page in
        max_memory_used_mb()
    quiet_reads = len(reads) - before
    memory = bytearray(32 * 1024 * 1024)
    memory[::4096] = b"x" * len(range(0, len(memory), 4096))
    max_memory_used_mb()

    assert quiet_reads < 10
    assert len(reads) == before + quiet_reads + 1  # pages were faulted in: read again
    del memory


def test_past_the_machines_cap_requests_wait_for_a_free_container_and_none_is_throttled(
    pool_with: Any, tmp_path: Path
) -> None:
    pool = pool_with(concurrency=4)
    arrived, gate = tmp_path / "arrived", tmp_path / "gate"
    arrived.mkdir()
    runs = [in_thread(lambda: invoke(pool, barrier=str(arrived), parties=1, gate=str(gate))) for _ in range(40)]
    # The cap's containers run (each request noted its arrival); the other requests wait, none refused.
    assert wait_until(lambda: pool.waiting(SLOW) == 36 and len(list(arrived.iterdir())) == 4)

    assert pool.containers(SLOW) == 4
    gate.touch()
    for thread, _ in runs:
        thread.join()
    answers = [outcome.get("value") or outcome["error"] for _, outcome in runs]
    assert all(isinstance(answer, dict) and answer["met"] for answer in answers), answers
    assert len({answer["pid"] for answer in answers}) == 4  # the waiting requests ran in the same containers
    assert (pool.containers(SLOW), pool.waiting(SLOW)) == (4, 0)


def test_a_request_that_waits_for_a_container_past_the_integration_timeout_gets_504(
    pool_with: Any, tmp_path: Path
) -> None:
    pool = pool_with(concurrency=1, integration_timeout_seconds=0.5)
    arrived, gate = tmp_path / "arrived", tmp_path / "gate"
    arrived.mkdir()
    thread, outcome = in_thread(lambda: invoke(pool, barrier=str(arrived), parties=1, gate=str(gate)))
    assert wait_until(lambda: any(arrived.iterdir()))

    response = gateway_client(pool).post("/slow", data="{}")

    assert response.status_code == 504 and response.json["message"] == "Endpoint request timed out"
    assert pool.waiting(SLOW) == 0  # it stopped waiting
    gate.touch()
    thread.join()
    assert isinstance(outcome["error"], IntegrationTimedOut)  # the first one too, while its function ran on
    assert wait_until(lambda: len(pool._fleets["slow"].idle) == 1)  # its container is free for the next request
    assert invoke(pool)["calls"] == 2


RESERVED = FixtureFunction(name="reserved", description="reserved concurrency 2", reserved_concurrency=2)


def test_a_function_with_reserved_concurrency_2_throttles_the_third_concurrent_request(
    pool_with: Any, tmp_path: Path
) -> None:
    pool = pool_with()
    arrived, gate = tmp_path / "arrived", tmp_path / "gate"
    arrived.mkdir()
    runs = [
        in_thread(lambda: invoke(pool, RESERVED, barrier=str(arrived), parties=2, gate=str(gate))) for _ in range(2)
    ]
    assert wait_until(lambda: len(list(arrived.iterdir())) == 2)

    with pytest.raises(Throttled):
        invoke(pool, RESERVED)
    response = gateway_client(pool, RESERVED).post("/slow", data="{}")

    assert response.status_code == 500  # what API Gateway makes of Lambda's 429 for a proxy integration
    assert response.json["message"] == "Internal server error"
    gate.touch()
    for thread, _ in runs:
        thread.join()
    assert all(outcome["value"]["met"] for _, outcome in runs)
    assert invoke(pool, RESERVED)["calls"] == 2  # below its reservation again: it runs, in a warm container


def test_requests_waiting_for_a_container_count_against_reserved_concurrency(pool_with: Any, tmp_path: Path) -> None:
    three = FixtureFunction(name="three", description="reserved concurrency 3", reserved_concurrency=3)
    pool = pool_with(concurrency=1)
    arrived, gate = tmp_path / "arrived", tmp_path / "gate"
    arrived.mkdir()
    runs = [in_thread(lambda: invoke(pool, three, barrier=str(arrived), parties=1, gate=str(gate))) for _ in range(3)]
    assert wait_until(lambda: pool.waiting(three) == 2)

    with pytest.raises(Throttled):
        invoke(pool, three)  # one runs and two wait: three invocations, as many as Lambda would run

    gate.touch()
    for thread, _ in runs:
        thread.join()
    assert [outcome["value"]["calls"] for _, outcome in runs].count(1) == 1  # one container served all three


def test_requests_waiting_for_a_container_when_the_stack_stops_fail_at_once(pool_with: Any, tmp_path: Path) -> None:
    pool = pool_with(concurrency=1)
    arrived, gate = tmp_path / "arrived", tmp_path / "gate"
    arrived.mkdir()
    running, _ = in_thread(lambda: invoke(pool, barrier=str(arrived), parties=1, gate=str(gate)))
    waiting, outcome = in_thread(lambda: invoke(pool))
    assert wait_until(lambda: pool.waiting(SLOW) == 1)

    pool.close()
    waiting.join()

    assert isinstance(outcome["error"], FunctionFailed) and "stopping" in str(outcome["error"])
    gate.touch()
    running.join()
    assert pool.containers(SLOW) == 0


def test_a_new_deployment_sends_new_requests_to_new_containers_while_old_ones_finish(
    pool_with: Any, tmp_path: Path
) -> None:
    pool = pool_with(concurrency=2)
    old_pid = invoke(pool)["pid"]
    arrived, gate = tmp_path / "arrived", tmp_path / "gate"
    arrived.mkdir()
    thread, outcome = in_thread(lambda: invoke(pool, barrier=str(arrived), parties=1, gate=str(gate)))
    assert wait_until(lambda: any(arrived.iterdir()))

    pool.retire()
    new = invoke(pool)
    gate.touch()
    thread.join()

    assert new["pid"] != old_pid and new["calls"] == 1
    assert outcome["value"]["pid"] == old_pid and outcome["value"]["met"]  # the in-flight request finished
    assert pool.containers(SLOW) == 1  # and its container was retired after it
    assert invoke(pool)["pid"] == new["pid"]


def test_a_function_past_its_timeout_is_stopped_and_answers_502(
    pool_with: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    pool = pool_with(timeout_seconds=0.5)
    caplog.set_level(logging.INFO, logger="embedded_stack.lambda")
    never = str(tmp_path / "never-opened")
    first_pid = invoke(pool)["pid"]

    with pytest.raises(FunctionTimedOut):
        invoke(pool, gate=never)
    response = gateway_client(pool).post("/slow", data=json.dumps({"gate": never}))

    assert response.status_code == 502 and response.json["message"] == "Internal server error"
    assert any("Status: timeout" in record.getMessage() for record in caplog.records)
    assert invoke(pool)["pid"] != first_pid  # the timed-out container was killed
    assert pool.containers(SLOW) == 1


def test_api_gateway_answers_504_after_its_integration_timeout_while_the_function_runs_on(
    pool_with: Any, tmp_path: Path
) -> None:
    pool = pool_with(integration_timeout_seconds=0.5)
    gate = tmp_path / "gate"

    with pytest.raises(IntegrationTimedOut):
        invoke(pool, gate=str(gate))
    response = gateway_client(pool).post("/slow", data=json.dumps({"gate": str(gate)}))

    assert response.status_code == 504 and response.json["message"] == "Endpoint request timed out"
    assert pool.containers(SLOW) == 2  # both still run: API Gateway gave up, Lambda did not
    gate.touch()
    assert wait_until(lambda: len(pool._fleets["slow"].idle) == 2)  # they finished and are warm again


@pytest.mark.parametrize("failure", [{"raise": True}, {"exit": True}, {"unserialisable": True}])
def test_a_failing_function_is_502_and_a_dead_container_is_replaced(pool_with: Any, failure: dict[str, Any]) -> None:
    pool = pool_with()

    with pytest.raises(FunctionFailed):
        invoke(pool, **failure)
    response = gateway_client(pool).post("/slow", data=json.dumps(failure))

    assert response.status_code == 502
    assert invoke(pool)["met"]


def test_a_handler_that_does_not_import_fails_its_init_with_502(pool_with: Any) -> None:
    pool = pool_with()
    broken = FixtureFunction(name="broken", description="no such module", handler_module="unit_tests.no_such_module")

    with pytest.raises(FunctionFailed, match="init failed: ModuleNotFoundError"):
        on_the_loop(pool.invoke(broken, event(), "req-1"))
    assert pool.containers(broken) == 0


def test_a_closed_pool_keeps_no_container(pool_with: Any) -> None:
    pool = pool_with()
    invoke(pool)

    pool.close()

    assert pool.containers(SLOW) == 0
    with pytest.raises(FunctionFailed, match="stopping"):
        invoke(pool)  # a request that arrives while the stack stops starts no container


@dataclass
class SlowRoutes:
    function: Function = SLOW

    def routes(self) -> tuple[Route, ...]:
        return (Route("POST", "/slow", self.function, public=True),)


class Anyone:
    def claims(self, authorization_header: str | None) -> dict[str, str]:
        return {}


def gateway_client(pool: Containers, function: Function = SLOW) -> GatewayClient:
    return GatewayClient(Gateway(SlowRoutes(function), Anyone(), functions=pool))  # type: ignore[arg-type]
