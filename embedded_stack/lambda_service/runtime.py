"""The process inside one embedded Lambda container: `python -m embedded_stack.lambda_service.runtime <module>`.

Like Lambda's runtime interface client it imports the handler once (the init phase), reports how long that took, then
answers one event at a time for as long as the container lives. The protocol with the pool
(embedded_stack/lambda_service/containers.py) is one JSON document per line: on stdin the invocations, on the original
stdout the answers. An event is decoded by orjson (fast); an answer is encoded by the standard library's json, because
orjson would also encode a dataclass or a datetime, which Lambda's runtime refuses. Whatever the function itself prints
or logs goes to stderr, which the container shares with the stack's console, as Lambda sends it to CloudWatch.
"""

from __future__ import annotations

import functools
import importlib
import json
import os
import resource
import signal
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

import orjson

from embedded_stack.apigateway.events import LambdaContext

Handler = Callable[[dict[str, Any], Any], Any]


def max_memory_used_mb() -> int:
    """The container's peak resident set size, as Lambda's `Max Memory Used`.

    Linux's VmHWM, the peak of this program's own memory: `ru_maxrss` keeps the peak of the process before its
    exec, so a container started by a stack of 300 MB would report 300 MB from its first request. The status file
    stays open: the kernel writes it anew at each read from its start, and an open and a close per invocation
    cost as much as a small handler. It is read only after the process has faulted a page in: resident memory grows
    by page faults (and by the kernel's background huge-page collapsing, which the next fault's read catches up
    with), and a warm handler that reuses its memory faults none, so most invocations trade the read (about 20 µs
    of the kernel writing the file, on cold caches) for a `getrusage`.
    """
    usage = resource.getrusage(resource.RUSAGE_SELF)
    faults = usage.ru_minflt + usage.ru_majflt
    if faults == _last_read.faults:
        return _last_read.mb
    try:
        status = os.pread(_proc_status(), 8192, 0)
        start = status.index(b"VmHWM:") + len(b"VmHWM:")
        peak_kib = int(status[start : status.index(b"kB", start)])
    except (OSError, ValueError):  # not Linux: the kernel's figure, which macOS gives in bytes
        peak_kib = usage.ru_maxrss // 1024 if sys.platform == "darwin" else usage.ru_maxrss
    # The fault count taken before the read: a fault during it is read again next time.
    _last_read.faults, _last_read.mb = faults, peak_kib // 1024 + 1
    return _last_read.mb


@dataclass
class _LastRead:
    """The last peak read, and the process's page-fault count when it was read."""

    faults: int = -1
    mb: int = 0


_last_read = _LastRead()


@functools.cache
def _proc_status() -> int:
    return os.open("/proc/self/status", os.O_RDONLY)


def answer(channel: IO[bytes], message: dict[str, Any]) -> None:
    channel.write(json.dumps(message, separators=(",", ":")).encode("utf-8") + b"\n")
    channel.flush()


def invoke(handler: Handler, request: dict[str, Any]) -> dict[str, Any]:
    context = LambdaContext(
        function_name=os.environ["AWS_LAMBDA_FUNCTION_NAME"],
        timeout_seconds=request["timeoutSeconds"],
        memory_limit_in_mb=int(os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]),
        aws_request_id=request["requestId"],
    )
    started = time.perf_counter()
    try:
        payload: dict[str, Any] = {"result": handler(request["event"], context)}
    except Exception as error:
        traceback.print_exc()  # the function's log, as Lambda prints an unhandled error
        payload = {"errorType": type(error).__name__}
    payload["durationMs"] = (time.perf_counter() - started) * 1000
    payload["maxMemoryUsedMb"] = max_memory_used_mb()
    return payload


def answer_invocation(channel: IO[bytes], handler: Handler, request: dict[str, Any]) -> None:
    payload = invoke(handler, request)
    try:
        answer(channel, payload)
    except (TypeError, ValueError) as error:
        # What the runtime cannot serialise, it reports instead of the result (Lambda: Runtime.MarshalError).
        traceback.print_exc()
        del payload["result"]
        answer(channel, payload | {"errorType": type(error).__name__})


def serve(module: str, requests: IO[bytes], channel: IO[bytes]) -> None:
    started = time.perf_counter()
    try:
        handler: Handler = importlib.import_module(module).lambda_handler
    except Exception as error:
        traceback.print_exc()
        answer(channel, {"initError": type(error).__name__})
        return
    answer(channel, {"initMs": (time.perf_counter() - started) * 1000})
    for line in requests:
        answer_invocation(channel, handler, orjson.loads(line))


def main() -> None:
    # A terminal's Ctrl-C reaches every process of its foreground group: the stack's, which stops the containers
    # (closing their input, killing those still busy), and each container's, which leaves it to the stack.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The protocol keeps the real stdout; the function's prints go to stderr, even those of C extensions.
    channel = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    serve(sys.argv[1], sys.stdin.buffer, channel)


if __name__ == "__main__":
    main()
