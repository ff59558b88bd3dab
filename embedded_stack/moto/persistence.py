"""The embedded stack's state on disk: moto's DynamoDB, S3 and Cognito backends, and the token-signing key.

One file, `<state dir>/state.pickle`: the backends as Python objects (moto has no export API that covers users'
password hashes, refresh tokens and object bodies; its own objects do), pickled with three adaptations — a lock
is saved as a new lock, a joserfc key as its JWK (the cryptography key inside cannot be pickled), and S3 object
bodies through moto's own `FakeKey.__getstate__`. Every write goes to a temporary file in the same directory,
fsynced, then renamed over the old one, so a crash leaves the previous snapshot or the new one, never half of
either.

`Snapshots` writes a snapshot when a request may have changed something (the moto dispatcher reports every
request; reads are recognised and ignored), at most once every `interval` seconds, from a background thread, and
once more on `stop()`: Ctrl-C loses nothing, `kill -9` at most the last `interval` seconds. The snapshot is taken
with every moto service locked (no request half-applied in it) for as long as a fork takes; a child process
pickles and writes it meanwhile (`write_in_background`).

A snapshot written by another moto version is not loaded (its classes may differ): the stack starts empty and
says so. Delete the directory (`make reset`) to start empty on purpose.
"""

from __future__ import annotations

import _thread
import contextlib
import copyreg
import io
import logging
import os
import pickle
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import moto
from joserfc import jwk
from moto.backends import get_backend

from embedded_stack.moto import signing_key

log = logging.getLogger("embedded_stack.moto.persistence")

SERVICES = ("dynamodb", "s3", "cognito-idp")
STATE_FILE = "state.pickle"
_FORMAT = 1
_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# X-Amz-Target actions that change nothing, by prefix (DynamoDB and Cognito speak JSON with an action header).
_READ_ACTIONS = ("Get", "BatchGet", "TransactGet", "Query", "Scan", "Describe", "List")


@dataclass
class State:
    signing_key: jwk.RSAKey
    backends: dict[str, dict[str, dict[str, Any]]]


def _new_lock(_: Any) -> tuple[Any, tuple[()]]:
    return threading.Lock, ()


def _new_rlock(_: Any) -> tuple[Any, tuple[()]]:
    return threading.RLock, ()


def _rsa_key(key: jwk.RSAKey) -> tuple[Any, tuple[dict[str, Any]]]:
    return signing_key.key_from_json, (signing_key.key_to_json(key),)


class _StatePickler(pickle.Pickler):
    dispatch_table = copyreg.dispatch_table.copy()
    dispatch_table[_thread.LockType] = _new_lock
    dispatch_table[_thread.RLock] = _new_rlock
    dispatch_table[jwk.RSAKey] = _rsa_key


# Modules that held pickled classes or functions before embedded_stack/ was arranged by what it emulates: a snapshot
# written then still loads.
_MOVED_MODULES = {
    "embedded_stack.moto_patches": "embedded_stack.moto.range_queries",
    "embedded_stack.signing_key": "embedded_stack.moto.signing_key",
}


class _StateUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        return super().find_class(_MOVED_MODULES.get(module, module), name)


def document(state: State) -> dict[str, Any]:
    """What a snapshot pickles: the backends, the signing key as its JWK, and what wrote them."""
    return {
        "format": _FORMAT,
        "moto": moto.__version__,
        "signing_key": signing_key.key_to_json(state.signing_key),
        "backends": state.backends,
    }


def dump(saved: dict[str, Any], file: BinaryIO) -> None:
    _StatePickler(file, protocol=pickle.HIGHEST_PROTOCOL).dump(saved)


def loads(data: bytes) -> State | None:
    """The state in `data`; None when it was written by another moto version or format."""
    saved = _StateUnpickler(io.BytesIO(data)).load()
    if saved.get("format") != _FORMAT or saved.get("moto") != moto.__version__:
        return None
    return State(signing_key.key_from_json(saved["signing_key"]), saved["backends"])


def capture(key: jwk.RSAKey) -> State:
    """The live backends of SERVICES (only those that hold something) and the signing key."""
    backends: dict[str, dict[str, dict[str, Any]]] = {}
    for service in SERVICES:
        for account_id, regions in get_backend(service).items():
            for region, backend in regions.items():
                backends.setdefault(service, {}).setdefault(account_id, {})[region] = backend
    return State(key, backends)


