"""moto 5.2.5 adapted for a long-running, concurrent local stack: one module per adaptation, each with its reason.

Fixes to moto's own classes, applied in this process (its server and `mock_aws` alike) by `install()`, once:

- `service_locks`: one request at a time per service backend (moto's backends have no locks).
- `transactions`: a transaction saves only the items it names, not copies of its tables.
- `untracked_instances`: model instances are not kept forever for moto's dashboard.
- `range_queries`: a Query reads its key range, not the whole table.
- `request_routing`: a request finds its service and action without listing moto's package.
- `attribute_values`: plain attribute values are answered as they are stored, not walked by the serializer.

What the stack adds to moto beside them: `server` (moto served with connections kept open), `signing_key` (tokens
signed with the stack's own key), `cognito_triggers`, `cognito_confirm`, `cognito_mail` (codes made, checked and
emailed to a local outbox) and `cognito_sessions` (token revocation, sign-out, TOTP) for what Cognito does that moto
does not, `persistence` (the backends' state on disk across restarts).
"""

from __future__ import annotations

import threading

from embedded_stack.moto import (
    attribute_values,
    range_queries,
    request_routing,
    transactions,
    untracked_instances,
)
from embedded_stack.moto.service_locks import SerialisedDispatcher

__all__ = ["SerialisedDispatcher", "install", "is_installed"]

_install_lock = threading.Lock()


def install() -> None:
    """Applies the fixes to moto's classes in this process; idempotent."""
    with _install_lock:
        if is_installed():
            return
        untracked_instances.install()
        range_queries.install()
        request_routing.install()
        attribute_values.install()
        transactions.install()  # last: `is_installed()` asks it


def is_installed() -> bool:
    return transactions.is_installed()
