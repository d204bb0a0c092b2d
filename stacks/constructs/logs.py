"""KMS-encrypted CloudWatch log groups with a retention read from configuration.

Retention is a number of days CloudWatch Logs accepts, or ``None`` for "never expire"
(the legacy profile's setting); any other number is refused with the allowed values.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

#: Days CloudWatch Logs accepts as a retention, mapped to CDK's enum member names.
RETENTION_DAYS: dict[int, str] = {
    1: "ONE_DAY",
    3: "THREE_DAYS",
    5: "FIVE_DAYS",
    7: "ONE_WEEK",
    14: "TWO_WEEKS",
    30: "ONE_MONTH",
    60: "TWO_MONTHS",
    90: "THREE_MONTHS",
    120: "FOUR_MONTHS",
    150: "FIVE_MONTHS",
    180: "SIX_MONTHS",
    365: "ONE_YEAR",
    400: "THIRTEEN_MONTHS",
    545: "EIGHTEEN_MONTHS",
    731: "TWO_YEARS",
    1096: "THREE_YEARS",
    1827: "FIVE_YEARS",
    2192: "SIX_YEARS",
    2557: "SEVEN_YEARS",
    2922: "EIGHT_YEARS",
    3288: "NINE_YEARS",
    3653: "TEN_YEARS",
}


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
