"""Alarms into one SNS topic, and one dashboard, for everything the catalog declares: the API, each function, each
table, the user pool's sign-ups and the business metrics (lambdas/catalog/metrics.py). docs/operating.md says
what each alarm means and where to look first; the thresholds are stack settings (infra/settings.py).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.settings import StackSettings
from lambdas.catalog import (
    BUSINESS_METRICS,
    METRICS_NAMESPACE,
    SERVICE_DIMENSION,
    STAGE_DIMENSION,
    BusinessMetric,
    Route,
)

# Metrics Insights queries (SELECT ... FROM SCHEMA(...)) may back an alarm: DynamoDB publishes ThrottledRequests and
# SystemErrors per table *and operation*, and one query sums every operation, those of a future function included.
DYNAMODB_BY_OPERATION = 'SCHEMA("AWS/DynamoDB", Operation, TableName)'


@dataclass(frozen=True)
class Watched:
    """The physical names of what is watched, as the stack's resources resolve them."""

    region: pulumi.Input[str]
    api_name: pulumi.Input[str]
    stage_name: pulumi.Input[str]
    functions: Mapping[str, pulumi.Input[str]]  # catalog name → function name
    tables: Mapping[str, pulumi.Input[str]]  # catalog name → table name
    user_pool_id: pulumi.Input[str]
    user_pool_client_id: pulumi.Input[str]
    routes: tuple[Route, ...]


def table_query(metric: str, table_name: str) -> str:
    return f"SELECT SUM({metric}) FROM {DYNAMODB_BY_OPERATION} WHERE TableName = '{table_name}'"


