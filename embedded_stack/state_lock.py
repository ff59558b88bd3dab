"""One stack per state folder: a running stack holds an exclusive lock on `<state folder>/lock`.

Two stacks snapshotting into one folder erase each other's users and data, whichever writes last, so a second
stack on a held folder refuses to start at once, naming the process that holds it and its endpoints. The lock is
flock(2)'s: the kernel releases it when the holding process ends, however it ends (Ctrl-C, a crash, `kill -9`),
so no stale lock is ever left to delete. The file says who holds it (JSON: pid, endpoints) for that message; its
content means nothing once the lock is free.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from pathlib import Path
from typing import Any

LOCK_FILE = "lock"
STATE_DIR = Path(".local-stack")
# Another folder for the state (and outputs.json): a second stack in the same checkout needs one of its own.
STATE_DIR_VARIABLE = "STACK_STATE_DIR"


def state_dir_from_environment() -> Path:
    """`make run`'s state folder: $STACK_STATE_DIR, or .local-stack/."""
    return Path(os.environ.get(STATE_DIR_VARIABLE) or STATE_DIR)


class FolderInUse(Exception):
    """Another process holds the state folder; `holder` is what it wrote about itself (empty while it starts)."""

    def __init__(self, directory: Path, holder: dict[str, Any]) -> None:
        super().__init__(directory, holder)
        self.directory = directory
        self.holder = holder

    def __str__(self) -> str:
        """What the user reads: who holds the folder, where it serves, and the two ways on."""
        pid = self.holder.get("pid")
        who = f"process {pid}" if pid else "another process"
        if "api_url" in self.holder:
            who += f" (API {self.holder['api_url']}, AWS endpoint {self.holder.get('aws_endpoint')})"
        else:
            who += " (starting)"
        stop = f"Ctrl-C in its terminal, or `kill {pid}`" if pid else "Ctrl-C in its terminal"
        return (
            f"{self.directory}/ is in use by another stack: {who}. Two stacks on one folder erase each other's "
            f"state. Stop it ({stop}), or run this one with a folder of its own: "
            f"`{STATE_DIR_VARIABLE}={self.directory.name}-2 make run`."
        )


class StateLock:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._descriptor: int | None = None

    def acquire(self) -> None:
        """Holds the folder for this process, or FolderInUse at once (it never waits)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        # Opened without truncating: the holder's description stays readable for the refusal.
        descriptor = os.open(self.directory / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(descriptor)
            os.close(descriptor)
            raise FolderInUse(self.directory, holder) from None
        self._descriptor = descriptor
        self.describe(pid=os.getpid())

    def describe(self, **holder: Any) -> None:
        """Says who holds the folder, for a stack that would start on it."""
        if self._descriptor is None:
            return
        os.ftruncate(self._descriptor, 0)
        os.pwrite(self._descriptor, json.dumps(holder).encode(), 0)

    def release(self) -> None:
        if self._descriptor is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(self._descriptor, 0)
        fcntl.flock(self._descriptor, fcntl.LOCK_UN)
        os.close(self._descriptor)
        self._descriptor = None


def _read_holder(descriptor: int) -> dict[str, Any]:
    try:
        holder = json.loads(os.pread(descriptor, 4096, 0) or b"{}")
    except ValueError:  # caught between the holder's truncation and its write
        return {}
    return holder if isinstance(holder, dict) else {}
