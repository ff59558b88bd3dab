"""From nothing to a first answer: a fresh clone's `make run`, against `chalice local` installed from nothing.

- first_answer: the seconds from `git clone` of this repository (its committed HEAD, into a scratch folder) to the
  first answer of `GET /health` through `make run`: a virtual environment, uv, requirements/run.lock with its
  bytecode compiled, the stack's start; uv's cache empty / the seconds from `python -m venv` to the first answer of
  `chalice local` serving bench/chalice_baseline, chalice and boto3 (its app's one import) installed by pip at the
  versions pyproject.toml pins, pip's cache off. Each side downloads what it installs, from the package index this
  machine is configured with.

Three rounds, interleaved. `python -m bench.first_run` runs it alone.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import ROOT, free_port, interleaved, row
from bench.local_stack import CHALICE_PROJECT
from bench.servers import wait_until_answering

ROUNDS = int(os.environ.get("BENCH_FIRST_RUN_ROUNDS", 3))
PYTHON = sys.executable  # a venv made from this one is made from the Makefile's PYTHON, as `make run`'s is


def _pinned(package: str) -> str:
    """`package==version` as pyproject.toml pins it."""
    found = re.search(rf'"({package}==[^"]+)"', (ROOT / "pyproject.toml").read_text())
    assert found, f"{package} is not pinned in pyproject.toml"
    return found.group(1)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Ctrl-C to the whole process group, as a terminal sends it."""
    with contextlib.suppress(ProcessLookupError):  # it has exited already
        os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _seconds_to_first_answer(command: list[str], cwd: Path, env: dict[str, str], url: str, log: Path) -> float:
    started = time.perf_counter()
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            wait_until_answering(url, process, timeout=600, poll=0.05)
            return time.perf_counter() - started
        except (RuntimeError, TimeoutError) as failed:  # the log goes with the scratch folder: show its end
            raise RuntimeError(f"{failed}; its output ends:\n{log.read_text(errors='replace')[-2000:]}") from failed
        finally:
            _stop(process)


def stack_from_clone() -> float:
    with tempfile.TemporaryDirectory(prefix="bench-first-run-") as scratch:
        folder = Path(scratch)
        api_port = free_port()
        environment = os.environ | {
            "API_PORT": str(api_port),
            "AWS_PORT": str(free_port()),
            "UV_CACHE_DIR": str(folder / "uv-cache"),
        }
        script = f"git clone --quiet {ROOT} clone && cd clone && exec make run"
        url = f"http://127.0.0.1:{api_port}/health"
        return _seconds_to_first_answer(["bash", "-c", script], folder, environment, url, folder / "make-run.log")


def chalice_from_nothing() -> float:
    with tempfile.TemporaryDirectory(prefix="bench-first-run-") as scratch:
        folder = Path(scratch)
        shutil.copytree(CHALICE_PROJECT, folder / "app")
        port = free_port()
        environment = os.environ | {"PIP_NO_CACHE_DIR": "1", "AWS_DEFAULT_REGION": "us-east-1"}
        script = (
            f"{PYTHON} -m venv venv && venv/bin/pip install --quiet {_pinned('chalice')} {_pinned('boto3')} && "
            f"exec venv/bin/chalice --project-dir app local --no-autoreload --host 127.0.0.1 --port {port}"
        )
        url = f"http://127.0.0.1:{port}/health"
        return _seconds_to_first_answer(["bash", "-c", script], folder, environment, url, folder / "chalice.log")


def run() -> list[dict[str, Any]]:
    candidate, baseline = interleaved(stack_from_clone, chalice_from_nothing, ROUNDS)
    note = "fresh clone to the first answer of `make run` / a new venv to the first answer of `chalice local`"
    return [row("first_answer", candidate, baseline, "s", note)]


if __name__ == "__main__":
    from bench.common import table

    print(table(run()))
