"""template.yaml's operations: someone hears of every failure, and what is drawn.

Every function is alarmed on errors, throttles and a p99 duration near its
timeout, every queue on its depth, the snipe on lateness and failures, the API
on 5xx and latency; every alarm notifies the alarm topic, when it fires and
when it clears. The WAF and the email subscription exist only when asked for.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from local.template.intrinsics import Resolver
from local.template.loader import load_template, resources_of_type
from tests.support.handlers import ROOT

INTEGRATION_TIMEOUT_S = 29
EXECUTOR = ROOT / "shared" / "sniper" / "snipe" / "executor.py"
SWEEPER = ROOT / "shared" / "sniper" / "snipe" / "sweeper.py"


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template(ROOT / "template.yaml")


def alarms(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource["Properties"]
        for logical_id, resource in resources_of_type(
            template, "AWS::CloudWatch::Alarm"
        ).items()
    }


def dimensions(alarm: dict[str, Any]) -> dict[str, Any]:
    return {d["Name"]: d["Value"] for d in alarm.get("Dimensions") or ()}


def function_alarms(
    template: dict[str, Any], function: str
) -> dict[str, dict[str, Any]]:
    """The AWS/Lambda alarms on `function`, by metric name."""
    return {
        alarm["MetricName"]: alarm
        for alarm in alarms(template).values()
        if alarm["Namespace"] == "AWS/Lambda"
        and dimensions(alarm).get("FunctionName") == {"Ref": function}
    }


def effective_timeout_ms(template: dict[str, Any], function: str) -> int:
    """The function's timeout, or API Gateway's 29 s when a route waits for it."""
    properties = template["Resources"][function]["Properties"]
    timeout = int(properties.get("Timeout", template["Globals"]["Function"]["Timeout"]))
    events = (properties.get("Events") or {}).values()
    if any(event["Type"] == "Api" for event in events):
        timeout = min(timeout, INTEGRATION_TIMEOUT_S)
    return timeout * 1000


def test_every_function_is_alarmed_on_errors_throttles_and_duration(
    template: dict[str, Any],
) -> None:
    functions = resources_of_type(template, "AWS::Serverless::Function")

    assert len(functions) >= 8
    for function in functions:
        found = function_alarms(template, function)
        assert {"Errors", "Throttles", "Duration"} <= set(found), function
        for metric in ("Errors", "Throttles"):
            assert found[metric]["Statistic"] == "Sum", function
            assert found[metric]["Threshold"] == 0, function
            assert found[metric]["ComparisonOperator"] == "GreaterThanThreshold"


def test_each_duration_alarm_fires_near_the_functions_timeout(
    template: dict[str, Any],
) -> None:
    for function in resources_of_type(template, "AWS::Serverless::Function"):
        duration = function_alarms(template, function)["Duration"]
        limit = effective_timeout_ms(template, function)

        assert duration["ExtendedStatistic"] == "p99", function
        assert 0.8 * limit <= duration["Threshold"] < limit, function


def test_every_queue_is_alarmed_on_its_depth(template: dict[str, Any]) -> None:
    queues = resources_of_type(template, "AWS::SQS::Queue")
    watched = {
        dimensions(alarm)["QueueName"]["Fn::GetAtt"][0]: alarm
        for alarm in alarms(template).values()
        if alarm["Namespace"] == "AWS/SQS"
    }

    assert queues
    for queue in queues:
        assert queue in watched, f"{queue} has no depth alarm"
        alarm = watched[queue]
        assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
        assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (
            0,
            "GreaterThanThreshold",
        )


def test_every_alarm_notifies_the_topic_when_it_fires_and_clears(
    template: dict[str, Any],
) -> None:
    topic = {"Ref": "AlarmTopic"}

    assert template["Resources"]["AlarmTopic"]["Type"] == "AWS::SNS::Topic"
    for logical_id, alarm in alarms(template).items():
        assert topic in alarm.get("AlarmActions", []), logical_id
        assert topic in alarm.get("OKActions", []), logical_id


def test_the_snipe_alarms_watch_metrics_the_executor_emits(
    template: dict[str, Any],
) -> None:
    namespace = template["Globals"]["Function"]["Environment"]["Variables"][
        "POWERTOOLS_METRICS_NAMESPACE"
    ]
    executor = template["Resources"]["BidExecutorFunction"]["Properties"]
    service = executor["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]
    source = "".join(p.read_text(encoding="utf-8") for p in (EXECUTOR, SWEEPER))
    custom = [a for a in alarms(template).values() if a["Namespace"] == namespace]
    by_metric = {alarm["MetricName"]: alarm for alarm in custom}

    assert {"SnipeLatenessMs", "BidFailed", "SweeperErrors"} <= set(by_metric)
    for alarm in custom:
        assert f'"{alarm["MetricName"]}"' in source, alarm["MetricName"]
        # Powertools adds the service as the metric's one dimension.
        assert dimensions(alarm) == {"service": service}
    assert by_metric["SnipeLatenessMs"]["ExtendedStatistic"] == "p99"
    assert by_metric["BidFailed"]["Threshold"] == 0
    assert by_metric["SweeperErrors"]["Threshold"] == 0


def test_the_api_is_alarmed_on_5xx_and_p99_latency(template: dict[str, Any]) -> None:
    api = template["Resources"]["SniperApi"]["Properties"]
    on_api = {
        alarm["MetricName"]: alarm
        for alarm in alarms(template).values()
        if alarm["Namespace"] == "AWS/ApiGateway"
    }

    assert {"5XXError", "Latency"} <= set(on_api)
    for alarm in on_api.values():
        assert dimensions(alarm) == {"ApiName": api["Name"], "Stage": api["StageName"]}
    assert on_api["Latency"]["ExtendedStatistic"] == "p99"
    assert on_api["Latency"]["Threshold"] < INTEGRATION_TIMEOUT_S * 1000


def active(template: dict[str, Any], logical_id: str, **parameters: str) -> bool:
    return Resolver(template, {"Stage": "local", **parameters}).is_active(logical_id)


def test_the_waf_is_associated_only_when_a_web_acl_is_given(
    template: dict[str, Any],
) -> None:
    association = template["Resources"]["SniperApiWebAclAssociation"]
    acl = "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/sniper/abc"
    stage_arn = association["Properties"]["ResourceArn"]["Fn::Sub"]

    assert association["Type"] == "AWS::WAFv2::WebACLAssociation"
    assert association["Condition"] == "HasWebAcl"
    assert template["Parameters"]["WebAclArn"]["Default"] == ""
    assert association["Properties"]["WebACLArn"] == {"Ref": "WebAclArn"}
    assert stage_arn.endswith("/restapis/${SniperApi}/stages/${SniperApi.Stage}")
    assert not active(template, "SniperApiWebAclAssociation")
    assert active(template, "SniperApiWebAclAssociation", WebAclArn=acl)


def test_alarm_emails_are_subscribed_only_when_an_address_is_given(
    template: dict[str, Any],
) -> None:
    subscription = template["Resources"]["AlarmEmailSubscription"]

    assert subscription["Properties"]["Protocol"] == "email"
    assert subscription["Properties"]["TopicArn"] == {"Ref": "AlarmTopic"}
    assert template["Parameters"]["AlarmEmail"]["Default"] == ""
    assert not active(template, "AlarmEmailSubscription")
    assert active(template, "AlarmEmailSubscription", AlarmEmail="ops@example.com")


def test_the_dashboard_draws_snipes_ebay_and_the_api(template: dict[str, Any]) -> None:
    body = template["Resources"]["OperationsDashboard"]["Properties"]["DashboardBody"]
    text: str = body["Fn::Sub"]
    names = set(re.findall(r"\$\{([^}]+)\}", text))
    known = {*template["Parameters"], *template["Resources"], "AWS::Region"}
    widgets = json.loads(re.sub(r"\$\{[^}]+\}", "x", text))["widgets"]
    drawn = [
        (row[1], row[-1].get("stat", widget["properties"].get("stat")))
        for widget in widgets
        for row in widget["properties"].get("metrics", [])
    ]
    queries = [w["properties"]["query"] for w in widgets if w["type"] == "log"]

    assert names <= known
    assert {("SnipeLatenessMs", "p50"), ("SnipeLatenessMs", "p99")} <= set(drawn)
    assert {("BidWon", "Sum"), ("BidLost", "Sum"), ("BidFailed", "Sum")} <= set(drawn)
    assert {("4XXError", "Sum"), ("5XXError", "Sum"), ("Duration", "p99")} <= set(drawn)
    assert ("BidRetries", "Sum") in drawn
    assert any("ebay_failure" in query for query in queries)
