"""EventBridge responder against moto: classification and routing to the right SNS topic."""

from __future__ import annotations

from typing import Any

import pytest


def event(source: str, detail_type: str, detail: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "7bf73129-1428-4cd3-a780-95db273d1602",
        "detail-type": detail_type,
        "source": source,
        "account": "123456789012",
        "time": "2024-05-01T12:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": detail,
    }


def guardduty(severity: float) -> dict[str, Any]:
    return event(
        "aws.guardduty",
        "GuardDuty Finding",
        {
            "id": "f-123",
            "type": "UnauthorizedAccess:EC2/SSHBruteForce",
            "title": "SSH brute force attacks against i-0abc",
            "severity": severity,
            "description": "198.51.100.7 is performing SSH brute force attacks.",
            "resource": {"resourceType": "Instance"},
        },
    )


COST_ANOMALY = event(
    "aws.ce",
    "Anomaly Detected",
    {
        "anomalyId": "a-1",
        "anomalyStartDate": "2024-04-30",
        "monitorArn": "arn:aws:ce::123456789012:anomalymonitor/m-1",
        "impact": {"totalImpact": 412.5, "maxImpact": 300},
        "rootCauses": [{"service": "Amazon DynamoDB", "region": "us-east-1", "usageType": "WCU"}],
    },
)
UNKNOWN = event("com.example.custom", "Something Happened", {"foo": "bar"})


@pytest.fixture
def inboxes(aws) -> dict[str, str]:
    return {
        category: aws.subscribe_queue(aws.topics[f"{category}-alerts"])
        for category in ("security", "operations", "cost")
    }


def delivered(aws, inboxes) -> dict[str, list[dict[str, Any]]]:
    return {category: aws.notifications(url) for category, url in inboxes.items()}


def test_high_severity_guardduty_finding_goes_to_security_with_high(responder, aws, inboxes):
    result = responder.handler(guardduty(8.0), None)

    got = delivered(aws, inboxes)
    assert [len(got[c]) for c in ("security", "operations", "cost")] == [1, 0, 0]
    assert "HIGH" in got["security"][0]["Subject"]
    assert "UnauthorizedAccess:EC2/SSHBruteForce" in got["security"][0]["Subject"]
    assert "Severity: 8 (HIGH)" in got["security"][0]["Message"]
    assert result["category"] == "security"
    assert result["topic_arn"] == aws.topics["security-alerts"]
    assert result["message_id"]


def test_medium_guardduty_finding_is_not_high(responder, aws, inboxes):
    responder.handler(guardduty(5.0), None)
    [note] = delivered(aws, inboxes)["security"]
    assert "HIGH" not in note["Subject"] and "MEDIUM" in note["Subject"]


def test_cost_anomaly_goes_to_cost_topic(responder, aws, inboxes):
    result = responder.handler(COST_ANOMALY, None)

    got = delivered(aws, inboxes)
    assert [len(got[c]) for c in ("security", "operations", "cost")] == [0, 0, 1]
    assert "Amazon DynamoDB" in got["cost"][0]["Subject"]
    assert result["category"] == "cost"


def test_unknown_event_goes_to_operations_topic(responder, aws, inboxes):
    result = responder.handler(UNKNOWN, None)

    got = delivered(aws, inboxes)
    assert [len(got[c]) for c in ("security", "operations", "cost")] == [0, 1, 0]
    assert result == {
        "category": "operations",
        "routed_to": "operations",
        "topic_arn": aws.topics["operations-alerts"],
        "subject": "[operations] Something Happened from com.example.custom",
        "message_id": result["message_id"],
    }


@pytest.mark.parametrize(
    ("evt", "category"),
    [
        (
            event("aws.health", "AWS Health Event", {"service": "EC2", "eventTypeCode": "X"}),
            "operations",
        ),
        (event("aws.wafv2", "WAF Event", {}), "security"),
        (
            event("aws.waf", "AWS API Call via CloudTrail", {"eventSource": "wafv2.amazonaws.com"}),
            "security",
        ),
        (
            event(
                "aws.cloudwatch",
                "CloudWatch Alarm State Change",
                {"alarmName": "payments-waf-blocked-requests", "state": {"value": "ALARM"}},
            ),
            "security",
        ),
        (
            event(
                "aws.cloudwatch",
                "CloudWatch Alarm State Change",
                {"alarmName": "lambda-errors", "state": {"value": "ALARM"}},
            ),
            "operations",
        ),
        (event("aws.budgets", "Budget Threshold Breached", {}), "cost"),
    ],
)
def test_classification(responder, aws, evt, category):
    assert responder.classify(evt) == category


def test_missing_category_topic_falls_back_to_operations(responder, aws, inboxes, monkeypatch):
    monkeypatch.delenv("SECURITY_TOPIC_ARN")
    result = responder.handler(guardduty(9.1), None)

    assert (result["category"], result["routed_to"]) == ("security", "operations")
    assert "HIGH" in delivered(aws, inboxes)["operations"][0]["Subject"]
