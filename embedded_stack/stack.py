"""Starts and stops the embedded stack: moto's server, the resources, and the API Gateway stand-in.

moto runs with the project's adaptations (embedded_stack.moto: one request at a time per service, no table copies
per transaction, no instance kept forever, tokens signed with the stack's own key), served with connections kept
open (embedded_stack.moto.server). With `state_dir` set (`make run`: `.local-stack/`), the state is restored at
start and snapshotted while it runs (embedded_stack.moto.persistence); tables, buckets and the user pool are
created only when missing, so their names and ids stay the same across restarts.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from moto.moto_server.werkzeug_app import create_backend_app

import embedded_stack.moto as adapted_moto
from embedded_stack.apigateway import edge
from embedded_stack.apigateway.events import REGION
from embedded_stack.apigateway.gateway import ClaimsVerifier, Gateway, HandlerCode
from embedded_stack.lambda_service.containers import Containers, FunctionSettings
from embedded_stack.moto import persistence, signing_key
from embedded_stack.moto.server import POLL_SECONDS, MotoServer
from embedded_stack.state_lock import STATE_DIR, FolderInUse, StateLock, state_dir_from_environment
from lambdas import catalog
from lambdas.catalog import cors

log = logging.getLogger("embedded_stack")

OUTBOX = "outbox"
OUTPUTS_NAME = "outputs.json"
OUTPUTS_FILE = STATE_DIR / OUTPUTS_NAME
# When the user set no port and the default is busy, the next ones are tried.
PORTS_TRIED = 20


class StartError(Exception):
    """The stack cannot start; the message says what to do."""


@dataclass
class StackSettings:
    host: str = "127.0.0.1"
    api_port: int = 3000
    aws_port: int = 5050
    region: str = REGION
    outputs_file: Path | None = OUTPUTS_FILE
    reload: bool = True
    # Browser origins that may call the API (lambdas/catalog/cors.py says what a `*` matches).
    cors_allowed_origins: tuple[str, ...] = cors.DEV_ORIGINS
    functions: FunctionSettings = field(default_factory=FunctionSettings)
    # Where the state is kept across restarts; None keeps nothing (tests).
    state_dir: Path | None = None
    # Where the messages Cognito would email go, one JSON file each (embedded_stack.moto.cognito_mail); None: the state
    # directory's `outbox/`, or no files when there is none.
    outbox_dir: Path | None = None
    snapshot_seconds: float = 2.0
    # A port the user chose is used or refused; a default one may move to the next free port.
    api_port_chosen: bool = False
    aws_port_chosen: bool = False

    @classmethod
    def from_environment(cls) -> StackSettings:
        state_dir = state_dir_from_environment()
        return cls(
            api_port=_port_from_environment("API_PORT", cls.api_port),
            aws_port=_port_from_environment("AWS_PORT", cls.aws_port),
            api_port_chosen="API_PORT" in os.environ,
            aws_port_chosen="AWS_PORT" in os.environ,
            state_dir=state_dir,
            outputs_file=state_dir / OUTPUTS_NAME,
        )


def _port_from_environment(variable: str, default: int) -> int:
    value = os.environ.get(variable, str(default))
    if not value.isdigit() or not 0 <= int(value) <= 65535:
        raise StartError(f"{variable} must be a port number (0-65535); set {variable} to a free port, e.g. {default}.")
    return int(value)


@dataclass
class EmbeddedStack:
    settings: StackSettings = field(default_factory=StackSettings)
    outputs: dict[str, Any] = field(default_factory=dict)
    gateway: Gateway | None = None
    _containers: Containers | None = None
    _watcher: threading.Event | None = None
    # Ports that were busy and replaced by the next free one: {"API_PORT": (3000, 3001)}.
    moved_ports: dict[str, tuple[int, int]] = field(default_factory=dict)
    restored: bool = False
    _moto_server: MotoServer | None = None
    _api_server: edge.Serving | None = None
    _sockets: list[socket.socket] = field(default_factory=list)
    _snapshots: persistence.Snapshots | None = None
    outbox: Any = None
    # The lock on `settings.state_dir`: taken at start, unless given already held (`make run` takes it before its
    # imports, to refuse at once); released at stop.
    state_lock: StateLock | None = None

    def start(self) -> EmbeddedStack:
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> EmbeddedStack:
        settings = self.settings
        # The state folder, then both ports first: a held folder or a busy port is reported before anything else.
        if settings.state_dir and not self.state_lock:
            self._hold(settings.state_dir)
        aws_socket = self._listen("AWS_PORT", settings.aws_port, settings.aws_port_chosen)
        api_socket = self._listen("API_PORT", settings.api_port, settings.api_port_chosen)
        if self.state_lock:
            self.state_lock.describe(
                pid=os.getpid(),
                api_url=f"http://{settings.host}:{api_socket.getsockname()[1]}",
                aws_endpoint=f"http://{settings.host}:{aws_socket.getsockname()[1]}",
            )
        adapted_moto.install()
        state = persistence.load(settings.state_dir) if settings.state_dir else None
        key = state.signing_key if state else signing_key.new_key()
        signing_key.install(key)
        if state:
            persistence.restore(state)
            self.restored = True
        dispatcher = adapted_moto.SerialisedDispatcher(create_backend_app, on_request=self._request_seen)
        self._sockets.remove(aws_socket)  # the server closes it when it stops
        self._moto_server = MotoServer(dispatcher, aws_socket)
        aws_endpoint = f"http://{settings.host}:{self._moto_server.port}"
        # The functions run in this process: they see what Lambda's environment would give them.
        os.environ.update(
            {
                "AWS_ENDPOINT_URL": aws_endpoint,
                "AWS_DEFAULT_REGION": settings.region,
                "AWS_REGION": settings.region,
                "AWS_ACCESS_KEY_ID": "embedded",
                "AWS_SECRET_ACCESS_KEY": "embedded",
            }
        )
        os.environ.pop("AWS_PROFILE", None)
        # Deployed, each function has its own name here; in one process they share one.
        os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "serverless-platform")
        os.environ.update(cors.environment(settings.cors_allowed_origins))
        from embedded_stack.provision import provision  # boto3 clients made after the environment is set

        provisioned = provision()
        os.environ.update(provisioned.environment())
        self._install_cognito_triggers()
        outbox_dir = settings.outbox_dir or (settings.state_dir / OUTBOX if settings.state_dir else None)
        self.outbox = self._install_cognito_accounts(outbox_dir)
        authorizer = self._authorizer(aws_endpoint, provisioned.user_pool_id, provisioned.user_pool_client_id)
        code = HandlerCode()
        self._containers = Containers(settings.functions)
        if settings.reload:
            self._watcher = code.watch(on_change=self._containers.retire)  # a code change is a new deployment
        self.gateway = Gateway(
            code, authorizer, cors_allowed_origins=settings.cors_allowed_origins, functions=self._containers
        )
        self._sockets.remove(api_socket)  # the server closes it when it stops
        self._api_server = edge.Serving(self.gateway, api_socket, stop_seconds=POLL_SECONDS)
        if settings.state_dir:
            self._snapshots = persistence.Snapshots(
                settings.state_dir, key, dispatcher.all_services_locked, settings.snapshot_seconds
            )
            self._snapshots.save()  # the provisioned resources, before the first request
            self._snapshots.start()
        self.outputs = catalog.stack_outputs(
            api_url=f"http://{settings.host}:{self._api_server.port}",
            region=settings.region,
            user_pool_id=provisioned.user_pool_id,
            user_pool_client_id=provisioned.user_pool_client_id,
            tables=provisioned.tables,
            buckets=provisioned.buckets,
            aws_endpoint=aws_endpoint,
            outbox=str(outbox_dir.resolve()) if outbox_dir else None,
        )
        if settings.outputs_file:
            persistence.write_atomically(settings.outputs_file, (json.dumps(self.outputs, indent=2) + "\n").encode())
        return self

    def stop(self) -> None:
        if self._api_server:
            self._api_server.stop()
            self._api_server = None
        if self._moto_server:
            self._moto_server.stop()
            self._moto_server = None
        for listening in self._sockets:
            listening.close()  # bound but never served: the start failed half-way
        self._sockets.clear()
        if self._snapshots:
            self._snapshots.stop()  # the last snapshot, after the last request
            self._snapshots = None
        if self._watcher:
            self._watcher.set()
        if self._containers:
            self._containers.close()
        if self.state_lock:
            self.state_lock.release()  # last: the folder's final snapshot is written
            self.state_lock = None

    @property
    def api_url(self) -> str:
        return str(self.outputs["apiUrl"])

    def __enter__(self) -> EmbeddedStack:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    def _request_seen(self, environ: dict[str, Any]) -> None:
        if self._snapshots:
            self._snapshots.request_seen(environ)

    def _hold(self, state_dir: Path) -> None:
        lock = StateLock(state_dir)
        try:
            lock.acquire()
        except FolderInUse as held:
            raise StartError(str(held)) from None
        self.state_lock = lock

    def _listen(self, variable: str, port: int, chosen: bool) -> socket.socket:
        """A listening socket on `port`, or on the next free one when the user chose no port."""
        host = self.settings.host
        candidates = [port] if chosen or port == 0 else list(range(port, min(port + PORTS_TRIED, 65536)))
        for candidate in candidates:
            listening = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
            listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                listening.bind((host, candidate))
                listening.listen(128)
            except OSError as error:
                listening.close()
                if error.errno != errno.EADDRINUSE:
                    message = f"Cannot listen on {host}:{candidate} ({error.strerror}): set {variable} to a free port."
                    raise StartError(message) from None
                continue
            if candidate != port:
                self.moved_ports[variable] = (port, candidate)
            self._sockets.append(listening)
            return listening
        if chosen:
            raise StartError(
                f"{variable}={port} is in use by another program (another `make run`?): "
                f"set {variable} to a free port, e.g. `{variable}={port + 1} make run`."
            )
        raise StartError(
            f"Ports {port}-{candidates[-1]} are all in use: set {variable} to a free port, "
            f"e.g. `{variable}={port + PORTS_TRIED} make run`."
        )

    @staticmethod
    def _install_cognito_triggers() -> None:
        from embedded_stack.moto.cognito_confirm import install_confirm_check
        from embedded_stack.moto.cognito_triggers import install_pre_sign_up_trigger

        install_pre_sign_up_trigger()
        install_confirm_check()

    @staticmethod
    def _install_cognito_accounts(outbox_dir: Path | None) -> Any:
        from embedded_stack.moto import cognito_mail, cognito_sessions

        outbox = cognito_mail.Outbox(outbox_dir, console=lambda line: print(line, flush=True))
        cognito_mail.install(outbox)
        cognito_sessions.install()
        return outbox

    def _authorizer(self, aws_endpoint: str, pool_id: str, client_id: str) -> ClaimsVerifier:
        from embedded_stack.apigateway.authorizer import CognitoAuthorizer

        return CognitoAuthorizer(
            jwks_url=f"{aws_endpoint}/{pool_id}/.well-known/jwks.json",
            issuer=f"https://cognito-idp.{self.settings.region}.amazonaws.com/{pool_id}",
            audience=client_id,
        )
