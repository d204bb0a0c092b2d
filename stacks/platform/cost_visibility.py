"""The ``PaymentsCostVisibility`` stack: Cost Anomaly Detection and a budget on the CostCenter tag.

The cost centre is handed in: it is the governance policy's ``CostCenter`` tag value
(``governance.tag_values.CostCenter`` in ``cdk.json``), the value the tag Aspect writes on every
resource, so the filters below match the tags by construction.

* Two anomaly monitors: one over the environment's ``CostCenter`` tag (a custom monitor, safe to
  create once per suffix), and - when ``cost.service_monitor`` is true - the account's AWS
  services monitor, which reports anomalies per service. AWS allows a single services monitor
  per account, so it is created only by the environment's own deployment (suffix = environment
  name, :attr:`stacks.config.Deployment.owns_account_singletons`); a parallel copy
  (``-c suffix=pr42``) watches through the CostCenter monitor only.
* One subscription sends anomalies whose impact is at least ``anomaly_threshold_usd`` dollars
  *and* ``anomaly_threshold_percent`` % of the expected spend to the cost topic, immediately
  (``ThresholdExpression``; SNS subscribers require the ``IMMEDIATE`` frequency).
* A monthly cost budget filtered on ``user:CostCenter$<cost centre>`` alerts the cost topic
  when actual spend passes ``budget_alert_percent`` % and when the forecast passes 100 %.
"""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import aws_budgets as budgets
from aws_cdk import aws_ce as ce
from aws_cdk import aws_sns as sns
from constructs import Construct

from stacks.base import BaseStack
from stacks.platform.settings import CostSettings


def threshold_expression(settings: CostSettings) -> dict[str, Any]:
    """Alert when the anomaly's total impact passes both the absolute and relative threshold."""
    return {
        "And": [
            {
                "Dimensions": {
                    "Key": "ANOMALY_TOTAL_IMPACT_ABSOLUTE",
                    "MatchOptions": ["GREATER_THAN_OR_EQUAL"],
                    "Values": [str(settings.anomaly_threshold_usd)],
                }
            },
            {
                "Dimensions": {
                    "Key": "ANOMALY_TOTAL_IMPACT_PERCENTAGE",
                    "MatchOptions": ["GREATER_THAN_OR_EQUAL"],
                    "Values": [str(settings.anomaly_threshold_percent)],
                }
            },
        ]
    }


class CostVisibilityStack(BaseStack):
    """Anomaly monitors, the anomaly subscription and the CostCenter budget."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: CostSettings,
        cost_center: str,
        topic: sns.ITopic,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.settings = settings
        self.cost_center = cost_center
        self.monitors: list[ce.CfnAnomalyMonitor] = [
            ce.CfnAnomalyMonitor(
                self,
                "CostCenterMonitor",
                monitor_name=self.name("payments-cost-center"),
                monitor_type="CUSTOM",
                monitor_specification=json.dumps(
                    {
                        "Tags": {
                            "Key": "CostCenter",
                            "Values": [cost_center],
                            "MatchOptions": ["EQUALS"],
                        }
                    }
                ),
            )
        ]
        if settings.service_monitor and self.deployment.owns_account_singletons:
            self.monitors.append(
                ce.CfnAnomalyMonitor(
                    self,
                    "ServiceMonitor",
                    monitor_name=self.name("payments-services"),
                    monitor_type="DIMENSIONAL",
                    monitor_dimension="SERVICE",
                )
            )
        self.subscription = ce.CfnAnomalySubscription(
            self,
            "AnomalySubscription",
            subscription_name=self.name("payments-cost-anomalies"),
            frequency="IMMEDIATE",
            monitor_arn_list=[m.attr_monitor_arn for m in self.monitors],
            subscribers=[
                ce.CfnAnomalySubscription.SubscriberProperty(address=topic.topic_arn, type="SNS")
            ],
            threshold_expression=json.dumps(threshold_expression(settings)),
        )
        sns_subscriber = budgets.CfnBudget.SubscriberProperty(
            address=topic.topic_arn, subscription_type="SNS"
        )
        self.budget = budgets.CfnBudget(
            self,
            "Budget",
            budget=budgets.CfnBudget.BudgetDataProperty(
                budget_name=self.name("payments-monthly"),
                budget_type="COST",
                time_unit="MONTHLY",
                budget_limit=budgets.CfnBudget.SpendProperty(
                    amount=settings.monthly_budget_usd, unit="USD"
                ),
                cost_filters={"TagKeyValue": [f"user:CostCenter${cost_center}"]},
            ),
            notifications_with_subscribers=[
                budgets.CfnBudget.NotificationWithSubscribersProperty(
                    notification=budgets.CfnBudget.NotificationProperty(
                        notification_type="ACTUAL",
                        comparison_operator="GREATER_THAN",
                        threshold=settings.budget_alert_percent,
                        threshold_type="PERCENTAGE",
                    ),
                    subscribers=[sns_subscriber],
                ),
                budgets.CfnBudget.NotificationWithSubscribersProperty(
                    notification=budgets.CfnBudget.NotificationProperty(
                        notification_type="FORECASTED",
                        comparison_operator="GREATER_THAN",
                        threshold=100,
                        threshold_type="PERCENTAGE",
                    ),
                    subscribers=[sns_subscriber],
                ),
            ],
        )
