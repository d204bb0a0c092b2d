"""Cost visibility and configuration parameters: anomaly detection, CostCenter budget, SSM."""

from __future__ import annotations

import json

import pytest
from platform_support import ENVIRONMENTS, platform


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_anomaly_monitors_and_subscription(env: str) -> None:
    p = platform(env)
    cost = p.settings.cost
    monitors = p.of_type("cost_visibility", "AWS::CE::AnomalyMonitor")
    by_type = {m["Properties"]["MonitorType"]: m["Properties"] for m in monitors.values()}
    assert sorted(by_type) == ["CUSTOM", "DIMENSIONAL"]
    assert by_type["DIMENSIONAL"]["MonitorDimension"] == "SERVICE"
    spec = json.loads(by_type["CUSTOM"]["MonitorSpecification"])
    assert spec == {
        "Tags": {
            "Key": "CostCenter",
            "Values": [p.stacks["cost_visibility"].cost_center],
            "MatchOptions": ["EQUALS"],
        }
    }
    (subscription,) = p.of_type("cost_visibility", "AWS::CE::AnomalySubscription").values()
    props = subscription["Properties"]
    assert props["Frequency"] == "IMMEDIATE"
    assert props["SubscriptionName"] == f"payments-cost-anomalies-{env}"
    assert len(props["MonitorArnList"]) == 2
    assert props["Subscribers"][0]["Type"] == "SNS"
    threshold = json.loads(props["ThresholdExpression"])
    dims = {d["Dimensions"]["Key"]: d["Dimensions"] for d in threshold["And"]}
    assert dims["ANOMALY_TOTAL_IMPACT_ABSOLUTE"]["Values"] == [str(cost.anomaly_threshold_usd)]
    assert dims["ANOMALY_TOTAL_IMPACT_PERCENTAGE"]["Values"] == [
        str(cost.anomaly_threshold_percent)
    ]
    assert {d["MatchOptions"][0] for d in dims.values()} == {"GREATER_THAN_OR_EQUAL"}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_budget_filters_on_the_cost_center_tag(env: str) -> None:
    p = platform(env)
    assert p.stacks["cost_visibility"].cost_center == "CC-1001"  # governance.tag_values.CostCenter
    (budget,) = p.of_type("cost_visibility", "AWS::Budgets::Budget").values()
    data = budget["Properties"]["Budget"]
    assert data["BudgetName"] == f"payments-monthly-{env}"
    assert data["BudgetLimit"] == {"Amount": p.settings.cost.monthly_budget_usd, "Unit": "USD"}
    assert data["CostFilters"] == {
        "TagKeyValue": [f"user:CostCenter${p.stacks['cost_visibility'].cost_center}"]
    }
    notifications = budget["Properties"]["NotificationsWithSubscribers"]
    kinds = sorted(
        (n["Notification"]["NotificationType"], n["Notification"]["Threshold"])
        for n in notifications
    )
    assert kinds == [("ACTUAL", p.settings.cost.budget_alert_percent), ("FORECASTED", 100)]
    for n in notifications:
        assert n["Subscribers"][0]["SubscriptionType"] == "SNS"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_parameters_describe_the_deployment(env: str) -> None:
    p = platform(env)
    params = {
        r["Properties"]["Name"]: r["Properties"]["Value"]
        for r in p.of_type("parameters", "AWS::SSM::Parameter").values()
    }
    prefix = f"/payments/{env}/"
    assert all(name.startswith(prefix) for name in params)
    assert params[prefix + "platform/profile"] == "optimised"
    assert params[prefix + "network/nat-mode"] == p.settings.network.nat.mode
    assert params[prefix + "functions/memory-mb"] == str(p.settings.functions.memory_mb)
    for key in (
        "payments/table-name",
        "alerts/cost-topic-arn",
        "security/db-credentials-secret-arn",
    ):
        assert prefix + key in params
    legacy = platform(env, "legacy")
    legacy_params = {
        r["Properties"]["Name"]: r["Properties"]["Value"]
        for r in legacy.of_type("parameters", "AWS::SSM::Parameter").values()
    }
    assert legacy_params[prefix + "platform/profile"] == "legacy"
    assert legacy_params[prefix + "logs/app-retention-days"] == "never-expire"
