"""Lambda-like containers for the embedded stack: a process per container, per function.

A request takes a warm container of its function if one is idle, or starts one (a cold start: a fresh interpreter
imports the handler, so module state is the container's own) while the function runs fewer containers than the
machine's cap (`FunctionSettings.concurrency`). Past the cap the request waits for a container of the function to
be free, in the order requests came, within API Gateway's integration timeout: deployed, it would have run (an
account runs 1,000 executions at once). Only a function's declared reserved concurrency throttles, as Lambda
throttles a synchronous invoke past it (`Function.reserved_concurrency`, which the Pulumi program deploys). A new
deployment (`retire()`, on a code change) lets in-flight requests finish in their old containers and sends new ones
to new containers. Each invocation logs Lambda's REPORT line, with the init duration on a cold start.

The limits come from the stack settings the Pulumi program deploys with (infra/settings.py): the function timeout
(exceeded: the container is killed and API Gateway answers 502) and memory size (reported as Lambda does, from the
process's peak RSS). API Gateway's own 29 s integration timeout answers 504 while the function runs on.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import json
import logging
import math
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from infra.package import LAMBDA_RUNTIME
from infra.settings import PROJECT
from infra.settings import StackSettings as DeployedSettings
from lambdas.catalog import Function

# How long a container's init may take when API Gateway no longer waits for it (Lambda's limit is 10 s of init,
# but a laptop starting many containers at once is slower than Lambda).
LONGEST_INIT_SECONDS = 60.0
REPOSITORY = Path(__file__).resolve().parent.parent
# What the Pulumi program deploys every function with, unless a stack's config overrides it.
DEPLOYED = DeployedSettings(project=PROJECT, stack="local", stage_name="local")


@dataclass(frozen=True)
class FunctionSettings:
    """How every function's containers run: the deployed timeout and memory size, and the local concurrency."""

    timeout_seconds: float = DEPLOYED.lambda_timeout_seconds
    memory_mb: int = DEPLOYED.lambda_memory_mb
    # Containers per function at most: the machine's cap, not Lambda's. Deployed, a function shares the account's
    # concurrency (1,000 by default); here each container is a process, so the default is what a laptop runs
    # comfortably and 16 clients need. Requests past it wait for a free container (they are not throttled).
    concurrency: int = 16
    # API Gateway's integration timeout for a REST API (its default and, without a quota increase, its maximum).
    integration_timeout_seconds: float = 29.0


class Throttled(Exception):
    """Lambda's 429 TooManyRequestsException: the function already runs as many invocations as its reserved
    concurrency allows."""


class FunctionFailed(Exception):
    """The function raised, its result could not be serialised, or its container died."""


class FunctionTimedOut(Exception):
    """The function ran past its timeout: Lambda stopped it."""


class IntegrationTimedOut(Exception):
    """API Gateway stopped waiting (29 s); the function may still be running."""