def restore(state: State) -> None:
    """Puts the saved backends in place of moto's (before any request reaches them)."""
    for service, accounts in state.backends.items():
        backend_dict = get_backend(service)  # type: ignore[call-overload]
        for account_id, regions in accounts.items():
            for region, backend in regions.items():
                backend_dict[account_id][region] = backend
                if service == "s3":
                    # S3 keeps a global index of bucket names beside the backends.
                    for name in backend.buckets:
                        backend_dict.bucket_accounts[name] = (region, account_id)


@contextlib.contextmanager
def atomic_file(path: Path) -> Iterator[BinaryIO]:
    """A file that replaces `path` whole when the block ends, and leaves it as it was if the block fails."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "wb") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_atomically(path: Path, data: bytes) -> None:
    with atomic_file(path) as file:
        file.write(data)


def write_in_background(path: Path, saved: dict[str, Any]) -> Callable[[], None]:
    """Starts pickling `saved` to `path` in a forked child process, as Redis saves in the background; the
    returned function waits for it to finish (SnapshotFailed if it did not).

    The child sees the state as it was at the fork, so the caller may release its locks as soon as this returns,
    and everything the pickling allocates (the pickle, the pickler's memo of every object) is the child's, given
    back to the system when it exits: the stack's own memory does not grow with snapshots of a growing state. The
    child runs one thread and takes no lock the stack's other threads may have held at the fork: it reports a
    failure on a pipe with a bare `os.write` and leaves with `os._exit`. Without fork (Windows), it writes here.
    """
    if not hasattr(os, "fork"):  # pragma: no cover - every platform the stack is tested on forks
        with atomic_file(path) as file:
            dump(saved, file)
        return lambda: None
    failure_reader, failure_writer = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child, whose coverage is not collected
        # Nothing may escape this block: the child would go on running the stack's code.
        status = 1
        try:
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the stack, which then saves once more
            os.close(failure_reader)
            with atomic_file(path) as file:
                dump(saved, file)
            status = 0
        except BaseException as error:
            os.write(failure_writer, f"{type(error).__name__}: {error}".encode()[:4096])
        finally:
            os._exit(status)
    os.close(failure_writer)

    def finished() -> None:
        with os.fdopen(failure_reader, "rb") as failure:
            message = failure.read().decode(errors="replace")  # the pipe ends when the child does
        _, status = os.waitpid(child, 0)
        if status:
            raise SnapshotFailed(message or f"the snapshot's process ended with status {status}")

    return finished


class SnapshotFailed(Exception):
    """A snapshot could not be written (its file is left as it was)."""


def load(directory: Path) -> State | None:
    path = directory / STATE_FILE
    if not path.exists():
        return None
    try:
        state = loads(path.read_bytes())
    except Exception:
        log.exception("%s could not be read: starting empty (it is kept as %s.unreadable)", path, path.name)
        path.replace(path.with_suffix(".unreadable"))
        return None
    if state is None:
        log.warning("%s was written by another moto version: starting empty", path)
    return state


def changes_state(environ: dict[str, Any]) -> bool:
    """False for a request that only reads (by HTTP method, or by its X-Amz-Target action)."""
    if environ.get("REQUEST_METHOD", "GET") in _READ_METHODS:
        return False
    action = str(environ.get("HTTP_X_AMZ_TARGET", "")).rpartition(".")[2]
    return not (action and action.startswith(_READ_ACTIONS))


class Snapshots:
    def __init__(
        self,
        directory: Path,
        key: jwk.RSAKey,
        locked: Callable[[], AbstractContextManager[None]],
        interval: float = 2.0,
    ) -> None:
        self.path = directory / STATE_FILE
        self._key = key
        self._locked = locked
        self._interval = interval
        self._changed = threading.Event()
        self._stopping = threading.Event()
        self._write_lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="state-snapshots", daemon=True)

    def request_seen(self, environ: dict[str, Any]) -> None:
        if changes_state(environ):
            self._changed.set()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._changed.set()
        self._thread.join(timeout=10)
        self.save()

    def save(self) -> None:
        with self._write_lock:
            self._changed.clear()
            # The services wait for the fork only: the child pickles the state as it was then.
            with self._locked():
                finished = write_in_background(self.path, document(capture(self._key)))
            finished()

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._changed.wait()
            if self._stopping.is_set():
                return
            try:
                self.save()
            except Exception:
                log.exception("snapshot to %s failed; the next change tries again", self.path)
            self._stopping.wait(self._interval)
