"""Alerting and observability: topics, event routing, alarms (staging/production), dashboards."""

from __future__ import annotations

import json

import pytest
from platform_support import ENVIRONMENTS, platform, resolve_join

TOPICS = ("cost", "security", "operations")


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_three_encrypted_topics_with_configured_subscriptions(env: str) -> None:
    p = platform(env)
    topics = p.of_type("alerts", "AWS::SNS::Topic")
    names = {t["Properties"]["TopicName"]: logical for logical, t in topics.items()}
    assert sorted(names) == sorted(f"payments-{t}-alerts-{env}" for t in TOPICS)
    for topic in topics.values():
        assert "KmsMasterKeyId" in topic["Properties"]
    subscriptions = p.of_type("alerts", "AWS::SNS::Subscription").values()
    got = sorted(
        (s["Properties"]["TopicArn"]["Ref"], s["Properties"]["Endpoint"])
        for s in subscriptions
        if s["Properties"]["Protocol"] == "email" and "Ref" in s["Properties"]["TopicArn"]
    )
    # the pipeline's payment-notifications topic (Payments stack) is subscribed here too
    payments = sorted(
        s["Properties"]["Endpoint"]
        for s in subscriptions
        if "Fn::ImportValue" in s["Properties"]["TopicArn"]
    )
    assert payments == sorted(p.config.addresses(p.settings.alerts.subscriptions.payments))
    assert payments
    expected = sorted(
        (names[f"payments-{topic}-alerts-{env}"], address)
        for topic in TOPICS
        for address in p.config.addresses(getattr(p.settings.alerts.subscriptions, topic))
    )
    assert got == expected
    # TLS only: every topic policy denies requests without aws:SecureTransport
    policies = json.dumps(list(p.of_type("alerts", "AWS::SNS::TopicPolicy").values()))
    assert policies.count('"aws:SecureTransport": "false"') == 3
    assert "costalerts.amazonaws.com" in policies and "budgets.amazonaws.com" in policies


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_event_rules_route_to_their_topic_and_the_responder(env: str) -> None:
    p = platform(env)
    topics = {
        t["Properties"]["TopicName"].split("-")[1]: logical
        for logical, t in p.of_type("alerts", "AWS::SNS::Topic").items()
    }
    rules = {
        r["Properties"]["Name"]: r["Properties"]
        for r in p.of_type("observability", "AWS::Events::Rule").values()
    }
    expected = {
        f"payments-guardduty-findings-{env}": ("aws.guardduty", "GuardDuty Finding", "security"),
        f"payments-waf-changes-{env}": ("aws.wafv2", "AWS API Call via CloudTrail", "security"),
        f"payments-health-events-{env}": ("aws.health", "AWS Health Event", "operations"),
        f"payments-cost-anomalies-{env}": ("aws.ce", "Anomaly Detected", "cost"),
    }
    assert sorted(rules) == sorted(expected)
    for name, (source, detail_type, topic) in expected.items():
        rule = rules[name]
        assert rule["EventPattern"]["source"] == [source]
        assert rule["EventPattern"]["detail-type"] == [detail_type]
        targets = json.dumps(rule["Targets"])
        assert topics[topic] in targets  # imported topic ARN (export name carries the id)
        assert "ResponderFunction" in targets


def test_responder_gets_the_three_topics_and_a_failure_queue() -> None:
    p = platform("production")
    (fn,) = [
        f["Properties"]
        for f in p.of_type("observability", "AWS::Lambda::Function").values()
        if f["Properties"].get("FunctionName") == "payments-responder-production"
    ]
    assert sorted(fn["Environment"]["Variables"]) == [
        "COST_TOPIC_ARN",
        "OPERATIONS_TOPIC_ARN",
        "SECURITY_TOPIC_ARN",
    ]
    assert fn["Handler"] == "index.handler"
    (config,) = p.of_type("observability", "AWS::Lambda::EventInvokeConfig").values()
    assert "OnFailure" in config["Properties"]["DestinationConfig"]


def _alarms(env: str) -> dict[str, dict]:
    return {
        a["Properties"]["AlarmName"]: a["Properties"]
        for a in platform(env).of_type("observability", "AWS::CloudWatch::Alarm").values()
    }


def test_no_alarms_in_dev() -> None:
    assert _alarms("dev") == {}


@pytest.mark.parametrize("env", ("staging", "production"))
def test_alarms_in_staging_and_production(env: str) -> None:
    alarms = _alarms(env)
    p = platform(env)
    a = p.settings.alerts
    functions = [
        "process-payment",
        "process-accounting",
        "notify-failures",
        "payment-status",
        *(["rotate-secret"] if p.settings.security.secrets == "create" else []),
        "responder",
    ]
    for fn in functions:
        alarm = alarms[f"payments-{fn}-error-rate-{env}"]
        assert alarm["Threshold"] == a.function_error_rate_percent == 5
        assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
        expression = next(m["Expression"] for m in alarm["Metrics"] if "Expression" in m)
        assert "100 * errors / invocations" in expression
    throttle = alarms[f"payments-payment-transactions-throttling-{env}"]
    assert throttle["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    names = {
        m["MetricStat"]["Metric"]["MetricName"] for m in throttle["Metrics"] if "MetricStat" in m
    }
    assert names == {"ReadThrottleEvents", "WriteThrottleEvents"}
    for code in ("4xx", "5xx"):
        alarm = alarms[f"payments-payments-api-{code}-rate-{env}"]
        assert alarm["Threshold"] == 10
        metrics = {
            m["MetricStat"]["Metric"]["MetricName"] for m in alarm["Metrics"] if "MetricStat" in m
        }
        assert metrics == {f"{code.upper()}Error", "Count"}
    cpu = alarms[f"payments-workers-cpu-high-{env}"]
    assert (cpu["MetricName"], cpu["Namespace"], cpu["Threshold"]) == (
        "CPUUtilization",
        "AWS/EC2",
        80,
    )
    cost = alarms[f"payments-cost-anomaly-detected-{env}"]
    assert (cost["Namespace"], cost["MetricName"]) == ("AWS/Events", "TriggeredRules")
    # every alarm notifies a topic
    for alarm in alarms.values():
        assert alarm["AlarmActions"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_four_dashboards(env: str) -> None:
    dashboards = {
        d["Properties"]["DashboardName"]: resolve_join(d["Properties"]["DashboardBody"])
        for d in platform(env).of_type("observability", "AWS::CloudWatch::Dashboard").values()
    }
    assert sorted(dashboards) == sorted(
        f"payments-{k}-{env}" for k in ("cost", "security", "operations", "utilisation")
    )
    assert "EstimatedCharges" in dashboards[f"payments-cost-{env}"]
    assert "ServiceName" in dashboards[f"payments-cost-{env}"]
    security = dashboards[f"payments-security-{env}"]
    assert '"BlockedRequests"' in security and f'"WebACL","payments-api-{env}-waf"' in security
    assert '"TriggeredRules","RuleName","{GuarddutyFindings' in security
    operations = dashboards[f"payments-operations-{env}"]
    for metric in ("Invocations", "Errors", "5XXError", "ConsumedWriteCapacityUnits"):
        assert metric in operations
    utilisation = dashboards[f"payments-utilisation-{env}"]
    for metric in ("CPUUtilization", "mem_used_percent", "NetworkIn", "NetworkOut"):
        assert metric in utilisation
