"""The ``PaymentsSecurity`` stack: the environment's customer-managed KMS key (seed 002).

One key per environment encrypts the tables, buckets, queues, topics, secrets and logs of every
system; every other stack is handed it. The service principals that encrypt with it are granted
on its key policy: CloudWatch Logs of the region here, CloudTrail here (the trail is created in
``PaymentsStorage`` with this key; AWS refuses the trail unless the key policy allows CloudTrail
``kms:GenerateDataKey*`` and ``kms:DescribeKey``), the alert publishers in ``PaymentsAlerts``.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from stacks.base import BaseStack
from stacks.platform.settings import TRAIL_NAME


class SecurityStack(BaseStack):
    """The environment's KMS key (rotation on), usable by CloudWatch Logs in this region."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.key = kms.Key(
            self,
            "EnvironmentKey",
            alias=f"alias/payments-{self.deployment.suffix}",
            description=f"Payments data key ({self.deployment.environment})",
            enable_key_rotation=True,
            rotation_period=Duration.days(365),
            removal_policy=RemovalPolicy.DESTROY,
            pending_window=Duration.days(7),
        )
        self.key.grant_encrypt_decrypt(iam.ServicePrincipal(f"logs.{self.region}.amazonaws.com"))
        self._allow_cloudtrail()

    def _allow_cloudtrail(self) -> None:
        """The statements AWS documents for a trail's key, limited to this environment's trail."""
        cloudtrail = iam.ServicePrincipal("cloudtrail.amazonaws.com")
        trail_arn = (
            f"arn:{self.partition}:cloudtrail:{self.region}:{self.account}:trail/"
            f"{self.name(TRAIL_NAME)}"
        )
        source = {"StringEquals": {"aws:SourceArn": trail_arn}}
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudTrailEncryptLogs",
                principals=[cloudtrail],
                actions=["kms:GenerateDataKey*"],
                resources=["*"],
                conditions={
                    **source,
                    "StringLike": {
                        "kms:EncryptionContext:aws:cloudtrail:arn": (
                            f"arn:{self.partition}:cloudtrail:*:{self.account}:trail/*"
                        )
                    },
                },
            )
        )
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudTrailDescribeKey",
                principals=[cloudtrail],
                # kms:Decrypt: the audit bucket uses an S3 Bucket Key with this key.
                actions=["kms:DescribeKey", "kms:Decrypt"],
                resources=["*"],
                conditions=source,
            )
        )
