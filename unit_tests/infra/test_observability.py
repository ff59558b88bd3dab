"""The alarms, their topic and the dashboard watch exactly what the catalog declares; tracing covers every function."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

from infra.observability import table_query
from infra.settings import SettingsError, StackSettings
from lambdas import catalog
from unit_tests.infra.conftest import REGION, STACK, Deployed
from unit_tests.infra.declarations import RICH

ROOT = Path(__file__).resolve().parents[2]
PREFIX = f"serverless-platform-{STACK}-"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
DASHBOARD = "aws:cloudwatch/dashboard:Dashboard"
TOPIC = "aws:sns/topic:Topic"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
FUNCTION = "aws:lambda/function:Function"


def alarms(deployed: Deployed) -> dict[str, Any]:
    return {alarm.inputs["name"].removeprefix(PREFIX): alarm for alarm in deployed.of_type(ALARM)}


def dashboard(deployed: Deployed) -> dict[str, Any]:
    return json.loads(deployed.one(DASHBOARD).inputs["dashboardBody"])


def expected_alarm_keys(deployed: Deployed) -> set[str]:
    declared = deployed.declared
    return {
        "api-5xx",
        "api-p99-latency",
        "sign-up-failures",
        *(f"{f.name}-{kind}" for f in deployed_functions(deployed) for kind in ("errors", "throttles")),
        *(f"{t.name}-table-{kind}" for t in declared.tables for kind in ("throttled", "system-errors")),
    }


def deployed_functions(deployed: Deployed) -> list[catalog.Function]:
    """The catalog's functions this stack deploys (a trigger only when its setting enables it)."""
    names = {f.inputs["name"].removeprefix(PREFIX) for f in deployed.of_type(FUNCTION)}
    return [f for f in deployed.declared.functions if f.name in names]


def check_alarms(deployed: Deployed) -> None:
    found = alarms(deployed)
    assert set(found) == expected_alarm_keys(deployed)
    [topic] = deployed.of_type(TOPIC)
    assert topic.inputs["name"] == f"{PREFIX}alarms"
    for key, alarm in found.items():
        inputs = alarm.inputs
        # Every alarm notifies the one topic, when it fires and when it clears.
        assert inputs["alarmActions"] == inputs["okActions"] == [topic.state["arn"]]
        assert inputs["treatMissingData"] == "notBreaching"
        assert inputs["evaluationPeriods"] == 1
        assert "Look first" in inputs["alarmDescription"], key
        assert inputs["comparisonOperator"] in ("GreaterThanThreshold", "GreaterThanOrEqualToThreshold")


@pulumi.runtime.test
def test_every_function_table_and_the_api_have_their_alarms_into_one_topic(deploy):
    return deploy(check_alarms)


@pulumi.runtime.test
def test_a_richer_catalog_gets_an_alarm_per_function_and_table_it_declares(deploy):
    return deploy(check_alarms, declared=RICH, config={"autoConfirmSignUps": True})


@pulumi.runtime.test
def test_function_alarms_watch_errors_and_throttles_of_the_named_function(deploy):
    def check(deployed: Deployed) -> None:
        found = alarms(deployed)
        for function in deployed_functions(deployed):
            for kind, metric in (("errors", "Errors"), ("throttles", "Throttles")):
                inputs = found[f"{function.name}-{kind}"].inputs
                assert inputs["namespace"] == "AWS/Lambda"
                assert inputs["metricName"] == metric
                assert inputs["dimensions"] == {"FunctionName": f"{PREFIX}{function.name}"}
                assert inputs["statistic"] == "Sum"
                assert inputs["threshold"] == 1
                assert inputs["period"] == 300

    return deploy(check, config={"autoConfirmSignUps": True})


