"""`make run`: serve the embedded stack in the foreground until Ctrl-C (its state kept in .local-stack/, or in
$STACK_STATE_DIR)."""

from __future__ import annotations

import time

STARTED = time.perf_counter()  # before the imports, which are most of the start-up

import logging  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
from typing import TYPE_CHECKING, TextIO  # noqa: E402

from embedded_stack import walkthrough  # noqa: E402
from embedded_stack.state_lock import FolderInUse, StateLock, state_dir_from_environment  # noqa: E402

if TYPE_CHECKING:
    from embedded_stack.stack import EmbeddedStack


def configure_logging(stream: TextIO | None = None) -> None:
    """The console log of `make run` (stderr, unless `stream`): one line a request and a REPORT line an invocation."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s", stream=stream)
    # Nothing in the format needs the caller's frame, thread or process: the logging HOWTO's "Optimization" settings
    # spare each record their cost (a frame walk, two system calls), paid twice a request.
    logging._srcfile = None
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    for chatty in ("werkzeug", "uvicorn", "botocore", "urllib3"):
        logging.getLogger(chatty).setLevel(logging.WARNING)


class StopSignals:
    """SIGINT and SIGTERM, told to the main thread without a lock taken in a signal handler.

    A handler runs in the main thread between two bytecodes, even inside another handler: one that set a
    threading.Event re-entered it when a second signal came while the first held the Event's lock (`timeout`
    sends SIGTERM to the process group, so the stack got it twice at once), and the stack never stopped. Here the
    Python handler does nothing; Python's C-level handler writes each signal's number to a pipe
    (`signal.set_wakeup_fd`), which `wait()` reads."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self._reader, writer = os.pipe()
        os.set_blocking(writer, False)  # a burst of signals fills the pipe at worst: the rest are dropped
        signal.set_wakeup_fd(writer, warn_on_full_buffer=False)
        for stop_signal in self.SIGNALS:
            signal.signal(stop_signal, _received)

    def wait(self) -> None:
        """Until SIGINT or SIGTERM arrives (or has arrived since this was made)."""
        while os.read(self._reader, 1)[0] not in self.SIGNALS:
            pass


def _received(signal_number: int, frame: object) -> None:
    """Nothing: the wakeup pipe carries the signal (StopSignals)."""


def main() -> int:
    configure_logging()
    stop_signals = StopSignals()
    # The state folder first, before the imports that take most of the start-up: a second stack on it refuses at
    # once (docs/local-stack.md, "One stack per state folder").
    state_lock = StateLock(state_dir_from_environment())
    try:
        state_lock.acquire()
    except FolderInUse as held:
        print(f"Could not start: {held}", file=sys.stderr)
        return 1
    from embedded_stack.stack import EmbeddedStack, StackSettings, StartError

    try:
        stack = EmbeddedStack(StackSettings.from_environment(), state_lock=state_lock).start()
    except StartError as error:
        print(f"Could not start: {error}", file=sys.stderr)
        return 1
    print(banner(stack), flush=True)
    try:
        stop_signals.wait()
    finally:
        stack.stop()
        print(f"stopped; the state is saved in {stack.settings.state_dir}/ (`make reset` empties it)", flush=True)
    return 0


def banner(stack: EmbeddedStack) -> str:
    moved = "".join(
        f"\n{variable} {wanted} was busy: using {used} (set {variable} to choose)"
        for variable, (wanted, used) in stack.moved_ports.items()
    )
    folder = stack.settings.state_dir
    state = f"restored from {folder}/" if stack.restored else f"new, kept in {folder}/"
    return f"""{moved}
API: {stack.api_url}   docs: {stack.api_url}/docs
AWS endpoint (moto): {stack.outputs["awsEndpoint"]}   outputs: {stack.settings.outputs_file}
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
