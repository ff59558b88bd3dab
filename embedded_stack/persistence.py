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
with every moto service locked (no request half-applied in it), and written to disk after the locks are released.

A snapshot written by another moto version is not loaded (its classes may differ): the stack starts empty and
says so. Delete the directory (`make reset`) to start empty on purpose.
"""

from __future__ import annotations

import _thread
import copyreg
import ctypes
import ctypes.util
import io
import logging
import os
import pickle
import sys
import tempfile
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import moto
from joserfc import jwk
from moto.backends import get_backend

from embedded_stack import signing_key

log = logging.getLogger("embedded_stack.persistence")
_LIBC = ctypes.CDLL(ctypes.util.find_library("c")) if sys.platform == "linux" else None

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


def dumps(state: State) -> memoryview:
    """The pickle of `state`, as a view of its buffer: a copy of a snapshot would double its peak memory."""
    buffer = io.BytesIO()
    _StatePickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(
        {
            "format": _FORMAT,
            "moto": moto.__version__,
            "signing_key": signing_key.key_to_json(state.signing_key),
            "backends": state.backends,
        }
    )
    return buffer.getbuffer()


def loads(data: bytes | memoryview) -> State | None:
    """The state in `data`; None when it was written by another moto version or format."""
    saved = pickle.loads(data)
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


def write_atomically(path: Path, data: bytes | memoryview) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _return_freed_memory() -> None:
    """Gives the memory a snapshot used (its pickle, the pickler's memo of every object) back to the system.

    glibc's malloc keeps freed heap memory for reuse, and raises its mmap threshold after large blocks are freed,
    so each snapshot would leave the stack's RSS at its peak: a cost that grows with the data, snapshot after
    snapshot (bench/moto_flat.py measures it). Elsewhere than glibc there is nothing to call.
    """
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


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
            with self._locked():
                data = dumps(capture(self._key))
            write_atomically(self.path, data)
            del data
            _return_freed_memory()

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
