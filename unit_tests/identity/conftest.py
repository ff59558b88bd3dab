from __future__ import annotations

import io
from collections.abc import Callable, Iterator

import pytest
from botocore.stub import Stubber

from embedded_stack.provision import Provisioned
from lambdas.identity import handler
from lambdas.shared.aws import client

PASSWORD = "Correct-Horse-42"


@pytest.fixture
def cognito_stub(aws: Provisioned) -> Iterator[Stubber]:
    """Cognito answering exactly what the test queues (for errors moto cannot produce)."""
    with Stubber(client("cognito-idp")) as stubber:
        yield stubber


@pytest.fixture
def output(capsys: pytest.CaptureFixture[str]) -> Iterator[Callable[[], str]]:
    """Everything the function writes: its JSON log (Powertools binds the stream at import) and its stdout."""
    buffer = io.StringIO()
    log_handler = handler.logger.registered_handler
    previous = log_handler.setStream(buffer)  # type: ignore[attr-defined]
    yield lambda: buffer.getvalue() + capsys.readouterr().out
    log_handler.setStream(previous)  # type: ignore[attr-defined]