@pulumi.runtime.test
def test_api_alarms_watch_the_stages_5xx_share_and_p99_latency(deploy):
    def check(deployed: Deployed) -> None:
        found = alarms(deployed)
        rest_api = deployed.one("aws:apigateway/restApi:RestApi")
        stage = deployed.one("aws:apigateway/stage:Stage")
        dimensions = {"ApiName": rest_api.inputs["name"], "Stage": stage.inputs["stageName"]}
        five_xx = found["api-5xx"].inputs
        assert (five_xx["namespace"], five_xx["metricName"], five_xx["statistic"]) == (
            "AWS/ApiGateway",
            "5XXError",
            "Average",
        )
        assert five_xx["dimensions"] == dimensions
        assert five_xx["threshold"] == pytest.approx(0.025)
        latency = found["api-p99-latency"].inputs
        assert (latency["metricName"], latency["extendedStatistic"]) == ("Latency", "p99")
        assert "statistic" not in latency
        assert latency["dimensions"] == dimensions
        assert latency["threshold"] == 1500
        assert latency["period"] == 60

    return deploy(check, config={"alarmApi5xxPercent": 2.5, "alarmApiP99LatencyMs": 1500, "alarmPeriodSeconds": 60})


@pulumi.runtime.test
def test_table_alarms_sum_every_operation_of_their_own_table(deploy):
    def check(deployed: Deployed) -> None:
        found = alarms(deployed)
        for table in deployed.declared.tables:
            for kind, metric in (("throttled", "ThrottledRequests"), ("system-errors", "SystemErrors")):
                inputs = found[f"{table.name}-table-{kind}"].inputs
                [query] = inputs["metricQueries"]
                assert query["expression"] == table_query(metric, f"{PREFIX}{table.name}")
                assert f"WHERE TableName = '{PREFIX}{table.name}'" in query["expression"]
                assert query["returnData"] is True
                assert query["period"] == 300
                assert "metricName" not in inputs and "period" not in inputs
        assert found["tenants-table-throttled"].inputs["threshold"] == 5

    return deploy(check, config={"alarmTableThrottledRequests": 5})


@pulumi.runtime.test
def test_sign_up_failures_are_attempts_less_successes_of_the_pools_client(deploy):
    def check(deployed: Deployed) -> None:
        inputs = alarms(deployed)["sign-up-failures"].inputs
        pool = deployed.one("aws:cognito/userPool:UserPool").state["__id"]
        client = deployed.one("aws:cognito/userPoolClient:UserPoolClient").state["__id"]
        queries = {query["id"]: query for query in inputs["metricQueries"]}
        assert queries["failures"]["expression"] == "attempts - successes"
        assert [q["id"] for q in queries.values() if q["returnData"]] == ["failures"]
        for query_id, stat in (("attempts", "SampleCount"), ("successes", "Sum")):
            metric = queries[query_id]["metric"]
            assert (metric["namespace"], metric["metricName"], metric["stat"]) == (
                "AWS/Cognito",
                "SignUpSuccesses",
                stat,
            )
            assert metric["dimensions"] == {"UserPool": pool, "UserPoolClient": client}
        assert inputs["threshold"] == 20

    return deploy(check)


@pulumi.runtime.test
def test_the_alarm_email_is_subscribed_to_the_topic(deploy):
    def check(deployed: Deployed) -> None:
        [subscription] = deployed.of_type(SUBSCRIPTION)
        assert subscription.inputs["protocol"] == "email"
        assert subscription.inputs["endpoint"] == "oncall@example.com"
        assert subscription.inputs["topic"] == deployed.one(TOPIC).state["arn"]

    return deploy(check, config={"alarmEmail": "oncall@example.com"})


@pulumi.runtime.test
def test_without_an_alarm_email_nothing_is_subscribed(deploy):
    def check(deployed: Deployed) -> None:
        assert deployed.of_type(TOPIC)
        assert not deployed.of_type(SUBSCRIPTION)

    return deploy(check)


@pulumi.runtime.test
def test_monitoring_off_declares_no_topic_alarm_or_dashboard(deploy):
    def check(deployed: Deployed) -> None:
        assert not deployed.of_type(TOPIC)
        assert not deployed.of_type(ALARM)
        assert not deployed.of_type(DASHBOARD)

    return deploy(check, config={"monitoring": False})


def dashboard_metrics(body: dict[str, Any]) -> list[list[Any]]:
    return [metric for widget in body["widgets"] for metric in widget["properties"]["metrics"]]


def dimension(metric: list[Any], name: str) -> Any:
    """A dashboard metric is [namespace, name, dim1, value1, ..., {options}]."""
    values = metric[2:-1] if isinstance(metric[-1], dict) else metric[2:]
    return dict(zip(values[::2], values[1::2], strict=True)).get(name)