class Observability(pulumi.ComponentResource):
    """The alarms topic (with the stack's alarm email subscribed, if any), the alarms and the dashboard."""

    def __init__(
        self, name: str, watched: Watched, settings: StackSettings, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("serverless-platform:observability:Observability", name, None, opts)
        self._name = name
        self._settings = settings
        child = pulumi.ResourceOptions(parent=self)
        self.topic = aws.sns.Topic(
            f"{name}-alarms", name=f"{settings.prefix}alarms", tags=settings.tags or None, opts=child
        )
        if settings.alarm_email:
            aws.sns.TopicSubscription(
                f"{name}-alarms-email",
                topic=self.topic.arn,
                protocol="email",
                endpoint=settings.alarm_email,
                opts=child,
            )
        self.alarms: list[aws.cloudwatch.MetricAlarm] = []
        self._api_alarms(watched)
        for short_name, function_name in watched.functions.items():
            self._function_alarms(short_name, function_name)
        for short_name, table_name in watched.tables.items():
            self._table_alarms(short_name, table_name)
        self._sign_up_alarm(watched)
        self.dashboard = aws.cloudwatch.Dashboard(
            f"{name}-dashboard",
            dashboard_name=f"{settings.prefix}operations",
            dashboard_body=pulumi.Output.from_input(_resolvable(watched)).apply(
                lambda resolved: json.dumps(dashboard_body(resolved, settings), separators=(",", ":"))
            ),
            opts=child,
        )
        self.register_outputs({"topicArn": self.topic.arn, "dashboardName": self.dashboard.dashboard_name})

    def _alarm(self, key: str, description: str, **args: Any) -> None:
        """One alarm named `<prefix><key>`, into the topic, with a period of the stack's alarm period. Missing data
        is not breaching: a function nobody calls has no Errors datapoints, and that is not a fault."""
        if "metric_queries" not in args:
            args["period"] = self._settings.alarm_period_seconds
        self.alarms.append(
            aws.cloudwatch.MetricAlarm(
                f"{self._name}-{key}",
                name=f"{self._settings.prefix}{key}",
                alarm_description=description,
                evaluation_periods=1,
                treat_missing_data="notBreaching",
                alarm_actions=[self.topic.arn],
                ok_actions=[self.topic.arn],
                tags=self._settings.tags or None,
                opts=pulumi.ResourceOptions(parent=self),
                **args,
            )
        )

    def _api_alarms(self, watched: Watched) -> None:
        dimensions = {"ApiName": watched.api_name, "Stage": watched.stage_name}
        settings = self._settings
        self._alarm(
            "api-5xx",
            f"More than {settings.alarm_api_5xx_percent}% of API requests answered 5XX. Look first at the functions' "
            "Errors alarms and the access log's 5XX lines (their requestId finds the function's log and trace: "
            "docs/operating.md); a 5XX with no function error is API Gateway's own (integration timeout, throttling).",
            namespace="AWS/ApiGateway",
            metric_name="5XXError",
            dimensions=dimensions,
            statistic="Average",  # 5XXError is 1 or 0 a request: its average is the share of 5XX answers
            comparison_operator="GreaterThanThreshold",
            threshold=settings.alarm_api_5xx_percent / 100,
        )
        self._alarm(
            "api-p99-latency",
            f"The slowest 1% of API requests took over {settings.alarm_api_p99_latency_ms} ms. Look first at the "
            "dashboard's p99 per route group to find the route, then at its X-Ray traces (the slowest segment: the "
            "function's init, a DynamoDB call, Cognito).",
            namespace="AWS/ApiGateway",
            metric_name="Latency",
            dimensions=dimensions,
            extended_statistic="p99",
            comparison_operator="GreaterThanThreshold",
            threshold=settings.alarm_api_p99_latency_ms,
        )

    def _function_alarms(self, short_name: str, function_name: pulumi.Input[str]) -> None:
        settings = self._settings
        dimensions = {"FunctionName": function_name}
        self._alarm(
            f"{short_name}-errors",
            f"The {short_name} function failed (an unhandled exception, a timeout or an out-of-memory) at least "
            f"{settings.alarm_function_errors} time(s). Look first at its log group's ERROR lines and at the "
            "REPORT lines for 'Status: timeout'; the traces of failed requests show where the time went.",
            namespace="AWS/Lambda",
            metric_name="Errors",
            dimensions=dimensions,
            statistic="Sum",
            comparison_operator="GreaterThanOrEqualToThreshold",
            threshold=settings.alarm_function_errors,
        )
        self._alarm(
            f"{short_name}-throttles",
            f"Lambda refused to run the {short_name} function at least {settings.alarm_function_throttles} "
            "time(s): the account's (or the function's reserved) concurrency is used up. Look first at the "
            "dashboard's concurrency per function, then at the account's Lambda concurrency quota.",
            namespace="AWS/Lambda",
            metric_name="Throttles",
            dimensions=dimensions,
            statistic="Sum",
            comparison_operator="GreaterThanOrEqualToThreshold",
            threshold=settings.alarm_function_throttles,
        )

    def _table_alarms(self, short_name: str, table_name: pulumi.Input[str]) -> None:
        settings = self._settings
        for key, metric, threshold, look_first in (
            (
                "throttled",
                "ThrottledRequests",
                settings.alarm_table_throttled_requests,
                "A hot partition key (one tenant's or user's items written in a burst) or an on-demand table "
                "doubling its traffic faster than DynamoDB scales. Look first at the dashboard's table widget and "
                "at CloudWatch Contributor Insights for the table, if enabled.",
            ),
            (
                "system-errors",
                "SystemErrors",
                settings.alarm_table_system_errors,
                "DynamoDB answered 500s (its own fault; the SDK retries them). Look first at the AWS Health "
                "Dashboard for DynamoDB in the region, then at the functions' Errors alarms.",
            ),
        ):
            query = pulumi.Output.from_input(table_name).apply(functools.partial(table_query, metric))
            self._alarm(
                f"{short_name}-table-{key}",
                f"The {short_name} table counted {metric} (at least {threshold}, all operations). {look_first}",
                metric_queries=[
                    aws.cloudwatch.MetricAlarmMetricQueryArgs(
                        id="q", expression=query, period=settings.alarm_period_seconds, return_data=True
                    )
                ],
                comparison_operator="GreaterThanOrEqualToThreshold",
                threshold=threshold,
            )

    def _sign_up_alarm(self, watched: Watched) -> None:
        """AWS/Cognito's SignUpSuccesses is 1 for a successful sign-up and 0 for any other (throttled included):
        its SampleCount less its Sum is the failed sign-ups (Amazon Cognito Developer Guide, "User pool metrics in
        CloudWatch"). Refusals the API answers (a taken email, a weak password) count too: hence a threshold."""
        settings = self._settings
        dimensions = {"UserPool": watched.user_pool_id, "UserPoolClient": watched.user_pool_client_id}

        def sign_ups(query_id: str, statistic: str) -> aws.cloudwatch.MetricAlarmMetricQueryArgs:
            return aws.cloudwatch.MetricAlarmMetricQueryArgs(
                id=query_id,
                metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
                    namespace="AWS/Cognito",
                    metric_name="SignUpSuccesses",
                    dimensions=dimensions,
                    stat=statistic,
                    period=settings.alarm_period_seconds,
                ),
                return_data=False,
            )

        self._alarm(
            "sign-up-failures",
            f"At least {settings.alarm_sign_up_failures} sign-ups failed. Look first at the identity function's "
            "log ('request refused by cognito': error_code) — many UsernameExists or InvalidPassword are users; "
            "TooManyRequests or a CodeDeliveryFailure means Cognito's email sending or quotas.",
            metric_queries=[
                sign_ups("attempts", "SampleCount"),
                sign_ups("successes", "Sum"),
                aws.cloudwatch.MetricAlarmMetricQueryArgs(
                    id="failures", expression="attempts - successes", label="Failed sign-ups", return_data=True
                ),
            ],
            comparison_operator="GreaterThanOrEqualToThreshold",
            threshold=settings.alarm_sign_up_failures,
        )


