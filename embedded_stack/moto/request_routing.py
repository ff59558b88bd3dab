"""A request finds its service and action without reading moto's package.

For every request, moto's dispatcher lists the directories of moto's package (`list_of_moto_modules`: a directory
listing and a `stat` per entry, to ask whether the host names a service), and each response class lists its
methods with `inspect.getmembers`, to ask whether the action is one: a tenth of a GetItem's time.
`RoutingDispatcher` remembers each host's service (for at most `HOSTS_REMEMBERED` hosts: a host comes from the
caller's credential scope), and `install()` has a class's method names listed once.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import moto.core.responses as moto_responses
from moto.moto_server.werkzeug_app import DomainDispatcherApplication

HOSTS_REMEMBERED = 256


def install() -> None:
    moto_responses.method_names_from_class = functools.cache(moto_responses.method_names_from_class)


class RoutingDispatcher(DomainDispatcherApplication):
    """moto's server application, finding a host's service once."""

    def __init__(self, create_app: Callable[[str], Any]) -> None:
        super().__init__(create_app)
        # Called under moto's dispatcher lock; the answer depends on the host alone.
        self.get_backend_for_host = functools.lru_cache(maxsize=HOSTS_REMEMBERED)(super().get_backend_for_host)