def check_dashboard(deployed: Deployed) -> None:
    body = dashboard(deployed)
    assert deployed.one(DASHBOARD).inputs["dashboardName"] == f"{PREFIX}operations"
    metrics = dashboard_metrics(body)
    for widget in body["widgets"]:
        assert widget["properties"]["region"] == REGION
    # Each function's duration (p50 and p99) and concurrency, by its physical name.
    function_names = {f.inputs["name"] for f in deployed.of_type(FUNCTION)}
    named = {dimension(m, "FunctionName") for m in metrics if m[0] == "AWS/Lambda"}
    assert named == function_names
    for name in function_names:
        stats = {m[-1].get("stat") for m in metrics if m[1] == "Duration" and dimension(m, "FunctionName") == name}
        assert stats == {"p50", "p99"}
        assert any(m[1] == "ConcurrentExecutions" and dimension(m, "FunctionName") == name for m in metrics)
    # Each table, by its physical name.
    table_names = {t.inputs["name"] for t in deployed.of_type("aws:dynamodb/table:Table")}
    assert {dimension(m, "TableName") for m in metrics if m[0] == "AWS/DynamoDB"} == table_names
    # Every route, in its function's group, with requests, 5XX and p50/p99 latency.
    rest_api_name = deployed.one("aws:apigateway/restApi:RestApi").inputs["name"]
    for route in deployed.declared.routes:
        on_route = [
            m
            for m in metrics
            if m[0] == "AWS/ApiGateway"
            and dimension(m, "Resource") == route.path
            and dimension(m, "Method") == route.method
        ]
        assert {m[1] for m in on_route} == {"Count", "5XXError", "Latency"}, route
        assert {m[-1].get("stat") for m in on_route if m[1] == "Latency"} == {"p50", "p99"}
        assert all(dimension(m, "ApiName") == rest_api_name and dimension(m, "Stage") == STACK for m in on_route)
    titles = [widget["properties"]["title"] for widget in body["widgets"]]
    assert {f"Routes of {route.function.name}: requests and 5XX" for route in deployed.declared.routes} <= set(titles)


@pulumi.runtime.test
def test_the_dashboard_names_every_real_function_table_and_route(deploy):
    return deploy(check_dashboard)


@pulumi.runtime.test
def test_the_dashboard_of_a_richer_catalog_names_its_functions_tables_and_routes(deploy):
    return deploy(check_dashboard, declared=RICH, config={"autoConfirmSignUps": True})


@pulumi.runtime.test
def test_the_dashboard_shows_every_business_metric_as_its_function_records_it(deploy):
    def check(deployed: Deployed) -> None:
        business = [m for m in dashboard_metrics(dashboard(deployed)) if m[0] == catalog.METRICS_NAMESPACE]
        assert [m[1] for m in business] == [metric.name for metric in catalog.BUSINESS_METRICS]
        function_names = {f.inputs["name"].removeprefix(PREFIX) for f in deployed.of_type(FUNCTION)}
        for metric, declared in zip(business, catalog.BUSINESS_METRICS, strict=True):
            assert dimension(metric, catalog.SERVICE_DIMENSION) == declared.function.name in function_names
            assert dimension(metric, catalog.STAGE_DIMENSION) == "live"

    return deploy(check, config={"stageName": "live"})


@pulumi.runtime.test
def test_every_function_is_actively_traced_and_told_its_stage(deploy):
    def check(deployed: Deployed) -> None:
        functions = deployed.of_type(FUNCTION)
        assert {f.inputs["name"].removeprefix(PREFIX) for f in functions} == {f.name for f in catalog.FUNCTIONS}
        for function in functions:
            assert function.inputs["tracingConfig"] == {"mode": "Active"}
            variables = function.inputs["environment"]["variables"]
            assert variables[catalog.STAGE_ENV_VAR] == STACK
            assert "POWERTOOLS_TRACE_DISABLED" not in variables

    return deploy(check, config={"autoConfirmSignUps": True})


