"""Starts and stops the embedded stack: moto's server, the resources, and the API Gateway stand-in."""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from werkzeug.serving import BaseWSGIServer, make_server

from embedded_stack.events import REGION
from embedded_stack.gateway import ClaimsVerifier, Gateway, HandlerCode
from lambdas import catalog

log = logging.getLogger("embedded_stack")

OUTPUTS_FILE = Path(".local-stack/outputs.json")


@dataclass
class StackSettings:
    host: str = "127.0.0.1"
    api_port: int = 3000
    aws_port: int = 5050
    region: str = REGION
    outputs_file: Path | None = OUTPUTS_FILE
    reload: bool = True

    @classmethod
    def from_environment(cls) -> StackSettings:
        return cls(
            api_port=int(os.environ.get("API_PORT", cls.api_port)),
            aws_port=int(os.environ.get("AWS_PORT", cls.aws_port)),
        )


@dataclass
class EmbeddedStack:
    settings: StackSettings = field(default_factory=StackSettings)
    outputs: dict[str, Any] = field(default_factory=dict)
    gateway: Gateway | None = None
    _moto: ThreadedMotoServer | None = None
    _http: BaseWSGIServer | None = None
    _thread: threading.Thread | None = None

    def start(self) -> EmbeddedStack:
        settings = self.settings
        self._moto = ThreadedMotoServer(ip_address=settings.host, port=settings.aws_port, verbose=False)
        self._moto.start()
        aws_host, aws_port = self._moto.get_host_and_port()
        aws_endpoint = f"http://{aws_host}:{aws_port}"
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
        from embedded_stack.provision import provision  # boto3 clients made after the environment is set

        provisioned = provision()
        os.environ.update(provisioned.environment())
        self._install_cognito_triggers()
        authorizer = self._authorizer(aws_endpoint, provisioned.user_pool_id, provisioned.user_pool_client_id)
        self.gateway = Gateway(HandlerCode(watch=settings.reload), authorizer)
        self._http = make_server(settings.host, settings.api_port, self.gateway, threaded=True)
        self._thread = threading.Thread(target=self._http.serve_forever, name="api-gateway", daemon=True)
        self._thread.start()
        self.outputs = catalog.stack_outputs(
            api_url=f"http://{settings.host}:{self._http.server_port}",
            region=settings.region,
            user_pool_id=provisioned.user_pool_id,
            user_pool_client_id=provisioned.user_pool_client_id,
            tables=provisioned.tables,
            buckets=provisioned.buckets,
            aws_endpoint=aws_endpoint,
        )
        if settings.outputs_file:
            settings.outputs_file.parent.mkdir(parents=True, exist_ok=True)
            settings.outputs_file.write_text(json.dumps(self.outputs, indent=2) + "\n")
        return self

    def stop(self) -> None:
        if self._http:
            self._http.shutdown()
            self._http.server_close()
        if self._thread:
            self._thread.join(timeout=5)
        if self._moto:
            self._moto.stop()

    @property
    def api_url(self) -> str:
        return str(self.outputs["apiUrl"])

    def __enter__(self) -> EmbeddedStack:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    @staticmethod
    def _install_cognito_triggers() -> None:
        from embedded_stack.cognito_confirm import install_confirm_check
        from embedded_stack.cognito_triggers import install_pre_sign_up_trigger

        install_pre_sign_up_trigger()
        install_confirm_check()

    def _authorizer(self, aws_endpoint: str, pool_id: str, client_id: str) -> ClaimsVerifier:
        from embedded_stack.authorizer import CognitoAuthorizer

        return CognitoAuthorizer(
            jwks_url=f"{aws_endpoint}/{pool_id}/.well-known/jwks.json",
            issuer=f"https://cognito-idp.{self.settings.region}.amazonaws.com/{pool_id}",
            audience=client_id,
        )
