"""The ``GlobalDataKeysPrimary`` and ``GlobalDataKeysSecondary`` stacks: one region's purpose keys.

Seed 004 asks for three keys by purpose; seed 002 for "one key per environment". Both hold here:
the environment key of ``PaymentsSecurity`` stays the payment pipeline's, and this system adds
three keys *per region* (a KMS key never leaves its region, and a global-table replica, a bucket
or a function can only use a key of its own region):

* ``table`` - the region's replica of the global table;
* ``audit`` - the region's audit bucket, the API's access and WAF logs, the alarm topic;
* ``function`` - the processor's environment variables, its log group, the API-key secret.

Each key rotates (period from configuration), has an alias with the environment suffix
(``alias/global-data-<purpose>-<suffix>``) and the configured deletion window (10 days).
"""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Duration, RemovalPolicy, Tags
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from stacks.base import BaseStack
from stacks.global_data.settings import SYSTEM, KeySettings

PURPOSES = {
    "table": "the global table's replica",
    "audit": "the audit bucket, API logs and the alarm topic",
    "function": "the processor's environment, logs and API-key secret",
}


def key_alias(purpose: str, suffix: str) -> str:
    """``alias/global-data-<purpose>-<suffix>``."""
    return f"alias/{SYSTEM}-{purpose}-{suffix}"


class KeysStack(BaseStack):
    """The three purpose keys of one region (``keys`` by purpose)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: KeySettings,
        role: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        Tags.of(self).add("System", SYSTEM)
        self.keys: dict[str, kms.Key] = {}
        for purpose, what in PURPOSES.items():
            key = kms.Key(
                self,
                f"{purpose.capitalize()}Key",
                alias=key_alias(purpose, self.deployment.suffix),
                description=f"Global data {purpose} key: {what} ({self.deployment.environment}, "
                f"{self.region})",
                enable_key_rotation=True,
                rotation_period=Duration.days(settings.rotation_period_days),
                pending_window=Duration.days(settings.pending_window_days),
                removal_policy=RemovalPolicy.DESTROY,
            )
            self.keys[purpose] = key
            # beside the key, so no other stack re-exports an import (cfn-lint W6001); ``role``
            # prefixes it, so one flat outputs file holds both regions
            CfnOutput(self, f"{role}{purpose.capitalize()}KeyId", value=key.key_id)
        logs = iam.ServicePrincipal(f"logs.{self.region}.amazonaws.com")
        self.keys["audit"].grant_encrypt_decrypt(logs)
        self.keys["function"].grant_encrypt_decrypt(logs)
        # CloudWatch alarms publish to the topic encrypted with the audit key.
        self.keys["audit"].grant(
            iam.ServicePrincipal("cloudwatch.amazonaws.com"), "kms:Decrypt", "kms:GenerateDataKey*"
        )
