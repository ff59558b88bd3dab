"""The process inside one embedded Lambda container: `python -m embedded_stack.runtime <module>`.

Like Lambda's runtime interface client it imports the handler once (the init phase), reports how long that took,
then answers one event at a time for as long as the container lives. The protocol with the pool
(embedded_stack/containers.py) is one JSON document per line: on stdin the invocations, on the original stdout the
answers. Whatever the function itself prints or logs goes to stderr, which the container shares with the stack's
console, as Lambda sends it to CloudWatch.
"""

from __future__ import annotations

import importlib
import json
import os
import resource
import sys
import time
import traceback
from collections.abc import Callable
from typing import IO, Any

from embedded_stack.events import LambdaContext

Handler = Callable[[dict[str, Any], Any], Any]


def max_memory_used_mb() -> int:
    """The container's peak resident set size, as Lambda's `Max Memory Used`.

    Linux's VmHWM, the peak of this program's own memory: `ru_maxrss` keeps the peak of the process before its
    exec, so a container started by a stack of 300 MB would report 300 MB from its first request.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            peak_kib = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    except (OSError, StopIteration):  # not Linux: the kernel's figure, which macOS gives in bytes
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        peak_kib = peak // 1024 if sys.platform == "darwin" else peak
    return peak_kib // 1024 + 1


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
        result = handler(request["event"], context)
        # The runtime must serialise what the handler returned; what it cannot is Runtime.MarshalError.
        payload: dict[str, Any] = {"result": json.loads(json.dumps(result))}
    except Exception as error:
        traceback.print_exc()  # the function's log, as Lambda prints an unhandled error
        payload = {"errorType": type(error).__name__}
    payload["durationMs"] = (time.perf_counter() - started) * 1000
    payload["maxMemoryUsedMb"] = max_memory_used_mb()
    return payload


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
        answer(channel, invoke(handler, json.loads(line)))


def main() -> None:
    # The protocol keeps the real stdout; the function's prints go to stderr, even those of C extensions.
    channel = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    serve(sys.argv[1], sys.stdin.buffer, channel)


if __name__ == "__main__":
    main()
