"""KMS-encrypted CloudWatch log groups with a retention read from configuration.

Retention is a number of days CloudWatch Logs accepts, or ``None`` for "never expire"
(the legacy profile's setting); any other number is refused with the allowed values.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from stacks.validation import RETENTION_DAYS


def retention(days: int | None) -> logs.RetentionDays:
    """CDK's retention for ``days`` (``None`` means never expire)."""
    if days is None:
        return logs.RetentionDays.INFINITE
    if days not in RETENTION_DAYS:
        allowed = ", ".join(str(d) for d in RETENTION_DAYS)
        raise ValueError(f"log retention {days} days is not one CloudWatch accepts ({allowed})")
    return getattr(logs.RetentionDays, RETENTION_DAYS[days])


def encrypted_log_group(
    scope: Construct,
    construct_id: str,
    *,
    log_group_name: str,
    retention_days: int | None,
    key: kms.IKey,
) -> logs.LogGroup:
    """A log group encrypted with ``key``, removed with its stack."""
    return logs.LogGroup(
        scope,
        construct_id,
        log_group_name=log_group_name,
        retention=retention(retention_days),
        encryption_key=key,
        removal_policy=RemovalPolicy.DESTROY,
    )
