"""Requests are serialised per service.

moto's backends are plain Python objects without locks, and its server runs each request in a thread: two
TransactWriteItems at once interleave inside `DynamoDBBackend.transact_write_items` (one's rollback puts back a
table copy taken before the other's writes), which loses committed items and answers 500. `SerialisedDispatcher`
is moto's WSGI dispatcher with one lock per service backend, taken for the whole request; `all_services_locked()`
takes every lock, for a consistent snapshot (embedded_stack.moto.persistence). Requests to different services
still run side by side.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from embedded_stack.moto.request_routing import RoutingDispatcher


class SerialisedDispatcher(RoutingDispatcher):
    """moto's server application, running one request at a time per service backend."""

    def __init__(
        self, create_app: Callable[[str], Any], on_request: Callable[[dict[str, Any]], None] | None = None
    ) -> None:
        super().__init__(create_app)
        self._service_locks: dict[int, threading.Lock] = {}
        self._locks_lock = threading.Lock()
        self._on_request = on_request

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        backend_app = self.get_application(environ)
        with self._lock_for(backend_app):
            if self._on_request:
                self._on_request(environ)
            # The body is read under the lock too: the response then owes nothing to the backend's state.
            response = backend_app(environ, start_response)
            try:
                return list(response)
            finally:
                if hasattr(response, "close"):
                    response.close()

    def _lock_for(self, backend_app: Any) -> threading.Lock:
        with self._locks_lock:
            return self._service_locks.setdefault(id(backend_app), threading.Lock())

    @contextlib.contextmanager
    def all_services_locked(self) -> Iterator[None]:
        """No request runs in any service meanwhile (locks taken in a fixed order: requests hold only one)."""
        with self._locks_lock:
            locks = [self._service_locks[key] for key in sorted(self._service_locks)]
        with contextlib.ExitStack() as held:
            for lock in locks:
                held.enter_context(lock)
            yield
