"""The audit bucket: versioned, KMS-encrypted, TLS-only, private, with lifecycle and access logs."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

import governance
from stacks.constructs.settings import BucketSettings

#: Incomplete multipart uploads are never useful in an audit archive; abort them after a week.
ABORT_MULTIPART_AFTER_DAYS = 7


def storage_class(settings: BucketSettings) -> s3.StorageClass:
    """CDK's storage class for ``settings.glacier_storage_class``."""
    return {
        "GLACIER_IR": s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
        "GLACIER": s3.StorageClass.GLACIER,
        "DEEP_ARCHIVE": s3.StorageClass.DEEP_ARCHIVE,
    }[settings.glacier_storage_class]


def _lifecycle_rules(settings: BucketSettings) -> list[s3.LifecycleRule]:
    if not settings.lifecycle_enabled:
        return []
    return [
        s3.LifecycleRule(
            id="archive-to-glacier",
            enabled=True,
            transitions=[
                s3.Transition(
                    storage_class=storage_class(settings),
                    transition_after=Duration.days(settings.glacier_transition_days),
                )
            ],
            noncurrent_version_transitions=(
                [
                    s3.NoncurrentVersionTransition(
                        storage_class=storage_class(settings),
                        transition_after=Duration.days(settings.glacier_transition_days),
                    )
                ]
                if settings.versioned
                else None
            ),
            abort_incomplete_multipart_upload_after=Duration.days(ABORT_MULTIPART_AFTER_DAYS),
        )
    ]


def secure_bucket(
    scope: Construct,
    construct_id: str,
    *,
    bucket_name: str,
    key: kms.IKey,
    versioned: bool = True,
    lifecycle_rules: list[s3.LifecycleRule] | None = None,
    access_logs: s3.IBucket | None = None,
    access_logs_prefix: str = "s3-access/",
    object_ownership: s3.ObjectOwnership = s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
) -> s3.Bucket:
    """The platform's secure defaults for a bucket, in one place: SSE-KMS with the environment
    key (bucket key on), TLS 1.2+ only, public access blocked, versioned, destroyable."""
    return s3.Bucket(
        scope,
        construct_id,
        bucket_name=bucket_name,
        encryption=s3.BucketEncryption.KMS,
        encryption_key=key,
        bucket_key_enabled=True,
        enforce_ssl=True,
        minimum_tls_version=1.2,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        object_ownership=object_ownership,
        versioned=versioned,
        lifecycle_rules=lifecycle_rules or None,
        server_access_logs_bucket=access_logs,
        server_access_logs_prefix=access_logs_prefix if access_logs is not None else None,
        removal_policy=RemovalPolicy.DESTROY,
    )


#: Why a server access log destination is SSE-S3, not SSE-KMS (and does not log itself). The
#: same words wherever such a bucket is acknowledged, matching AWS's documentation ("Enabling
#: Amazon S3 server access logging": the destination's default encryption must be SSE-S3).
ACCESS_LOG_BUCKET_REASON = (
    "This bucket is the destination of S3 server access logs: S3 delivers server access logs "
    "only to a bucket whose default encryption is SSE-S3 (SSE-KMS is not supported), and a "
    "destination that logged itself would recurse; it is private (public access blocked), "
    "TLS-only and versioned, and S3 writes to it through its bucket policy."
)


def access_log_bucket(
    scope: Construct,
    construct_id: str,
    *,
    bucket_name: str,
    versioned: bool = True,
    lifecycle_rules: list[s3.LifecycleRule] | None = None,
) -> s3.Bucket:
    """A destination for S3 server access logs: SSE-S3 (the only encryption S3 delivers to),
    TLS-only, private, versioned, destroyable; the rules it cannot meet are acknowledged."""
    bucket = s3.Bucket(
        scope,
        construct_id,
        bucket_name=bucket_name,
        encryption=s3.BucketEncryption.S3_MANAGED,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
        minimum_tls_version=1.2,
        versioned=versioned,
        lifecycle_rules=lifecycle_rules or None,
        removal_policy=RemovalPolicy.DESTROY,
    )
    for rule_id, plugin in (
        ("ENC-001", "govern"),
        ("AwsSolutions-S1", None),
        ("PCI.DSS.321-S3BucketLoggingEnabled", None),
        ("PCI.DSS.321-S3DefaultEncryptionKMS", None),
    ):
        governance.acknowledge(bucket, rule_id, ACCESS_LOG_BUCKET_REASON, plugin=plugin)
    return bucket


class AuditBucket(Construct):
    """``bucket`` for audit records; its S3 server access logs go to ``access_logs_bucket``.

    Objects (current and noncurrent versions) move to the configured Glacier class after
    ``glacier_transition_days`` when lifecycle is enabled: Glacier Instant Retrieval keeps them
    readable in milliseconds, which is what audit records younger than three months need
    (PCI DSS 10.5.1); Glacier Flexible Retrieval needs a restore first. The
    buckets are not emptied automatically on stack deletion: an audit archive is deleted on
    purpose, by a person, never as a side effect of ``cdk destroy``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bucket_name: str,
        access_logs_bucket_name: str,
        settings: BucketSettings,
        key: kms.IKey,
    ) -> None:
        super().__init__(scope, construct_id)
        self.access_logs_bucket = access_log_bucket(
            self,
            "AccessLogs",
            bucket_name=access_logs_bucket_name,
            versioned=settings.versioned,
            lifecycle_rules=_lifecycle_rules(settings),
        )
        self.bucket = secure_bucket(
            self,
            "Bucket",
            bucket_name=bucket_name,
            key=key,
            versioned=settings.versioned,
            lifecycle_rules=_lifecycle_rules(settings),
            access_logs=self.access_logs_bucket,
        )
        governance.acknowledge(
            self,
            "PCI.DSS.321-S3BucketReplicationEnabled",
            "Versioning keeps every earlier version of an object, so an altered or deleted audit "
            "record stays recoverable (PCI DSS 10.5.3: difficult to alter); the buckets are "
            "private, TLS-only, KMS-encrypted with the environment's key and not writable by "
            "any function. A cross-region replica would add a second key and copy per "
            "environment without adding protection against alteration.",
            plugin=None,
        )
