"""The ``PaymentsAlerts`` stack: the cost, security and operations topics everything publishes to.

Early in the order, so that every later stack can publish without a dependency cycle: three
SNS topics encrypted with the environment's key, TLS-only, with the e-mail subscriptions from
configuration (``platform.alerts.subscriptions``, names resolved through the environment's
``contacts``; ``payments`` subscribes the pipeline's ``payment-notifications`` topic) and the service principals (EventBridge, CloudWatch, Budgets, Cost Anomaly
Detection) allowed to use them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subs
from constructs import Construct

from stacks.base import BaseStack
from stacks.platform.settings import TOPICS

#: Service principals that publish to the alert topics (and so must use the topics' key).
PUBLISHERS = {
    "cost": (
        "costalerts.amazonaws.com",
        "budgets.amazonaws.com",
        "events.amazonaws.com",
        "cloudwatch.amazonaws.com",
    ),
    "security": ("events.amazonaws.com", "cloudwatch.amazonaws.com"),
    "operations": ("events.amazonaws.com", "cloudwatch.amazonaws.com"),
}


class AlertsStack(BaseStack):
    """The three alert topics and their subscriptions (``subscriptions``: topic -> addresses)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        key: kms.IKey,
        subscriptions: Mapping[str, Sequence[str]],
        payments_topic: sns.ITopic | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        # The payments pipeline's payment-notifications topic (Payments stack) is subscribed
        # here, from the same configuration as the alert topics (alerts.subscriptions.payments).
        for i, address in enumerate(subscriptions.get("payments", ()) if payments_topic else ()):
            sns.Subscription(
                self,
                f"PaymentNotifications{i}",
                topic=payments_topic,
                protocol=sns.SubscriptionProtocol.EMAIL,
                endpoint=address,
            )
        self.topics: dict[str, sns.Topic] = {}
        for name in TOPICS:
            topic = sns.Topic(
                self,
                f"{name.capitalize()}Topic",
                topic_name=self.name(f"payments-{name}-alerts"),
                display_name=f"Payments {name} alerts ({self.deployment.environment})",
                master_key=key,
                enforce_ssl=True,
            )
            for address in subscriptions[name]:
                topic.add_subscription(subs.EmailSubscription(address))
            for principal in PUBLISHERS[name]:
                topic.add_to_resource_policy(
                    iam.PolicyStatement(
                        sid=f"Allow{principal.split('.')[0].capitalize()}Publish",
                        principals=[iam.ServicePrincipal(principal)],
                        actions=["sns:Publish"],
                        resources=[topic.topic_arn],
                        conditions={"StringEquals": {"aws:SourceAccount": self.account}},
                    )
                )
            self.topics[name] = topic
        for principal in sorted({p for ps in PUBLISHERS.values() for p in ps}):
            key.grant(iam.ServicePrincipal(principal), "kms:GenerateDataKey*", "kms:Decrypt")

    @property
    def cost(self) -> sns.Topic:
        return self.topics["cost"]

    @property
    def security(self) -> sns.Topic:
        return self.topics["security"]

    @property
    def operations(self) -> sns.Topic:
        return self.topics["operations"]
