"""The ``PaymentsStorage`` stack: where flow logs, the trail, edge logs and payment archives are kept.

Three buckets, all destroyable with their stack:

* ``payments-audit-logs-<suffix>`` receives VPC flow logs and the CloudTrail trail. It is
  versioned and encrypted with the environment's KMS key; its lifecycle keeps the last
  ``audit_hot_days`` (>= 90) immediately readable (S3 Standard, then Glacier Instant Retrieval
  from ``glacier_after_days``), moves older logs to Glacier Flexible Retrieval and deletes them
  after ``audit_retention_days`` (>= 365) - PCI DSS 10.5.1.
* ``payments-archive-<suffix>`` holds payment exports and archives whose access pattern is not
  known in advance: S3 Intelligent-Tiering from day 0; the ``archive/`` prefix goes to Glacier
  after ``glacier_after_days``.
* ``payments-access-logs-<suffix>`` receives the S3 server access logs of the two buckets above
  (and of the next one). S3 delivers server access logs only to an SSE-S3 bucket, so this one
  alone is SSE-S3 (:func:`stacks.constructs.bucket.access_log_bucket`, which the payments audit
  bucket's access-log destination uses too, with the same acknowledged reason).
* ``payments-edge-logs-<suffix>``, only with ``edge.enabled``: the CloudFront distribution's
  standard access logs (:mod:`stacks.platform.edge`), KMS-encrypted, kept
  ``audit_retention_days``. CloudFront's standard logging writes through S3 ACLs, so this bucket
  alone keeps ACLs enabled (``BucketOwnerPreferred``: the log objects still belong to the
  account); public access is blocked as everywhere.

With ``storage.lifecycle`` false (the legacy baseline) no bucket has any lifecycle rule.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_cloudtrail as cloudtrail
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

import governance
from stacks.base import BaseStack
from stacks.constructs.bucket import access_log_bucket, secure_bucket
from stacks.platform.settings import TRAIL_NAME, PlatformSettings, StorageSettings


class StorageStack(BaseStack):
    """Audit log bucket, archive bucket, their access-log bucket and the CloudTrail trail."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        key: kms.IKey,
        settings: PlatformSettings,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        storage = settings.storage
        self.access_logs = access_log_bucket(
            self,
            "AccessLogs",
            bucket_name=f"{self.name('payments-access-logs')}-{self.account}",
            lifecycle_rules=_expiry_only(storage, "access-log-retention"),
        )
        self.audit = secure_bucket(
            self,
            "AuditLogs",
            bucket_name=f"{self.name('payments-audit-logs')}-{self.account}",
            key=key,
            access_logs=self.access_logs,
            access_logs_prefix="audit-logs/",
            lifecycle_rules=_audit_lifecycle(storage),
        )
        # VPC flow logs and CloudTrail write with the log-delivery and CloudTrail principals.
        key.grant_encrypt(iam.ServicePrincipal("delivery.logs.amazonaws.com"))
        self.archive = secure_bucket(
            self,
            "Archive",
            bucket_name=f"{self.name('payments-archive')}-{self.account}",
            key=key,
            access_logs=self.access_logs,
            access_logs_prefix="archive/",
            lifecycle_rules=_archive_lifecycle(storage),
        )
        self.edge_logs: s3.Bucket | None = None
        if settings.edge.enabled:
            self.edge_logs = secure_bucket(
                self,
                "EdgeLogs",
                bucket_name=f"{self.name('payments-edge-logs')}-{self.account}",
                key=key,
                # CloudFront standard logging grants its log-delivery account access by ACL;
                # it writes SSE-KMS objects as delivery.logs.amazonaws.com (granted above).
                object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
                access_logs=self.access_logs,
                access_logs_prefix="edge-logs/",
                lifecycle_rules=_expiry_only(storage, "edge-log-retention"),
            )
        buckets = [self.access_logs, self.audit, self.archive]
        if self.edge_logs is not None:
            buckets.append(self.edge_logs)
        for bucket in buckets:
            governance.acknowledge(
                bucket,
                "PCI.DSS.321-S3BucketReplicationEnabled",
                "Versioning keeps every earlier version of an object, so an altered or deleted "
                "log or archive stays recoverable (PCI DSS 10.5.3); the buckets are private, "
                "TLS-only and encrypted at rest. A cross-region replica would double storage "
                "cost per environment without adding protection against alteration.",
                plugin=None,
            )
        self.trail: cloudtrail.Trail | None = None
        if settings.audit_trail:
            self.trail = cloudtrail.Trail(
                self,
                "Trail",
                trail_name=self.name(TRAIL_NAME),
                bucket=self.audit,
                s3_key_prefix="cloudtrail",
                encryption_key=key,
                enable_file_validation=True,
                is_multi_region_trail=True,
                include_global_service_events=True,
                send_to_cloud_watch_logs=False,
            )
            governance.acknowledge(
                self.trail,
                "PCI.DSS.321-CloudTrailCloudWatchLogsEnabled",
                "The trail is delivered to the KMS-encrypted, versioned audit bucket with log "
                "file integrity validation and kept 12+ months there (PCI DSS 10.5.1); GuardDuty "
                "analyses the same management events continuously, so a second copy in "
                "CloudWatch Logs would only add ingestion cost.",
                plugin=None,
            )


