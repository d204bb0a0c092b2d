"""FinOps rules for data: DynamoDB capacity, CloudWatch Logs retention, S3 lifecycle.

Thresholds come from ``policy.thresholds`` (billing mode per environment, application-log
retention ceiling). Audit logs are recognised by the same classifier the PCI rules use
(``rules._support.is_audit_log_group``: a word of the name, logical id or construct path starts
with one of ``policy.audit_log_markers``, or API access logs, VPC flow logs, a CloudTrail trail
or WAF logging write to the group); their minimum retention belongs to the PCI DSS 10.5.1 rule,
so the cost ceiling does not apply to them and no log group is asked to be both short- and
long-lived.

PCI DSS references: AWS's v4.0 conformance pack maps "log group retention is set" to 3.2.1
(keep stored data to a minimum through retention and disposal), so COST-LOG-001 cites it; a
bucket lifecycle is the same control for S3 (our mapping, not AWS's), so COST-S3-001 cites it
too. The other rules here are cost-only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from governance.intrinsics import Unresolved, as_int, as_str, literal_text, ref_target, resolve
from governance.model import Category, Issue, Severity, undecidable, violation
from governance.policy import Policy
from governance.registry import rule
from governance.template import Resource
from rules._cost_support import belongs_to_deploy_time_handler, run_templates
from rules._support import entries, is_audit_log_group, mapping

TABLES = ("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable")
ON_DEMAND = "PAY_PER_REQUEST"


def _billing_mode(resource: Resource) -> str | Unresolved:
    mode = as_str(resource.prop("BillingMode"), resource.template)
    return "PROVISIONED" if mode is None else mode  # CloudFormation's default


@rule(
    id="COST-DDB-001",
    slug="table-billing-mode-not-environment-mode",
    title="DynamoDB billing mode is the one the environment asks for",
    severity=Severity.ERROR,
    resource_types=TABLES,
    category=Category.COST,
)
def table_billing_mode_not_environment_mode(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """The table's `BillingMode` matches `thresholds.dynamodb_billing_mode` (unless `any`).

    Why:
        Provisioned capacity bills every hour whether used or not; it is cheaper than
        on-demand only above about 29 % average utilisation (at the post-November-2024
        prices). Spiky or idle environments (dev, staging) belong on on-demand, a steady
        high-volume one on provisioned with auto-scaling; the environment's policy says which.
        A table without `BillingMode` is provisioned.

    Fix:
        `billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST` (or `PROVISIONED` with
        auto-scaling), chosen from the environment's configuration.

    Example:
        dynamodb.Table(self, "Transactions", billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST, ...)
    """
    wanted = policy.thresholds.dynamodb_billing_mode
    if wanted == "any":
        return
    mode = _billing_mode(resource)
    where = "Properties/BillingMode"
    if isinstance(mode, Unresolved):
        yield undecidable(f"BillingMode cannot be read: {mode.reason}", where)
        return
    env = f"environment {policy.environment!r}" if policy.environment else "the policy"
    if wanted == "on_demand" and mode != ON_DEMAND:
        yield violation(f"table uses {mode} capacity; {env} asks for on-demand", where)
    elif wanted == "provisioned" and mode == ON_DEMAND:
        yield violation(
            f"table is on-demand; {env} asks for provisioned capacity with auto-scaling", where
        )


_INDEX_SUFFIX = re.compile(r"/index/([^/\s]+)\s*$")


def _scalable_targets(resource: Resource) -> Iterator[tuple[Resource, bool | None, str | None]]:
    """DynamoDB scalable targets of the run: (target, points at this table?, index name).

    ``points at this table`` is ``None`` when the target's ResourceId cannot be read and does not
    refer to a resource, so it might be this table.
    """
    t = resource.template
    name = as_str(resource.prop("TableName"), t)
    for template in run_templates(resource):
        for target in template.of_type("AWS::ApplicationAutoScaling::ScalableTarget"):
            namespace = as_str(target.prop("ServiceNamespace"), template)
            if isinstance(namespace, str) and namespace != "dynamodb":
                continue
            raw = target.prop("ResourceId")
            if (
                raw is None
            ):  # a target without ResourceId scales nothing (CloudFormation refuses it)
                continue
            match = _INDEX_SUFFIX.search(literal_text(raw))
            index = match.group(1) if match else None
            local_refs = [r for r in _ref_targets(raw) if r in template.resources]
            if local_refs:
                yield target, template is t and resource.logical_id in local_refs, index
                continue
            text = as_str(raw, template)
            if isinstance(text, Unresolved) or isinstance(namespace, Unresolved):
                yield target, None, index
            elif isinstance(name, str):
                table = text.split("/index/", 1)[0]
                yield target, table == f"table/{name}", index


def _ref_targets(value: Any) -> list[str]:
    if isinstance(value, dict):
        target = ref_target(value)
        if target is not None:
            return [target]
        return [x for v in value.values() for x in _ref_targets(v)]
    if isinstance(value, list):
        return [x for v in value for x in _ref_targets(v)]
    return []


def _scales(target: Resource) -> bool:
    """The scalable target has a scaling policy or scheduled actions."""
    if target.prop("ScheduledActions"):
        return True
    return any(
        ref_target(p.prop("ScalingTargetId")) == target.logical_id
        for p in target.template.referrers(
            target.logical_id, "AWS::ApplicationAutoScaling::ScalingPolicy"
        )
    )


def _table_dimensions(resource: Resource) -> Iterator[tuple[str | Unresolved | None, str, str]]:
    """(index name or None, capacity kind, property path) for every provisioned dimension."""
    for kind in ("Read", "Write"):
        yield None, kind, f"Properties/ProvisionedThroughput/{kind}CapacityUnits"
    for i, gsi in entries(resource.prop("GlobalSecondaryIndexes")):
        index = as_str(gsi.get("IndexName"), resource.template)
        for kind in ("Read", "Write"):
            yield index, kind, f"Properties/GlobalSecondaryIndexes/{i}/ProvisionedThroughput"


def _global_table_fixed(resource: Resource) -> Iterator[Issue]:
    """Provisioned global tables declare auto-scaling inline; fixed capacity is reported."""
    write = mapping(resource.prop("WriteProvisionedThroughputSettings"))
    if not (isinstance(write, dict) and write.get("WriteCapacityAutoScalingSettings")):
        yield violation(
            "write capacity has no auto-scaling settings",
            "Properties/WriteProvisionedThroughputSettings",
        )
    for i, gsi in entries(resource.prop("GlobalSecondaryIndexes")):
        settings = gsi.get("WriteProvisionedThroughputSettings")
        if not (isinstance(settings, dict) and settings.get("WriteCapacityAutoScalingSettings")):
            yield violation(
                "index write capacity has no auto-scaling settings",
                f"Properties/GlobalSecondaryIndexes/{i}/WriteProvisionedThroughputSettings",
            )
    for i, replica in entries(resource.prop("Replicas")):
        read = replica.get("ReadProvisionedThroughputSettings")
        fixed = isinstance(read, dict) and read.get("ReadCapacityUnits") is not None
        if fixed and not read.get("ReadCapacityAutoScalingSettings"):
            yield violation(
                "replica read capacity is fixed, without auto-scaling",
                f"Properties/Replicas/{i}/ReadProvisionedThroughputSettings",
            )


@rule(
    id="COST-DDB-002",
    slug="provisioned-table-without-autoscaling",
    title="Provisioned DynamoDB capacity is auto-scaled",
    severity=Severity.WARNING,
    resource_types=TABLES,
    category=Category.COST,
)
def provisioned_table_without_autoscaling(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """Each provisioned read and write dimension (table and GSIs) has auto-scaling.

    Why:
        Fixed provisioned capacity is sized for the peak and billed for it every hour of the
        day; at the seed's daily shape most of it idles. Auto-scaling (target tracking around
        70 % utilisation) follows the load. A table's dimension counts as auto-scaled when an
        `AWS::ApplicationAutoScaling::ScalableTarget` of the run (any stack) refers to the table
        (`table/<name>` or `table/<name>/index/<index>`) for that dimension and has a scaling
        policy or scheduled actions. A target whose ResourceId cannot be read makes the answer
        undecidable.

    Fix:
        `table.auto_scale_read_capacity(...).scale_on_utilization(target_utilization_percent=70)`
        and the same for writes and for each GSI.

    Example:
        table.auto_scale_write_capacity(min_capacity=5, max_capacity=200).scale_on_utilization(target_utilization_percent=70)
    """
    mode = _billing_mode(resource)
    if isinstance(mode, Unresolved):
        yield undecidable(f"BillingMode cannot be read: {mode.reason}", "Properties/BillingMode")
        return
    if mode == ON_DEMAND:
        return
    if resource.type == "AWS::DynamoDB::GlobalTable":
        yield from _global_table_fixed(resource)
        return
    targets = list(_scalable_targets(resource))
    for index, kind, where in _table_dimensions(resource):
        label = "table" if index is None else f"index {index}"
        if isinstance(index, Unresolved):
            yield undecidable(f"index name cannot be read: {index.reason}", where)
            continue
        dimension = f"dynamodb:{'table' if index is None else 'index'}:{kind}CapacityUnits"
        matched: list[Resource] = []
        unsure = False
        for target, is_this, target_index in targets:
            dim = as_str(target.prop("ScalableDimension"), target.template)
            if is_this is False or (isinstance(dim, str) and dim != dimension):
                continue
            if target_index != index:
                # a ResourceId read from nothing gives no index: it may still be this one
                unsure = unsure or (is_this is None and target_index is None)
                continue
            if is_this is None or isinstance(dim, Unresolved):
                unsure = True
            else:
                matched.append(target)
        if any(_scales(m) for m in matched):
            continue
        if matched:
            yield violation(
                f"{label} {kind.lower()} capacity has a scalable target "
                f"({matched[0].logical_id}) but no scaling policy",
                where,
            )
        elif unsure:
            yield undecidable(
                f"{label} {kind.lower()} capacity: a scalable target's resource id cannot be read",
                where,
            )
        else:
            yield violation(
                f"{label} {kind.lower()} capacity is provisioned without auto-scaling", where
            )


LOG_TYPES = ("AWS::Logs::LogGroup", "Custom::LogRetention")


def is_audit_log(resource: Resource, policy: Policy) -> bool:
    """The PCI rules' classifier (markers, audit writers in any stack of the run), plus REST API
    deployments whose inline stage writes access logs to the group."""
    return is_audit_log_group(resource, policy) or bool(
        resource.template.referrers_at(
            resource.logical_id,
            "AWS::ApiGateway::Deployment",
            "Properties/StageDescription/AccessLogSetting",
        )
    )


@rule(
    id="COST-LOG-001",
    slug="log-group-never-expires",
    title="Log groups have a retention period",
    severity=Severity.ERROR,
    resource_types=LOG_TYPES,
    category=Category.COST,
    pci=("3.2.1",),
    checkov=("CKV_AWS_66",),
    cdk_nag=("PCI.DSS.321-CloudWatchLogGroupRetentionPeriod",),
)
def log_group_never_expires(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """Every log group (and `Custom::LogRetention`) sets `RetentionInDays`.

    Why:
        A log group without retention keeps every event forever ("Never expire"), so its
        storage bill only grows; PCI DSS 3.2.1 also asks that stored data be disposed of when
        no longer needed (AWS's v4.0 conformance pack maps log retention to it). Audit logs
        need retention too: 365 days or more, set by the PCI rule, not forever. The log groups
        of CDK's deploy-time handlers are exempt: they receive a few lines per deployment.

    Fix:
        `logs.LogGroup(self, "Logs", retention=logs.RetentionDays.ONE_WEEK)` for application
        logs, `ONE_YEAR` or more for audit logs.

    Example:
        logs.LogGroup(self, "PaymentLogs", retention=logs.RetentionDays.ONE_WEEK, encryption_key=key)
    """
    if belongs_to_deploy_time_handler(resource, "LogGroupName"):
        return
    if resource.prop("RetentionInDays") is None:
        yield violation(
            "log group never expires (no RetentionInDays)", "Properties/RetentionInDays"
        )


@rule(
    id="COST-LOG-002",
    slug="application-logs-kept-too-long",
    title="Application logs are not kept longer than the ceiling",
    severity=Severity.ERROR,
    resource_types=LOG_TYPES,
    category=Category.COST,
)
def application_logs_kept_too_long(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """An application log group keeps at most `thresholds.app_log_retention_max_days` days.

    Why:
        Application logs are read for days, not years; every day kept beyond that is stored
        and billed. Audit logs (named with one of `audit_log_markers`, or written by API
        access logging, VPC flow logs, CloudTrail or WAF logging) are exempt: the PCI DSS
        10.5.1 rule sets their minimum. So are the log groups of CDK's deploy-time handlers.
        A log group with no retention at all is COST-LOG-001's finding, not this one's.

    Fix:
        `retention=logs.RetentionDays.ONE_WEEK` (or up to the ceiling); if the log group holds
        audit events, name it so (e.g. `.../audit/...`) so the PCI rule governs it.

    Example:
        logs.LogGroup(self, "ProcessPaymentLogs", retention=logs.RetentionDays.ONE_WEEK)
    """
    raw = resource.prop("RetentionInDays")
    if raw is None or belongs_to_deploy_time_handler(resource, "LogGroupName"):
        return
    if is_audit_log(resource, policy):
        return
    ceiling = policy.thresholds.app_log_retention_max_days
    days = as_int(raw, resource.template)
    where = "Properties/RetentionInDays"
    if isinstance(days, Unresolved):
        yield undecidable(f"RetentionInDays cannot be read: {days.reason}", where)
    elif days is not None and days > ceiling:
        yield violation(
            f"application logs are kept {days} days; the ceiling is {ceiling} days", where
        )


@rule(
    id="COST-S3-001",
    slug="bucket-without-lifecycle-rule",
    title="S3 buckets have an enabled lifecycle rule",
    severity=Severity.ERROR,
    resource_types=("AWS::S3::Bucket",),
    category=Category.COST,
    pci=("3.2.1",),
)
def bucket_without_lifecycle_rule(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """The bucket has at least one lifecycle rule with `Status: Enabled`.

    Why:
        Without lifecycle rules every object stays in S3 Standard forever: moving cold data to
        Glacier Flexible Retrieval cuts its storage price by 84 %, expiring it removes it, and
        aborting incomplete multipart uploads removes parts nobody sees but everybody pays for.
        Disposal of data no longer needed is also PCI DSS 3.2.1 (the mapping to S3 lifecycle
        is ours).

    Fix:
        Add lifecycle rules: transition to Glacier (or Intelligent-Tiering where access is
        unpredictable), expiration where the data has an end of life, and
        `abort_incomplete_multipart_upload_after`.

    Example:
        s3.Bucket(self, "Audit", lifecycle_rules=[s3.LifecycleRule(transitions=[s3.Transition(storage_class=s3.StorageClass.GLACIER, transition_after=Duration.days(30))])])
    """
    where = "Properties/LifecycleConfiguration/Rules"
    rules = resolve(resource.prop("LifecycleConfiguration", "Rules"), resource.template)
    if isinstance(rules, Unresolved):
        yield undecidable(f"lifecycle rules cannot be read: {rules.reason}", where)
        return
    unsure = False
    for item in rules if isinstance(rules, list) else []:
        status = item.get("Status") if isinstance(item, dict) else item
        if isinstance(status, Unresolved):
            unsure = True
        elif status == "Enabled":
            return
    if unsure:
        yield undecidable("a lifecycle rule's Status is only known at deploy time", where)
    else:
        yield violation("bucket has no enabled lifecycle rule", where)