class Container:
    """One process running one function's handler, one event at a time."""

    def __init__(self, function: Function, settings: FunctionSettings, generation: int) -> None:
        self.function = function
        self.generation = generation
        self.settings = settings
        self.init_ms: float | None = None  # set until the first invocation has reported it
        self._answers: Answers | None = None
        self._ready = False
        self._request = b""
        self._function_deadline: float | None = None
        self.process = subprocess.Popen(
            [sys.executable, "-m", "embedded_stack.lambda_service.runtime", function.module],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=self._environment(),
            cwd=REPOSITORY,
            bufsize=0,
        )
        # The gateway's event loop waits for the runtime's stdin to take an event; it never blocks on it.
        assert self.process.stdin is not None
        os.set_blocking(self.process.stdin.fileno(), False)

    def _environment(self) -> dict[str, str]:
        name = self.function.name
        # The stack's environment is Lambda's: AWS_ENDPOINT_URL, credentials, region, the tables' and pool's names.
        return {
            **os.environ,
            # The interpreter finds the code it was started from, and whatever else the stack can import.
            "PYTHONPATH": os.pathsep.join(path for path in sys.path if path),
            # The interpreter is this one, the virtual environment's: the Makefile makes it from the runtime's Python.
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{LAMBDA_RUNTIME}",
            "AWS_LAMBDA_FUNCTION_NAME": name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(self.settings.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
            "POWERTOOLS_SERVICE_NAME": name,
            "_HANDLER": self.function.handler,
        }

    async def invoke(self, payload: bytes, request_id: str, integration_deadline: float) -> dict[str, Any]:
        """The function's answer, as the runtime reported it (`result` or `errorType`, `durationMs`, ...).

        `payload` is the event as JSON, as Lambda's Invoke API takes it."""
        context = json.dumps({"requestId": request_id, "timeoutSeconds": self.settings.timeout_seconds})
        # The event's JSON goes in as it is (`{..., "event": <payload>}`): not decoded and encoded again.
        self._request = b"".join((context[:-1].encode(), b',"event":', payload, b"}\n"))
        self._function_deadline = None
        return await self._answer(integration_deadline)

    async def finish(self) -> dict[str, Any] | None:
        """The answer of an invocation API Gateway gave up on, if the function gives one before its timeout."""
        try:
            return await self._answer(time.monotonic() + LONGEST_INIT_SECONDS)
        except (FunctionTimedOut, FunctionFailed):
            return None

    async def _answer(self, integration_deadline: float) -> dict[str, Any]:
        try:
            if not self._ready:
                ready = await self._read(integration_deadline)
                if "initError" in ready:
                    raise FunctionFailed(f"init failed: {ready['initError']}")
                self.init_ms = ready["initMs"]
                self._ready = True
            if self._function_deadline is None:
                self._function_deadline = time.monotonic() + self.settings.timeout_seconds
                await self._write(self._request, self._function_deadline)
            return await self._read(min(self._function_deadline, integration_deadline))
        except TimeoutError:
            if self._function_deadline is not None and self._function_deadline <= integration_deadline:
                raise FunctionTimedOut(f"Task timed out after {self.settings.timeout_seconds:.2f} seconds") from None
            raise IntegrationTimedOut from None

    async def _write(self, data: bytes, deadline: float) -> None:
        assert self.process.stdin is not None
        descriptor = self.process.stdin.fileno()
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(descriptor, view) :]
            except BlockingIOError:  # the pipe is full: the runtime has not read the whole event yet
                await _until_writable(descriptor, deadline)
            except OSError as error:
                raise FunctionFailed(f"container exited ({error})") from None

    async def _read(self, deadline: float) -> dict[str, Any]:
        if self._answers is None:
            assert self.process.stdout is not None
            self._answers = Answers(self.process.stdout)
        line = await self._answers.next_line(deadline)
        if line is None:
            raise FunctionFailed(f"container exited with status {self.process.wait()}")
        return dict(json.loads(line))

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def end_input(self) -> None:
        if self.process.stdin and not self.process.stdin.closed:
            self.process.stdin.close()

    def stop(self) -> None:
        """Ends the runtime's loop (it exits, saving what it must); a stuck process is killed."""
        self.end_input()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()
        if self.process.stdin:
            self.process.stdin.close()


class Answers:
    """A runtime's answers as its stdout delivers them, one JSON document a line. The event loop watches the pipe from
    one answer to the next; at its end the pipe is unwatched, then closed (never the other way round: a descriptor
    closed while watched may be reused by another file under the loop's eyes)."""

    def __init__(self, stdout: IO[bytes]) -> None:
        self._stdout = stdout
        self._descriptor = stdout.fileno()
        os.set_blocking(self._descriptor, False)
        self._partial = b""
        self._lines: collections.deque[bytes] = collections.deque()
        self._ended = False
        self._waiter: asyncio.Future[None] | None = None
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(self._descriptor, self._readable)

    def _readable(self) -> None:
        try:
            data = os.read(self._descriptor, 1 << 16)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:  # the runtime exited
            self._loop.remove_reader(self._descriptor)
            self._stdout.close()
            self._ended = True
        elif b"\n" in data:
            *lines, self._partial = (self._partial + data).split(b"\n")
            self._lines.extend(lines)
        else:
            self._partial += data
            return
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def next_line(self, deadline: float) -> bytes | None:
        """The next answer; None once the runtime has exited; TimeoutError at `deadline` (time.monotonic)."""
        while not self._lines:
            if self._ended:
                return None
            self._waiter = waiter = self._loop.create_future()
            timer = self._loop.call_later(max(deadline - time.monotonic(), 0), _time_out, waiter)
            try:
                await waiter
            finally:
                timer.cancel()
                self._waiter = None
        return self._lines.popleft()


def _stopping(waiting: asyncio.Future[Container | None]) -> None:
    if not waiting.done():
        waiting.set_exception(FunctionFailed("the stack is stopping"))


def _time_out(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError())


