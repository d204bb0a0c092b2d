"""Backups and recovery points (PCI DSS 10.5.1, 10.3.3, 12.10.1): data stores can be restored.

DynamoDB tables keep point-in-time recovery, databases keep automated backups for at least
``thresholds.backup_retention_min_days``, and buckets keep object versions. AWS maps DynamoDB
PITR to 10.3.3 and 10.5.1 (among others), database backups to 10.3.3 and bucket versioning to
10.3.4. The mapping to 12.10.1 is ours: the incident-response plan's recovery step needs a
restore point from before the incident, which only these settings provide.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from governance.intrinsics import Unresolved, as_bool, as_int, as_str
from governance.model import Category, Issue, Severity, undecidable, violation
from governance.policy import Policy
from governance.registry import rule
from governance.template import Resource
from rules._support import as_list


def _pitr(value: Any, resource: Resource, where: str) -> Iterator[Issue]:
    enabled = as_bool(value, resource.template)
    if isinstance(enabled, Unresolved):
        yield undecidable(f"point-in-time recovery cannot be read: {enabled.reason}", where)
    elif not enabled:
        yield violation("point-in-time recovery is off", where)


@rule(
    id="PCI-BAK-001",
    slug="table-without-pitr",
    title="DynamoDB tables have point-in-time recovery",
    severity=Severity.ERROR,
    resource_types=("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable"),
    category=Category.PCI_BACKUP,
    pci=("10.3.3", "10.5.1", "12.10.1"),
    checkov=("CKV_AWS_28",),
    cdk_nag=("AwsSolutions-DDB3",),
)
def table_without_pitr(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """`PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled` is true (on every replica).

    Why:
        Without it a bad deploy or a malicious delete of payment records cannot be undone
        (AWS maps dynamodb-pitr-enabled to 10.3.3 and 10.5.1; 12.10.1 is ours).

    Fix:
        `dynamodb.Table(..., point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(point_in_time_recovery_enabled=True))`.

    Example:
        dynamodb.TableV2(self, "Tx", point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(point_in_time_recovery_enabled=True), ...)
    """
    key = "PointInTimeRecoverySpecification"
    if resource.type == "AWS::DynamoDB::Table":
        yield from _pitr(
            resource.prop(key, "PointInTimeRecoveryEnabled"), resource, f"Properties/{key}"
        )
        return
    for i, replica in enumerate(as_list(resource.prop("Replicas"))):
        if isinstance(replica, dict):
            spec = replica.get(key) or {}
            value = spec.get("PointInTimeRecoveryEnabled") if isinstance(spec, dict) else None
            yield from _pitr(value, resource, f"Properties/Replicas/{i}/{key}")


@rule(
    id="PCI-BAK-002",
    slug="database-backup-retention-too-short",
    title="Databases keep automated backups for at least 7 days",
    severity=Severity.ERROR,
    resource_types=("AWS::RDS::DBCluster", "AWS::RDS::DBInstance"),
    category=Category.PCI_BACKUP,
    pci=("10.3.3", "12.10.1"),
    cdk_nag=("AwsSolutions-RDS13",),
)
def database_backup_retention_too_short(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """`BackupRetentionPeriod` is at least `thresholds.backup_retention_min_days`.

    Why:
        CloudFormation's default is one day: an incident found on Monday that began on Friday
        has no restore point left (AWS maps db-instance-backup-enabled to 10.3.3; 12.10.1 is
        ours). Instances of an Aurora cluster follow the cluster and are not judged.

    Fix:
        `rds.DatabaseCluster(..., backup=rds.BackupProps(retention=Duration.days(7)))`.

    Example:
        rds.DatabaseCluster(self, "Db", backup=rds.BackupProps(retention=Duration.days(14)), ...)
    """
    if resource.type == "AWS::RDS::DBInstance" and resource.prop("DBClusterIdentifier") is not None:
        return
    minimum = policy.thresholds.backup_retention_min_days
    days = as_int(resource.prop("BackupRetentionPeriod"), resource.template)
    where = "Properties/BackupRetentionPeriod"
    if isinstance(days, Unresolved):
        yield undecidable(f"BackupRetentionPeriod cannot be read: {days.reason}", where)
    elif days is None:
        yield violation(
            f"no BackupRetentionPeriod: the default keeps 1 day (minimum {minimum})", where
        )
    elif days < minimum:
        yield violation(f"backups are kept {days} days (minimum {minimum})", where)


@rule(
    id="PCI-BAK-003",
    slug="bucket-without-versioning",
    title="S3 buckets keep object versions",
    severity=Severity.ERROR,
    resource_types=("AWS::S3::Bucket",),
    category=Category.PCI_BACKUP,
    pci=("10.3.4", "10.5.1", "12.10.1"),
    checkov=("CKV_AWS_21",),
    cdk_nag=("PCI.DSS.321-S3BucketVersioningEnabled",),
)
def bucket_without_versioning(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """`VersioningConfiguration.Status` is `Enabled`.

    Why:
        Versioning keeps every overwritten or deleted object recoverable: data and audit logs
        survive a mistaken or malicious delete (AWS maps s3-bucket-versioning-enabled to
        10.3.4; 10.5.1 and 12.10.1 are ours). A lifecycle rule can expire old versions to
        bound the cost.

    Fix:
        `s3.Bucket(..., versioned=True)` and a `noncurrent_version_expiration` lifecycle rule.

    Example:
        s3.Bucket(self, "Receipts", versioned=True, lifecycle_rules=[s3.LifecycleRule(noncurrent_version_expiration=Duration.days(30))])
    """
    where = "Properties/VersioningConfiguration/Status"
    status = as_str(resource.prop("VersioningConfiguration", "Status"), resource.template)
    if isinstance(status, Unresolved):
        yield undecidable(f"versioning status cannot be read: {status.reason}", where)
    elif status != "Enabled":
        yield violation(f"versioning is {'suspended' if status else 'off'}", where)