def _audit_lifecycle(storage: StorageSettings) -> list[s3.LifecycleRule] | None:
    """Hot (Standard, then Glacier Instant Retrieval) for ``audit_hot_days``, then Glacier."""
    if not storage.lifecycle:
        return None
    transitions = []
    if storage.glacier_after_days < storage.audit_hot_days:
        transitions.append(
            s3.Transition(
                storage_class=s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
                transition_after=Duration.days(storage.glacier_after_days),
            )
        )
    transitions.append(
        s3.Transition(
            storage_class=s3.StorageClass.GLACIER,
            transition_after=Duration.days(storage.audit_hot_days),
        )
    )
    return [
        s3.LifecycleRule(
            id="audit-retention",
            transitions=transitions,
            expiration=Duration.days(storage.audit_retention_days),
            noncurrent_version_expiration=Duration.days(storage.audit_retention_days),
            abort_incomplete_multipart_upload_after=Duration.days(7),
        )
    ]


def _expiry_only(storage: StorageSettings, rule_id: str) -> list[s3.LifecycleRule] | None:
    """Access logs are many tiny objects: archiving them costs more than it saves."""
    if not storage.lifecycle:
        return None
    return [
        s3.LifecycleRule(
            id=rule_id,
            expiration=Duration.days(storage.audit_retention_days),
            noncurrent_version_expiration=Duration.days(storage.glacier_after_days),
        )
    ]


def _archive_lifecycle(storage: StorageSettings) -> list[s3.LifecycleRule] | None:
    """Intelligent-Tiering for unpredictable access; ``archive/`` to Glacier after N days."""
    if not storage.lifecycle:
        return None
    rules = [
        s3.LifecycleRule(
            id="archive-to-glacier",
            prefix="archive/",
            transitions=[
                s3.Transition(
                    storage_class=s3.StorageClass.GLACIER,
                    transition_after=Duration.days(storage.glacier_after_days),
                )
            ],
            noncurrent_version_expiration=Duration.days(storage.glacier_after_days),
            abort_incomplete_multipart_upload_after=Duration.days(7),
        )
    ]
    if storage.intelligent_tiering:
        rules.append(
            s3.LifecycleRule(
                id="exports-intelligent-tiering",
                prefix="exports/",
                transitions=[
                    s3.Transition(
                        storage_class=s3.StorageClass.INTELLIGENT_TIERING,
                        transition_after=Duration.days(0),
                    )
                ],
                noncurrent_version_expiration=Duration.days(storage.glacier_after_days),
                abort_incomplete_multipart_upload_after=Duration.days(7),
            )
        )
    return rules