@dataclass
class Fleet:
    """One function's containers: those waiting for an event, how many exist, and the requests waiting for one
    (each is given a free container, or None: a slot to start one in)."""

    idle: list[Container] = field(default_factory=list)
    size: int = 0
    queue: collections.deque[asyncio.Future[Container | None]] = field(default_factory=collections.deque)

    def in_flight(self) -> int:
        """Invocations running or waiting for a container: what Lambda counts against reserved concurrency."""
        return self.size - len(self.idle) + len(self.queue)

    def next_waiting(self) -> asyncio.Future[Container | None] | None:
        while self.queue:
            waiting = self.queue.popleft()
            if not waiting.done():
                return waiting
        return None


class Containers:
    """Every function's containers, created on demand up to the machine's cap and reused while warm; requests past
    the cap wait for one."""

    def __init__(self, settings: FunctionSettings | None = None) -> None:
        self.settings = settings or FunctionSettings()
        self.generation = 0
        self._fleets: dict[str, Fleet] = {}
        self._lock = threading.Lock()
        self._closed = False
        # Invocations API Gateway gave up on, still running (a task is kept only by its references).
        self._finishing: set[asyncio.Task[None]] = set()

    async def invoke(self, function: Function, payload: bytes, request_id: str) -> dict[str, Any]:
        """The function's result for the event `payload` (JSON); a failure is one of this module's exceptions."""
        integration_deadline = time.monotonic() + self.settings.integration_timeout_seconds
        container = await self._acquire(function, integration_deadline)
        try:
            answer = await container.invoke(payload, request_id, integration_deadline)
        except IntegrationTimedOut:
            finishing = asyncio.get_running_loop().create_task(self._finish(container, request_id))
            self._finishing.add(finishing)
            finishing.add_done_callback(self._finishing.discard)
            raise
        except FunctionTimedOut as timed_out:
            self._report(container, request_id, self.settings.timeout_seconds * 1000, None, status="timeout")
            log_for(function).info("%s %s", request_id, timed_out)
            self._discard(container, kill=True)
            raise
        except BaseException:  # it failed, or the stack stops while it runs: its state is unknown
            self._discard(container, kill=True)
            raise
        # Lambda reports an invocation once its response is on its way: the REPORT line waits for the loop's next
        # turn, after the gateway has written the answer.
        asyncio.get_running_loop().call_soon(
            self._report, container, request_id, answer["durationMs"], answer["maxMemoryUsedMb"]
        )
        self._release(container)
        if "errorType" in answer:
            raise FunctionFailed(answer["errorType"])
        return dict(answer["result"])

    async def _finish(self, container: Container, request_id: str) -> None:
        try:
            answer = await container.finish()
        except BaseException:
            self._discard(container, kill=True)
            raise
        if answer is None:
            self._report(container, request_id, self.settings.timeout_seconds * 1000, None, status="timeout")
            self._discard(container, kill=True)
            return
        self._report(container, request_id, answer["durationMs"], answer["maxMemoryUsedMb"])
        self._release(container)

    def retire(self) -> None:
        """A new deployment: idle containers stop now, busy ones after their invocation; new ones run new code."""
        with self._lock:
            self.generation += 1
            retired = [container for fleet in self._fleets.values() for container in fleet.idle]
            for fleet in self._fleets.values():
                fleet.size -= len(fleet.idle)
                fleet.idle.clear()
        for container in retired:  # all at once: each exits as soon as it sees its input end
            container.end_input()
        for container in retired:
            container.stop()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            waiting = [queued for fleet in self._fleets.values() for queued in fleet.queue]
            for fleet in self._fleets.values():
                fleet.queue.clear()
        for queued in waiting:  # close() runs in another thread than the requests' event loop
            with contextlib.suppress(RuntimeError):  # the loop is already closed: nothing waits any more
                queued.get_loop().call_soon_threadsafe(_stopping, queued)
        self.retire()

    def containers(self, function: Function) -> int:
        """How many containers the function has (idle or busy)."""
        with self._lock:
            return self._fleets.get(function.name, Fleet()).size

    def waiting(self, function: Function) -> int:
        """How many of the function's requests wait for a container (past the machine's cap)."""
        with self._lock:
            return len(self._fleets.get(function.name, Fleet()).queue)

    async def _acquire(self, function: Function, integration_deadline: float) -> Container:
        with self._lock:
            if self._closed:
                raise FunctionFailed("the stack is stopping")
            fleet = self._fleets.setdefault(function.name, Fleet())
            reserved = function.reserved_concurrency
            if reserved is not None and fleet.in_flight() >= reserved:
                log_for(function).warning(
                    "throttled: %s already runs %d invocations (its reserved concurrency)", function.name, reserved
                )
                raise Throttled(function.name)
            if fleet.idle:
                return fleet.idle.pop()  # the most recently used: the warmest, as Lambda prefers
            waiting: asyncio.Future[Container | None] | None = None
            if fleet.size < self.settings.concurrency:
                fleet.size += 1
            else:
                waiting = asyncio.get_running_loop().create_future()
                fleet.queue.append(waiting)
                queued = len(fleet.queue)
        if waiting is None:
            return self._start(function, fleet)
        log_for(function).info(
            "queued: %s runs %d containers, this machine's cap; %d requests wait", function.name, fleet.size, queued
        )
        try:
            async with asyncio.timeout(max(integration_deadline - time.monotonic(), 0)):
                given = await waiting
        except BaseException as stopped_waiting:  # API Gateway's timeout, or the request is cancelled
            with self._lock:
                if waiting in fleet.queue:
                    fleet.queue.remove(waiting)
            self._give_back(function, waiting)
            if isinstance(stopped_waiting, TimeoutError):
                raise IntegrationTimedOut from None
            raise
        # A container, or a slot to start one in: the container it replaces is gone.
        return given if given is not None else self._start(function, fleet)

    def _start(self, function: Function, fleet: Fleet) -> Container:
        """A new container, in a slot already counted in `fleet.size`."""
        try:
            return Container(function, self.settings, self.generation)
        except OSError:
            with self._lock:
                self._free_slot(fleet)
            raise

    def _give_back(self, function: Function, waiting: asyncio.Future[Container | None]) -> None:
        """What a request that stopped waiting was given meanwhile, if anything, goes to the next one."""
        if waiting.done() and not waiting.cancelled() and waiting.exception() is None:
            given = waiting.result()
            if given is not None:
                self._release(given)
            else:
                with self._lock:
                    self._free_slot(self._fleets[function.name])
        elif not waiting.done():
            waiting.cancel()

    def _release(self, container: Container) -> None:
        with self._lock:
            current = container.generation == self.generation and not self._closed and container.alive
            if current:
                fleet = self._fleets[container.function.name]
                waiting = fleet.next_waiting()
                if waiting is not None:
                    waiting.set_result(container)
                else:
                    fleet.idle.append(container)
                return
        self._discard(container)

    def _discard(self, container: Container, kill: bool = False) -> None:
        with self._lock:
            self._free_slot(self._fleets[container.function.name])
        if kill:
            container.kill()
        else:  # the request that used it last need not wait for it to exit
            threading.Thread(target=container.stop, name="container-stop", daemon=True).start()

    def _free_slot(self, fleet: Fleet) -> None:
        """One container fewer: the first waiting request starts one in its place (called with the lock held)."""
        if self._closed or (waiting := fleet.next_waiting()) is None:
            fleet.size -= 1
        else:
            waiting.set_result(None)

    def _report(
        self,
        container: Container,
        request_id: str,
        duration_ms: float,
        max_memory_mb: int | None,
        status: str | None = None,
    ) -> None:
        """Lambda's REPORT line; the first invocation of a container carries its Init Duration."""
        fields = [
            f"REPORT RequestId: {request_id}",
            f"Duration: {duration_ms:.2f} ms",
            f"Billed Duration: {math.ceil(duration_ms)} ms",
            f"Memory Size: {self.settings.memory_mb} MB",
            f"Max Memory Used: {max_memory_mb if max_memory_mb is not None else self.settings.memory_mb} MB",
        ]
        if container.init_ms is not None:
            fields.append(f"Init Duration: {container.init_ms:.2f} ms")
            container.init_ms = None
        if status:
            fields.append(f"Status: {status}")
        log_for(container.function).info("\t".join(fields))
        if max_memory_mb is not None and max_memory_mb > self.settings.memory_mb:
            log_for(container.function).warning(
                "%s used %d MB, more than its %d MB memory size (deployed, Lambda would stop it)",
                container.function.name,
                max_memory_mb,
                self.settings.memory_mb,
            )


async def _until_writable(descriptor: int, deadline: float) -> None:
    """Until `descriptor` can be written; TimeoutError at `deadline` (time.monotonic)."""
    loop = asyncio.get_running_loop()
    ready = loop.create_future()

    def wake() -> None:
        if not ready.done():
            ready.set_result(None)

    loop.add_writer(descriptor, wake)
    try:
        async with asyncio.timeout(max(deadline - time.monotonic(), 0)):
            await ready
    finally:
        loop.remove_writer(descriptor)


@functools.cache
def log_for(function: Function) -> logging.Logger:
    """The function's log, as its CloudWatch log group would be."""
    return logging.getLogger(f"embedded_stack.lambda.{function.name}")
