"""The cost rules under the real cdk.json policy: per-environment thresholds, legacy profile."""

import json
from pathlib import Path

from governance.engine import evaluate
from governance.model import Severity
from governance.policy import Policy
from governance.registry import all_rules
from governance.template import Template

GOVERNANCE = json.loads((Path(__file__).resolve().parents[2] / "cdk.json").read_text())["context"][
    "governance"
]

#: The legacy platform's shapes (seed 000): 3008 MB x86 functions, provisioned tables, a NAT
#: Gateway per AZ, a bucket without lifecycle, logs that never expire.
LEGACY = {
    "Fn": {
        "Type": "AWS::Lambda::Function",
        "Properties": {"MemorySize": 3008, "Timeout": 300, "Handler": "i.h"},
    },
    "Table": {
        "Type": "AWS::DynamoDB::Table",
        "Properties": {"ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}},
    },
    "Nat1": {"Type": "AWS::EC2::NatGateway", "Properties": {}},
    "Nat2": {"Type": "AWS::EC2::NatGateway", "Properties": {}},
    "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {}},
    "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {}},
}


def cost_findings(policy: Policy):
    rules = [r for r in all_rules() if r.category == "cost"]
    template = Template("Legacy", "Legacy.template.json", {"Resources": LEGACY})
    return evaluate([template], policy, rules).findings


def test_cost_rules_are_errors_by_default_and_warnings_under_legacy():
    default = cost_findings(Policy.from_context(GOVERNANCE, environment="dev"))
    legacy = cost_findings(Policy.from_context(GOVERNANCE, environment="dev", profile="legacy"))
    expected = {
        ("COST-LAMBDA-001", "Fn"),
        ("COST-LAMBDA-002", "Fn"),
        ("COST-LAMBDA-003", "Fn"),
        ("COST-LAMBDA-004", "Fn"),
        ("COST-DDB-001", "Table"),
        ("COST-DDB-002", "Table"),
        ("COST-NAT-001", "Nat1"),
        ("COST-NAT-001", "Nat2"),
        ("COST-S3-001", "Bucket"),
        ("COST-LOG-001", "Logs"),
        ("COST-LOG-003", "Fn"),  # Fn declares no log group of its own
    }
    assert {(f.rule_id, f.logical_id) for f in default} == expected
    assert {(f.rule_id, f.logical_id) for f in legacy} == expected
    assert {f.severity for f in default if f.rule_id != "COST-DDB-002"} == {Severity.ERROR}
    assert {f.severity for f in legacy} == {Severity.WARNING}
    assert all(f.category == "cost" for f in legacy)


def test_environment_thresholds_from_cdk_json():
    by_env = {
        env: {
            (f.rule_id, f.logical_id)
            for f in cost_findings(Policy.from_context(GOVERNANCE, environment=env))
        }
        for env in ("dev", "staging", "production")
    }
    nat = {
        env: {lid for rule, lid in found if rule == "COST-NAT-001"} for env, found in by_env.items()
    }
    assert nat == {"dev": {"Nat1", "Nat2"}, "staging": {"Nat2"}, "production": set()}
    # Production asks for provisioned capacity (with auto-scaling): only the scaling is missing.
    ddb = {env: {rule for rule, lid in found if lid == "Table"} for env, found in by_env.items()}
    assert ddb == {
        "dev": {"COST-DDB-001", "COST-DDB-002"},
        "staging": {"COST-DDB-001", "COST-DDB-002"},
        "production": {"COST-DDB-002"},
    }
