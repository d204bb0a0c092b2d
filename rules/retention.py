"""Audit-log retention (PCI DSS 10.5.1): audit logs are kept at least a year, and the most recent
three months stay immediately available for analysis.

An audit log group or bucket is one whose name, logical id or construct path carries one of the
policy's ``audit_log_markers``, or one that an audit source writes to (API Gateway access logs,
flow logs, CloudTrail, WAF logging, load balancer and CloudFront access logs, S3 server access
logs). The limits are ``thresholds.audit_log_retention_min_days`` and
``thresholds.audit_log_hot_min_days``. AWS maps CloudWatch Logs retention of 365 days to 10.5.1.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from governance.intrinsics import Unresolved, as_int, as_str
from governance.model import Category, Issue, Severity, undecidable, violation
from governance.policy import Policy
from governance.registry import rule
from governance.template import Resource
from rules._support import (
    as_list,
    has_marker,
    is_audit_bucket,
    is_audit_log_group,
    names_of,
    pick_branch,
)

#: S3 storage classes whose objects must be restored before they can be read.
ARCHIVE_CLASSES = ("GLACIER", "DEEP_ARCHIVE")


def _days_issue(days: int, policy: Policy, where: str, what: str) -> Iterator[Issue]:
    minimum = policy.thresholds.audit_log_retention_min_days
    hot = policy.thresholds.audit_log_hot_min_days
    if days < hot:
        yield violation(
            f"{what} after {days} days: not even {hot} days immediately available", where
        )
    elif days < minimum:
        yield violation(f"{what} after {days} days; audit logs are kept {minimum} days", where)


@rule(
    id="PCI-RET-001",
    slug="audit-log-group-retention-too-short",
    title="Audit log groups keep logs for at least 365 days",
    severity=Severity.ERROR,
    resource_types=("AWS::Logs::LogGroup", "Custom::LogRetention"),
    category=Category.PCI_RETENTION,
    pci=("10.5.1",),
)
def audit_log_group_retention_too_short(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """An audit log group's `RetentionInDays` is absent (never expire) or at least the minimum.

    Why:
        PCI DSS 10.5.1 asks for twelve months of audit-log history, three of them immediately
        available; CloudWatch Logs keeps every retained event searchable, so retention of 365
        days covers both (AWS maps cw-loggroup-retention-period-check to 10.5.1). Application
        log groups are not judged here.

    Fix:
        `logs.LogGroup(self, "ApiAccessLogs", retention=logs.RetentionDays.ONE_YEAR)`.

    Example:
        logs.LogGroup(self, "AuditTrail", retention=logs.RetentionDays.THIRTEEN_MONTHS, encryption_key=env_key)
    """
    if resource.type == "Custom::LogRetention":
        if not has_marker(names_of(resource, "LogGroupName"), policy.audit_log_markers):
            return
    elif not is_audit_log_group(resource, policy):
        return
    days = as_int(
        pick_branch(resource.prop("RetentionInDays"), resource.template), resource.template
    )
    if isinstance(days, Unresolved):
        yield undecidable(
            f"RetentionInDays cannot be read: {days.reason}", "Properties/RetentionInDays"
        )
    elif days is not None:
        yield from _days_issue(days, policy, "Properties/RetentionInDays", "audit logs expire")


def _lifecycle_issues(
    rule_def: dict[str, Any], where: str, resource: Resource, policy: Policy
) -> Iterator[Issue]:
    template = resource.template
    expire = rule_def.get("ExpirationInDays")
    if expire is not None:
        days = as_int(expire, template)
        if isinstance(days, Unresolved):
            yield undecidable(
                f"ExpirationInDays cannot be read: {days.reason}", f"{where}/ExpirationInDays"
            )
        elif days is not None:
            yield from _days_issue(days, policy, f"{where}/ExpirationInDays", "objects expire")
    if rule_def.get("ExpirationDate") is not None:
        yield violation(
            "objects expire on a fixed date, not after a retention period",
            f"{where}/ExpirationDate",
        )
    transitions = as_list(rule_def.get("Transitions")) + as_list(rule_def.get("Transition"))
    hot = policy.thresholds.audit_log_hot_min_days
    for i, transition in enumerate(transitions):
        if not isinstance(transition, dict):
            continue
        storage = as_str(transition.get("StorageClass"), template)
        path = f"{where}/Transitions/{i}"
        if isinstance(storage, Unresolved):
            yield undecidable(
                f"StorageClass cannot be read: {storage.reason}", f"{path}/StorageClass"
            )
            continue
        if storage not in ARCHIVE_CLASSES:
            continue
        if transition.get("TransitionDate") is not None:
            yield violation(f"objects move to {storage} on a fixed date", f"{path}/TransitionDate")
            continue
        days = as_int(transition.get("TransitionInDays"), template)
        if isinstance(days, Unresolved):
            yield undecidable(
                f"TransitionInDays cannot be read: {days.reason}", f"{path}/TransitionInDays"
            )
        elif days is not None and days < hot:
            yield violation(
                f"objects move to {storage} after {days} days: not immediately available for {hot} days",
                f"{path}/TransitionInDays",
            )


@rule(
    id="PCI-RET-002",
    slug="audit-bucket-expires-too-soon",
    title="Audit-log buckets keep objects 365 days, 90 of them immediately available",
    severity=Severity.ERROR,
    resource_types=("AWS::S3::Bucket",),
    category=Category.PCI_RETENTION,
    pci=("10.5.1",),
)
def audit_bucket_expires_too_soon(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """No enabled lifecycle rule of an audit-log bucket expires objects early or archives them early.

    Why:
        PCI DSS 10.5.1: twelve months of history, the last three immediately available. An
        expiration under 365 days deletes evidence; a transition to Glacier Flexible Retrieval
        or Deep Archive under 90 days makes recent logs wait hours for a restore (Glacier
        Instant Retrieval and the infrequent-access classes stay immediate). Every enabled
        rule counts, whatever its prefix: logs may land under any prefix.

    Fix:
        `s3.LifecycleRule(expiration=Duration.days(400), transitions=[s3.Transition(
        storage_class=s3.StorageClass.GLACIER, transition_after=Duration.days(90))])`.

    Example:
        s3.Bucket(self, "AccessLogs", lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(400))])
    """
    rules = pick_branch(resource.prop("LifecycleConfiguration", "Rules"), resource.template)
    if rules is None or rules == [] or not is_audit_bucket(resource, policy):
        return
    if isinstance(rules, Unresolved):
        yield undecidable(
            f"lifecycle rules cannot be read: {rules.reason}", "Properties/LifecycleConfiguration"
        )
        return
    for i, rule_def in enumerate(as_list(rules)):
        if not isinstance(rule_def, dict):
            continue
        where = f"Properties/LifecycleConfiguration/Rules/{i}"
        status = as_str(rule_def.get("Status"), resource.template)
        if isinstance(status, Unresolved):
            yield undecidable(f"Status cannot be read: {status.reason}", f"{where}/Status")
        elif status == "Enabled":
            yield from _lifecycle_issues(rule_def, where, resource, policy)
