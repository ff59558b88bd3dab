"""`make run`: serve the embedded stack in the foreground until Ctrl-C (its state kept in .local-stack/)."""

from __future__ import annotations

import time

STARTED = time.perf_counter()  # before the imports, which are most of the start-up

import logging  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
from typing import TextIO  # noqa: E402

from embedded_stack import walkthrough  # noqa: E402
from embedded_stack.stack import OUTPUTS_FILE, EmbeddedStack, StackSettings, StartError  # noqa: E402


def configure_logging(stream: TextIO | None = None) -> None:
    """The console log of `make run` (stderr, unless `stream`): one line a request and a REPORT line an invocation."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=stream)
    # Nothing in the format needs the caller's frame, thread or process: the logging HOWTO's "Optimization" settings
    # spare each record their cost (a frame walk, two system calls), paid twice a request.
    logging._srcfile = None
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    for chatty in ("werkzeug", "uvicorn", "botocore", "urllib3"):
        logging.getLogger(chatty).setLevel(logging.WARNING)


def main() -> int:
    configure_logging()
    stopped = threading.Event()
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, lambda *_: stopped.set())
    try:
        stack = EmbeddedStack(StackSettings.from_environment()).start()
    except StartError as error:
        print(f"Could not start: {error}", file=sys.stderr)
        return 1
    print(banner(stack), flush=True)
    try:
        stopped.wait()
    finally:
        stack.stop()
        print("stopped; the state is saved in .local-stack/ (`make reset` empties it)", flush=True)
    return 0


def banner(stack: EmbeddedStack) -> str:
    moved = "".join(
        f"\n{variable} {wanted} was busy: using {used} (set {variable} to choose)"
        for variable, (wanted, used) in stack.moved_ports.items()
    )
    state = "restored from .local-stack/" if stack.restored else "new, kept in .local-stack/"
    return f"""{moved}
API: {stack.api_url}   docs: {stack.api_url}/docs
AWS endpoint (moto): {stack.outputs["awsEndpoint"]}   outputs: {OUTPUTS_FILE}
State: {state} (`make reset` starts empty). Started in {time.perf_counter() - STARTED:.2f} s.
Handlers reload when a file under lambdas/ changes. Ctrl-C stops everything.

Try it (paste as is):

{walkthrough.render(stack.api_url)}
"""


if __name__ == "__main__":
    exit_code = main()
    # Everything is saved and closed: skip the interpreter's teardown of moto's thousands of objects and modules,
    # which takes seconds, so that Ctrl-C returns at once.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(exit_code)
