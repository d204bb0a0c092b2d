"""responder: EventBridge target that routes platform events to the right SNS topic.

Classification (by ``source`` / ``detail-type``):

* security   - GuardDuty findings, Security Hub findings, WAF / Shield events (native, via
  CloudTrail, or CloudWatch alarms whose name mentions WAF/Shield);
* cost       - Cost Anomaly Detection (``aws.ce`` "Anomaly Detected"), AWS Budgets, and
  CloudWatch alarms whose name mentions cost/billing/budget;
* operations - AWS Health events, other CloudWatch alarms, and anything unrecognised.

Each event becomes one concise, redacted SNS message on ``SECURITY_TOPIC_ARN``,
``COST_TOPIC_ARN`` or ``OPERATIONS_TOPIC_ARN``. GuardDuty findings carry a severity label
in the subject: HIGH for severity >= 7, MEDIUM for >= 4, else LOW. If a category's topic
variable is unset the event goes to the operations topic. Publish errors are raised, so
that the asynchronous invocation is retried and then sent to the function's failure
destination rather than silently dropped.

Environment: ``OPERATIONS_TOPIC_ARN`` (required), ``SECURITY_TOPIC_ARN``,
``COST_TOPIC_ARN``, ``LOG_LEVEL`` (optional).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from typing import Any

from payments_common import client, get_logger, log_event, redact_text

logger = get_logger("responder")

SECURITY, COST, OPERATIONS = "security", "cost", "operations"
TOPIC_ENV = {
    SECURITY: "SECURITY_TOPIC_ARN",
    COST: "COST_TOPIC_ARN",
    OPERATIONS: "OPERATIONS_TOPIC_ARN",
}
SECURITY_SOURCES = {"aws.guardduty", "aws.securityhub", "aws.wafv2", "aws.waf", "aws.shield"}
COST_SOURCES = {"aws.ce", "aws.budgets"}
WAF_API_SOURCES = {"wafv2.amazonaws.com", "waf.amazonaws.com", "waf-regional.amazonaws.com"}
HIGH_SEVERITY = 7.0
MAX_FIELD = 300


def classify(event: dict[str, Any]) -> str:
    """Return ``security``, ``cost`` or ``operations`` for an EventBridge event."""
    source = event.get("source", "")
    detail = event.get("detail") or {}
    if source in SECURITY_SOURCES or detail.get("eventSource") in WAF_API_SOURCES:
        return SECURITY
    if source in COST_SOURCES:
        return COST
    if event.get("detail-type") == "CloudWatch Alarm State Change":
        name = str(detail.get("alarmName", "")).lower()
        if re.search(r"waf|shield|guardduty", name):
            return SECURITY
        if re.search(r"cost|billing|budget", name):
            return COST
    return OPERATIONS


def severity_label(severity: float) -> str:
    """GuardDuty severity bands: HIGH >= 7, MEDIUM >= 4, otherwise LOW."""
    if severity >= HIGH_SEVERITY:
        return "HIGH"
    return "MEDIUM" if severity >= 4 else "LOW"


def _guardduty(event: dict[str, Any], detail: dict[str, Any]) -> tuple[str, list[str]]:
    try:
        severity = float(detail.get("severity", 0))
    except (TypeError, ValueError):
        severity = 0.0
    label = severity_label(severity)
    finding = detail.get("type", "unknown finding")
    lines = [
        f"Finding: {detail.get('title', finding)}",
        f"Type: {finding}",
        f"Severity: {severity:g} ({label})",
        f"Resource: {(detail.get('resource') or {}).get('resourceType', '?')}",
        f"Finding id: {detail.get('id', '?')}",
        f"Description: {detail.get('description', '')}",
    ]
    return f"[{label}] GuardDuty: {finding}", lines


def _cost_anomaly(event: dict[str, Any], detail: dict[str, Any]) -> tuple[str, list[str]]:
    impact = (detail.get("impact") or {}).get("totalImpact", "?")
    causes = detail.get("rootCauses") or [{}]
    service = causes[0].get("service", "unknown service")
    lines = [
        f"Total impact (USD): {impact}",
        f"Top root cause: {service} / {causes[0].get('region', '?')} / "
        f"{causes[0].get('usageType', '?')}",
        f"Anomaly start: {detail.get('anomalyStartDate', '?')}",
        f"Anomaly id: {detail.get('anomalyId', '?')}",
        f"Monitor: {detail.get('monitorArn', '?')}",
    ]
    return f"Cost anomaly: {impact} USD impact on {service}", lines


def _health(event: dict[str, Any], detail: dict[str, Any]) -> tuple[str, list[str]]:
    descriptions = detail.get("eventDescription") or [{}]
    entities = [e.get("entityValue", "?") for e in detail.get("affectedEntities") or []]
    code = detail.get("eventTypeCode", "unknown event")
    lines = [
        f"Service: {detail.get('service', '?')}",
        f"Event: {code} ({detail.get('eventTypeCategory', '?')}, {detail.get('statusCode', '?')})",
        f"Affected: {', '.join(entities[:10]) or '-'}",
        f"Description: {descriptions[0].get('latestDescription', '')}",
    ]
    return f"AWS Health: {detail.get('service', '?')} {code}", lines


def _alarm(event: dict[str, Any], detail: dict[str, Any]) -> tuple[str, list[str]]:
    state = detail.get("state") or {}
    name = detail.get("alarmName", "?")
    lines = [
        f"Alarm: {name}",
        f"State: {state.get('value', '?')}",
        f"Reason: {state.get('reason', '')}",
    ]
    return f"Alarm {name} is {state.get('value', '?')}", lines


def _generic(event: dict[str, Any], detail: dict[str, Any]) -> tuple[str, list[str]]:
    lines = [f"Detail keys: {', '.join(sorted(map(str, detail))[:20]) or '-'}"]
    if "eventName" in detail:
        lines.append(f"API call: {detail.get('eventSource', '?')} {detail['eventName']}")
    return f"{event.get('detail-type', 'Event')} from {event.get('source', '?')}", lines


SUMMARISERS: dict[tuple[str, str], Callable[..., tuple[str, list[str]]]] = {
    ("aws.guardduty", "GuardDuty Finding"): _guardduty,
    ("aws.ce", "Anomaly Detected"): _cost_anomaly,
    ("aws.health", "AWS Health Event"): _health,
    ("aws.cloudwatch", "CloudWatch Alarm State Change"): _alarm,
}


def summarise(event: dict[str, Any], category: str) -> tuple[str, str]:
    """Return ``(subject, message)``: redacted, each field truncated, subject <= 100 chars."""
    detail = event.get("detail") if isinstance(event.get("detail"), dict) else {}
    summariser = SUMMARISERS.get((event.get("source"), event.get("detail-type")), _generic)
    title, lines = summariser(event, detail)
    header = [
        f"Category: {category}",
        f"Source: {event.get('source', '?')} / {event.get('detail-type', '?')}",
        f"Account: {event.get('account', '?')}  Region: {event.get('region', '?')}",
        f"Time: {event.get('time', '?')}  Event id: {event.get('id', '?')}",
    ]
    message = "\n".join(redact_text(line)[:MAX_FIELD] for line in header + lines)
    subject = re.sub(r"[^\x20-\x7e]", "?", redact_text(f"[{category}] {title}"))[:100]
    return subject, message


def _topic_for(category: str) -> tuple[str, str]:
    """Return ``(category actually used, topic ARN)``; falls back to operations."""
    topic = os.environ.get(TOPIC_ENV[category])
    if topic:
        return category, topic
    if category != OPERATIONS:
        log_event(
            logger, "topic not configured, using operations", logging.WARNING, category=category
        )
    return OPERATIONS, os.environ["OPERATIONS_TOPIC_ARN"]


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point for EventBridge events; returns what was published where."""
    category = classify(event)
    subject, message = summarise(event, category)
    routed, topic_arn = _topic_for(category)
    response = client("sns").publish(TopicArn=topic_arn, Subject=subject, Message=message)
    result = {
        "category": category,
        "routed_to": routed,
        "topic_arn": topic_arn,
        "subject": subject,
        "message_id": response.get("MessageId"),
    }
    log_event(
        logger, "event routed", event_id=event.get("id"), source=event.get("source"), **result
    )
    return result
