"""COST-NAT-001, COST-API-001: counts across every template of a run."""

import dataclasses

from helpers import failing, undecided

from governance.engine import evaluate
from governance.policy import Policy, Thresholds
from governance.registry import get_rule
from governance.template import Template

NAT = {"Type": "AWS::EC2::NatGateway", "Properties": {"SubnetId": "subnet-1"}}
API = {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "api-dev"}}


def env_policy(**values) -> Policy:
    return Policy(
        environment="dev", suffix="dev", thresholds=dataclasses.replace(Thresholds(), **values)
    )


def tpl(name: str, resources: dict, **extra) -> Template:
    return Template(name, f"{name}.template.json", {"Resources": resources, **extra})


def judged(rule_id: str, templates: list[Template], policy: Policy) -> set[tuple[str, str, bool]]:
    findings = evaluate(templates, policy, [get_rule(rule_id)]).findings
    return {(f.stack, f.logical_id, f.undecidable) for f in findings}


def test_cost_nat_001_counts_across_templates():
    network = tpl("Network", {"NatB": NAT, "NatA": NAT})
    edge = tpl("Edge", {"NatC": NAT, "Bucket": {"Type": "AWS::S3::Bucket"}})
    rule = "COST-NAT-001"
    # Ranked by (stack, logical id): Edge/NatC, Network/NatA, Network/NatB.
    assert judged(rule, [network, edge], env_policy(nat_gateways_max=1)) == {
        ("Network", "NatA", False),
        ("Network", "NatB", False),
    }
    # The same gateways whatever order the templates come in.
    assert judged(rule, [edge, network], env_policy(nat_gateways_max=1)) == {
        ("Network", "NatA", False),
        ("Network", "NatB", False),
    }
    assert judged(rule, [network, edge], env_policy(nat_gateways_max=0)) == {
        ("Edge", "NatC", False),
        ("Network", "NatA", False),
        ("Network", "NatB", False),
    }
    assert judged(rule, [network, edge], env_policy(nat_gateways_max=3)) == set()
    assert judged(rule, [network, edge], env_policy(nat_gateways_max=None)) == set()
    # Judged alone, one template has fewer gateways.
    assert judged(rule, [network], env_policy(nat_gateways_max=1)) == {("Network", "NatB", False)}


def test_cost_nat_001_conditions():
    conditions = {
        "Never": {"Fn::Equals": ["a", "b"]},
        "Maybe": {"Fn::Equals": [{"Ref": "Env"}, "production"]},
    }
    resources = {
        "Nat1": NAT,
        "Nat2": {**NAT, "Condition": "Never"},  # never created: not counted
        "Nat3": NAT,
        "Nat4": {**NAT, "Condition": "Maybe"},
        "Nat5": NAT,
    }
    extra = {"Conditions": conditions, "Parameters": {"Env": {"Type": "String"}}}
    policy = env_policy(nat_gateways_max=1)
    assert failing("COST-NAT-001", resources, policy, **extra) == {"Nat3"}
    assert undecided("COST-NAT-001", resources, policy, **extra) == {"Nat4", "Nat5"}


def test_cost_nat_001_environment_allowance_from_policy():
    resources = {"NatA": NAT, "NatB": NAT, "NatC": NAT}
    assert failing("COST-NAT-001", resources, env_policy(nat_gateways_max=0)) == {
        "NatA",
        "NatB",
        "NatC",
    }
    assert failing("COST-NAT-001", resources, env_policy(nat_gateways_max=2)) == {"NatC"}


def test_cost_api_001_counts_across_templates():
    payments = tpl("Payments", {"PaymentsApi": API})
    webhooks = tpl("Webhooks", {"WebhookApi": API, "AdminApi": API})
    http = tpl("Http", {"HttpApi": {"Type": "AWS::ApiGatewayV2::Api", "Properties": {}}})
    rule = "COST-API-001"
    # Ranked: Payments/PaymentsApi, Webhooks/AdminApi, Webhooks/WebhookApi. HTTP APIs not counted.
    assert judged(rule, [webhooks, http, payments], env_policy()) == {
        ("Webhooks", "AdminApi", False),
        ("Webhooks", "WebhookApi", False),
    }
    assert judged(rule, [payments, http], env_policy()) == set()
    assert judged(rule, [payments, webhooks], env_policy(rest_apis_max=2)) == {
        ("Webhooks", "WebhookApi", False)
    }
    assert judged(rule, [payments, webhooks], env_policy(rest_apis_max=None)) == set()
