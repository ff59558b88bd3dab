"""One stack per state folder (embedded_stack.state_lock): a second refuses at once, naming the holder and its
endpoints; the folder is free again when the holder stops, however it stops."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from embedded_stack.stack import EmbeddedStack, StackSettings, StartError
from embedded_stack.state_lock import FolderInUse, StateLock
from lambdas.shared.aws import client


@pytest.fixture(autouse=True)
def own_environment() -> Iterator[None]:
    """The stack points this process's AWS settings at its moto server: the other tests get theirs back."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)
    client.cache_clear()


def settings(state_dir: Path) -> StackSettings:
    return StackSettings(api_port=0, aws_port=0, outputs_file=None, reload=False, state_dir=state_dir)


def test_a_second_stack_on_a_held_folder_refuses_naming_the_holder_its_endpoints_and_the_way_out(
    tmp_path: Path,
) -> None:
    with EmbeddedStack(settings(tmp_path)) as first:
        saved = (tmp_path / "state.pickle").read_bytes()

        with pytest.raises(StartError) as refused:
            EmbeddedStack(settings(tmp_path)).start()

        message = str(refused.value)
        assert f"{tmp_path}/ is in use by another stack: process {os.getpid()}" in message
        assert f"API {first.api_url}, AWS endpoint {first.outputs['awsEndpoint']}" in message
        assert f"`kill {os.getpid()}`" in message
        assert f"`STACK_STATE_DIR={tmp_path.name}-2 make run`" in message
        assert (tmp_path / "state.pickle").read_bytes() == saved  # the refused stack wrote nothing


def test_a_stopped_stack_leaves_its_folder_to_the_next(tmp_path: Path) -> None:
    with EmbeddedStack(settings(tmp_path)):
        pass

    with EmbeddedStack(settings(tmp_path)) as second:
        assert second.restored


def test_a_crashed_holder_leaves_no_lock_behind(tmp_path: Path) -> None:
    holding = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(tmp_path)], stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parents[2]
    )
    assert holding.stdout is not None and holding.stdout.readline() == "held\n"
    with pytest.raises(FolderInUse) as held:
        StateLock(tmp_path).acquire()
    assert held.value.holder == {"pid": holding.pid}

    holding.send_signal(signal.SIGKILL)  # no chance to release it: the kernel does
    holding.wait(10)

    lock = StateLock(tmp_path)
    lock.acquire()
    lock.release()


HOLD = """
import sys, time
from pathlib import Path
from embedded_stack.state_lock import StateLock
StateLock(Path(sys.argv[1])).acquire()
print("held", flush=True)
time.sleep(60)
"""


def test_a_holder_still_starting_is_named_by_its_pid_alone(tmp_path: Path) -> None:
    lock = StateLock(tmp_path)
    lock.acquire()
    try:
        with pytest.raises(StartError, match=rf"process {os.getpid()} \(starting\)"):
            EmbeddedStack(settings(tmp_path)).start()
    finally:
        lock.release()


def test_the_state_folder_and_its_outputs_come_from_stack_state_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STACK_STATE_DIR", "/tmp/second-stack")

    chosen = StackSettings.from_environment()

    assert chosen.state_dir == Path("/tmp/second-stack")
    assert chosen.outputs_file == Path("/tmp/second-stack/outputs.json")
