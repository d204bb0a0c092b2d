"""The ``PaymentsSecurity`` stack: the environment's customer-managed KMS key (seed 002).

One key per environment encrypts the tables, buckets, queues, topics, secrets and logs of every
system; every other stack is handed it.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from stacks.base import BaseStack


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