@pulumi.runtime.test
def test_tracing_off_leaves_functions_untraced_their_tracer_disabled_and_roles_without_xray(deploy):
    def check(deployed: Deployed) -> None:
        for function in deployed.of_type(FUNCTION):
            assert "tracingConfig" not in function.inputs
            assert function.inputs["environment"]["variables"]["POWERTOOLS_TRACE_DISABLED"] == "true"
        for policy in deployed.of_type("aws:iam/rolePolicy:RolePolicy"):
            assert "xray:" not in policy.inputs["policy"]

    return deploy(check, config={"tracing": False})


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"alarm_period_seconds": 90}, "alarmPeriodSeconds must be 10, 30 or a multiple of 60"),
        ({"alarm_period_seconds": 0}, "alarmPeriodSeconds must be 10, 30 or a multiple of 60"),
        ({"alarm_api_5xx_percent": 0.0}, "alarmApi5xxPercent must be above 0"),
        ({"alarm_api_5xx_percent": 101.0}, "alarmApi5xxPercent must be above 0"),
        ({"alarm_function_errors": 0}, "alarmFunctionErrors must be at least 1"),
        ({"alarm_sign_up_failures": 0}, "alarmSignUpFailures must be at least 1"),
    ],
)
def test_alarm_settings_out_of_range_are_refused(changes, message):
    with pytest.raises(SettingsError, match=message):
        StackSettings(project="p", stack="s", stage_name="s", **changes)


@pytest.mark.parametrize("period", [10, 30, 60, 300, 3600])
def test_alarm_periods_cloudwatch_accepts_are_accepted(period):
    assert StackSettings(project="p", stack="s", stage_name="s", alarm_period_seconds=period).alarm_period_seconds


def stack_file(name: str) -> dict[str, Any]:
    return yaml.safe_load((ROOT / f"Pulumi.{name}.yaml").read_text())["config"]


def test_the_production_stack_is_traced_alarmed_mailed_protected_and_confirms_by_email():
    config = stack_file("production")
    assert config["serverless-platform:tracing"] is True
    assert config["serverless-platform:monitoring"] is True
    assert "@" in config["serverless-platform:alarmEmail"]
    assert config["serverless-platform:deletionProtection"] is True
    assert config["serverless-platform:autoConfirmSignUps"] is False
    assert config["serverless-platform:sesIdentityArn"].startswith("arn:aws:ses:")
    assert "aws:endpoints" not in config


def test_the_localstack_dev_stack_is_neither_traced_nor_alarmed():
    config = stack_file("dev")
    assert config["serverless-platform:tracing"] is False
    assert config["serverless-platform:monitoring"] is False


@pulumi.runtime.test
def test_the_staging_stack_file_deploys_traced_and_alarmed_without_a_mailbox(deploy):
    def check(deployed: Deployed) -> None:
        assert deployed.of_type(ALARM) and deployed.of_type(DASHBOARD)
        assert not deployed.of_type(SUBSCRIPTION)
        assert all(f.inputs["tracingConfig"] == {"mode": "Active"} for f in deployed.of_type(FUNCTION))

    return deploy(check, config=stack_file("staging"), stack="staging")


@pulumi.runtime.test
def test_the_stage_is_traced_logs_each_requests_trace_and_measures_each_route(deploy):
    def check(deployed: Deployed) -> None:
        stage = deployed.one("aws:apigateway/stage:Stage")
        assert stage.inputs["xrayTracingEnabled"] is True
        access_log = json.loads(stage.inputs["accessLogSettings"]["format"])
        # The requestId an error body carries, next to the trace and the function invocation it leads to.
        assert access_log["requestId"] == "$context.requestId"
        assert access_log["xrayTraceId"] == "$context.xrayTraceId"
        assert access_log["integrationRequestId"] == "$context.integration.requestId"
        [settings] = deployed.of_type("aws:apigateway/methodSettings:MethodSettings")
        assert settings.inputs["methodPath"] == "*/*"
        assert settings.inputs["settings"]["metricsEnabled"] is True

    return deploy(check)


@pulumi.runtime.test
def test_without_tracing_and_monitoring_the_stage_neither_traces_nor_pays_for_route_metrics(deploy):
    def check(deployed: Deployed) -> None:
        assert deployed.one("aws:apigateway/stage:Stage").inputs.get("xrayTracingEnabled") is not True
        [settings] = deployed.of_type("aws:apigateway/methodSettings:MethodSettings")
        assert settings.inputs["settings"].get("metricsEnabled") is not True

    return deploy(check, config={"tracing": False, "monitoring": False})