def _resolvable(watched: Watched) -> dict[str, Any]:
    return {
        "region": watched.region,
        "api_name": watched.api_name,
        "stage_name": watched.stage_name,
        "functions": dict(watched.functions),
        "tables": dict(watched.tables),
        "routes": [(route.method, route.path, route.function.name) for route in watched.routes],
    }


def _graph(title: str, metrics: list[list[Any]], *, region: str, width: int = 12, stat: str = "Sum") -> dict[str, Any]:
    return {
        "type": "metric",
        "width": width,
        "height": 6,
        "properties": {
            "title": title,
            "metrics": metrics,
            "view": "timeSeries",
            "stat": stat,
            "period": 60,
            "region": region,
        },
    }


def dashboard_body(resolved: dict[str, Any], settings: StackSettings) -> dict[str, Any]:
    """The dashboard's widgets: the API, then each route group (the routes one function serves), each function,
    each table and the business metrics. Per-route metrics need the stage's detailed metrics (infra/api.py)."""
    graph = functools.partial(_graph, region=resolved["region"])
    api = ["ApiName", resolved["api_name"], "Stage", resolved["stage_name"]]
    widgets = [
        graph(
            "API: requests, 4XX and 5XX",
            [["AWS/ApiGateway", metric, *api] for metric in ("Count", "4XXError", "5XXError")],
        ),
        graph(
            "API: latency p50 and p99 (ms)",
            [["AWS/ApiGateway", "Latency", *api, {"stat": stat}] for stat in ("p50", "p99")],
        ),
    ]
    groups: dict[str, list[tuple[str, str]]] = {}
    for method, path, function in resolved["routes"]:
        groups.setdefault(function, []).append((method, path))
    for function, routes in groups.items():
        per_route = [["Resource", path, "Method", method] for method, path in routes]
        widgets.append(
            graph(
                f"Routes of {function}: requests and 5XX",
                [
                    ["AWS/ApiGateway", metric, *api, *route, {"label": f"{metric} {route[3]} {route[1]}"}]
                    for route in per_route
                    for metric in ("Count", "5XXError")
                ],
            )
        )
        widgets.append(
            graph(
                f"Routes of {function}: latency p50 and p99 (ms)",
                [
                    [
                        "AWS/ApiGateway",
                        "Latency",
                        *api,
                        *route,
                        {"stat": stat, "label": f"{stat} {route[3]} {route[1]}"},
                    ]
                    for route in per_route
                    for stat in ("p50", "p99")
                ],
            )
        )
    functions = resolved["functions"]
    widgets.append(
        graph(
            "Functions: duration p50 and p99 (ms)",
            [
                ["AWS/Lambda", "Duration", "FunctionName", name, {"stat": stat, "label": f"{short} {stat}"}]
                for short, name in functions.items()
                for stat in ("p50", "p99")
            ],
        )
    )
    widgets.append(
        graph(
            "Functions: concurrent executions (max)",
            [
                ["AWS/Lambda", "ConcurrentExecutions", "FunctionName", name, {"label": short}]
                for short, name in functions.items()
            ],
            stat="Maximum",
        )
    )
    widgets.append(
        graph(
            "Functions: errors and throttles",
            [
                ["AWS/Lambda", metric, "FunctionName", name, {"label": f"{short} {metric}"}]
                for short, name in functions.items()
                for metric in ("Errors", "Throttles")
            ],
        )
    )
    widgets.append(
        graph(
            "Tables: consumed capacity and throttle events",
            [
                ["AWS/DynamoDB", metric, "TableName", name, {"label": f"{short} {metric}"}]
                for short, name in resolved["tables"].items()
                for metric in (
                    "ConsumedReadCapacityUnits",
                    "ConsumedWriteCapacityUnits",
                    "ReadThrottleEvents",
                    "WriteThrottleEvents",
                )
            ],
        )
    )
    widgets.append(graph("Business metrics", [business_metric(m, settings) for m in BUSINESS_METRICS], width=24))
    return {"widgets": widgets}


def business_metric(metric: BusinessMetric, settings: StackSettings) -> list[Any]:
    """A business metric as its function records it: Powertools adds the `service` dimension (the function)."""
    return [
        METRICS_NAMESPACE,
        metric.name,
        SERVICE_DIMENSION,
        metric.function.name,
        STAGE_DIMENSION,
        settings.stage_name,
        {"label": metric.description},
    ]
