"""Traces (X-Ray, through Powertools' Tracer) and business metrics (CloudWatch's embedded metric format, through
Powertools' Metrics) for every API function; `lambdas.shared.api.lambda_handler_for` wires both in.

Outside Lambda (the embedded stack, the tests) and where a stack turns tracing off there is no Tracer: no daemon is
called, nothing is sent, and the X-Ray SDK is not imported.
Metrics are log lines on stdout wherever the function runs: CloudWatch turns them into metrics, the embedded stack
prints them on its console. Traces are annotated with the route, the request id and the caller's sub (a Cognito
user id): never a token, a password or a body, and neither the response nor an error's text is recorded.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Metrics, Tracer

from lambdas.catalog import METRICS_NAMESPACE, STAGE_DIMENSION, STAGE_ENV_VAR, TRACED_LIBRARIES, BusinessMetric

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]

# Built only where it traces: even to disable itself, Powertools' Tracer imports the X-Ray SDK and its botocore
# session (about 0.4 s of every cold start in the embedded stack and in an untraced stack). Powertools' own test
# decides: POWERTOOLS_TRACE_DISABLED, or outside Lambda (no LAMBDA_TASK_ROOT; SAM's or Chalice's emulators).
# Not Powertools' default patch list (every library the X-Ray SDK can patch): patching requests or httplib would cost
# cold-start time for calls no function makes.
tracer: Tracer | None = None if Tracer._is_tracer_disabled() else Tracer(patch_modules=TRACED_LIBRARIES)
metrics = Metrics(namespace=METRICS_NAMESPACE)
metrics.set_default_dimensions(**{STAGE_DIMENSION: os.environ.get(STAGE_ENV_VAR) or "local"})


def record(metric: BusinessMetric, value: float = 1) -> None:
    """Adds to a business metric of this invocation; the handler's wrapper prints them when it answers."""
    metrics.add_metric(name=metric.name, unit=metric.unit, value=value)


def flush_metrics() -> None:
    """Prints this invocation's metrics as one EMF line, if it recorded any (Powertools' `log_metrics` would warn on
    every request that records none, which is most of them)."""
    if metrics.metric_set:
        metrics.flush_metrics()


def traced(handler: Handler) -> Handler:
    """The handler, as a traced subsegment where tracing is on; itself otherwise."""
    if tracer is None:
        return handler
    return tracer.capture_lambda_handler(handler, capture_response=False, capture_error=False)


def annotate(event: dict[str, Any]) -> None:
    """The trace's searchable keys: `annotation.route = "POST /tenants"`, `annotation.request_id = "..."`."""
    if tracer is None:
        return
    context = event.get("requestContext") or {}
    tracer.put_annotation("route", f"{event.get('httpMethod', '')} {event.get('resource', '')}")
    tracer.put_annotation("request_id", str(context.get("requestId") or ""))
    sub = ((context.get("authorizer") or {}).get("claims") or {}).get("sub")
    if sub:
        tracer.put_annotation("caller_sub", str(sub))
