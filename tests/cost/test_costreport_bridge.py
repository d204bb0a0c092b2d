"""The cost bridge: today → levers → security additions → optimised adds up to the estimates'
totals, the levers' saving is the comparison's saving, and security resources are found by what
they are and what writes where."""

from __future__ import annotations

from typing import Any

import pytest
from costreport_helpers import profile_with
from hypothesis import given, settings
from hypothesis import strategies as st

from governance.template import Template
from reports.cost.bridge import build_bridge, security_resources
from reports.cost.catalogue import load_catalogue
from reports.cost.estimate import Assembly, estimate
from reports.cost.model import Comparison
from reports.cost.report import build_report

SECURITY_IDS = {
    "Acl": "waf",
    "AclLogging": "waf_logs",
    "AclLogs": "waf_logs",
    "Detector": "guardduty",
    "Protection": "shield",
    "Rotation": "rotation",
    "RotateFn": "rotation",
    "Trail": "audit_logging",
    "TrailBucket": "audit_logging",
}


def _body(memory: int, arch: str, nats: int, retention: int | None) -> dict[str, Any]:
    res: dict[str, Any] = {
        "Fn": {
            "Type": "AWS::Lambda::Function",
            "Properties": {"MemorySize": memory, "Architectures": [arch]},
        },
        "Logs": {
            "Type": "AWS::Logs::LogGroup",
            "Properties": {"RetentionInDays": retention} if retention else {},
        },
        "Api": {"Type": "AWS::ApiGateway::RestApi"},
        "Acl": {
            "Type": "AWS::WAFv2::WebACL",
            "Properties": {"Rules": [{"Name": "r1"}, {"Name": "r2"}]},
        },
        "AclLogs": {
            "Type": "AWS::Logs::LogGroup",
            "Properties": {"LogGroupName": "aws-waf-logs-api", "RetentionInDays": 30},
        },
        "AclLogging": {
            "Type": "AWS::WAFv2::LoggingConfiguration",
            "Properties": {
                "ResourceArn": {"Fn::GetAtt": ["Acl", "Arn"]},
                "LogDestinationConfigs": [{"Fn::GetAtt": ["AclLogs", "Arn"]}],
            },
        },
        "Detector": {"Type": "AWS::GuardDuty::Detector", "Properties": {"Enable": True}},
        "Protection": {
            "Type": "AWS::Shield::Protection",
            "Properties": {"Name": "api", "ResourceArn": "arn:aws:cloudfront::1:distribution/X"},
        },
        "Secret": {"Type": "AWS::SecretsManager::Secret"},
        "RotateFn": {
            "Type": "AWS::Lambda::Function",
            "Properties": {"MemorySize": memory, "Architectures": [arch]},
        },
        "Rotation": {
            "Type": "AWS::SecretsManager::RotationSchedule",
            "Properties": {
                "SecretId": {"Ref": "Secret"},
                "RotationLambdaARN": {"Fn::GetAtt": ["RotateFn", "Arn"]},
            },
        },
        "TrailBucket": {"Type": "AWS::S3::Bucket"},
        "Trail": {
            "Type": "AWS::CloudTrail::Trail",
            "Properties": {"IsLogging": True, "S3BucketName": {"Ref": "TrailBucket"}},
        },
        "DataBucket": {
            "Type": "AWS::S3::Bucket",
            "Properties": {"LoggingConfiguration": {"DestinationBucketName": {"Ref": "LogBucket"}}},
        },
        "LogBucket": {"Type": "AWS::S3::Bucket"},
    }
    for i in range(nats):
        res[f"Nat{i}"] = {"Type": "AWS::EC2::NatGateway"}
    return {"Resources": res}


def _comparison(before: dict[str, Any], after: dict[str, Any], env: str = "production"):
    catalogue, profile = load_catalogue(), profile_with()
    sides = []
    for label, body in (("before", before), ("after", after)):
        tpl = Template(name="Stack", path=f"{label}.json", body=body)
        sides.append(
            estimate([Assembly(env, [tpl])], label=label, catalogue=catalogue, profile=profile)
        )
    return Comparison(*sides)


def test_security_resources_are_found_by_type_and_by_what_writes_where() -> None:
    tpl = Template(name="Stack", path="s.json", body=_body(512, "arm64", 1, 7))
    found = {key.split("/", 1)[1]: kind for key, kind in security_resources([tpl]).items()}
    assert found == SECURITY_IDS  # the access-log bucket and the data bucket are not security


def test_security_destinations_are_followed_across_stacks_through_exports() -> None:
    storage = Template(
        name="Storage",
        path="storage.json",
        body={
            "Resources": {"Audit": {"Type": "AWS::S3::Bucket"}},
            "Outputs": {
                "AuditArn": {
                    "Value": {"Fn::GetAtt": ["Audit", "Arn"]},
                    "Export": {"Name": "Storage:AuditArn"},
                }
            },
        },
    )
    network = Template(
        name="Network",
        path="network.json",
        body={
            "Resources": {
                "Flow": {
                    "Type": "AWS::EC2::FlowLog",
                    "Properties": {
                        "LogDestinationType": "s3",
                        "LogDestination": {
                            "Fn::Join": ["", [{"Fn::ImportValue": "Storage:AuditArn"}, "/vpc/"]]
                        },
                    },
                }
            }
        },
    )
    assert security_resources([storage, network]) == {
        "Network/Flow": "audit_logging",
        "Storage/Audit": "audit_logging",
    }


def test_the_bridge_adds_up_to_the_totals() -> None:
    comparison = _comparison(_body(3008, "x86_64", 3, None), _body(512, "arm64", 1, 7))
    bridge = build_bridge(comparison)
    before, after = comparison.before, comparison.after
    security_cost = sum(
        i.monthly_cost for i in before.items if i.logical_id in SECURITY_IDS and i.monthly_cost
    )
    assert security_cost > 0
    assert bridge.legacy == pytest.approx(before.total)
    assert bridge.today == pytest.approx(before.total - security_cost)
    assert bridge.security_total == pytest.approx(security_cost)
    running = bridge.today + sum(b.amount for b in bridge.levers) + bridge.security_total
    assert running == pytest.approx(after.total, abs=1e-9)
    assert bridge.optimised == pytest.approx(after.total)
    assert bridge.all_in_change == pytest.approx(after.total - bridge.today)
    bars = bridge.bars
    assert bars[0].kind == "start" and bars[-1].kind == "end"
    assert sum(b.amount for b in bars[1:-1]) == pytest.approx(bars[-1].amount - bars[0].amount)


def test_the_levers_saving_is_what_the_model_computes() -> None:
    comparison = _comparison(_body(3008, "x86_64", 3, None), _body(512, "arm64", 1, 7))
    bridge = build_bridge(comparison)
    assert bridge.levers_saving == pytest.approx(comparison.total.saving)
    by_key = {b.key: b.amount for b in bridge.levers}
    functions = [r for r in comparison.resources() if r.resource_type == "AWS::Lambda::Function"]
    assert by_key["functions"] == pytest.approx(-sum(r.saving for r in functions))
    nats = [r for r in comparison.resources() if r.resource_type == "AWS::EC2::NatGateway"]
    assert by_key["nat"] == pytest.approx(-sum(r.saving for r in nats))
    assert by_key["nat"] < 0
    assert {b.key for b in bridge.security} == set(SECURITY_IDS.values())
    # the rotation function's resize is a lever; its legacy cost is the rotation addition
    rotate = next(i for i in comparison.before.items if i.logical_id == "RotateFn")
    assert {b.key: b.amount for b in bridge.security}["rotation"] == pytest.approx(
        rotate.monthly_cost
    )


def test_environment_bridges_add_up_and_sum_to_the_whole() -> None:
    catalogue, profile = load_catalogue(), profile_with()
    sides = []
    for label, body in (
        ("before", _body(3008, "x86_64", 3, None)),
        ("after", _body(1024, "arm64", 1, 14)),
    ):
        assemblies = [
            Assembly(env, [Template(name="Stack", path=f"{env}-{label}.json", body=body)])
            for env in ("dev", "production")
        ]
        sides.append(estimate(assemblies, label=label, catalogue=catalogue, profile=profile))
    comparison = Comparison(*sides)
    data = build_report(comparison, catalogue=catalogue, profile=profile, has_before=True)
    whole = data["bridge"]
    parts = whole["environments"]
    assert set(parts) == {"dev", "production"}
    for part in [whole, *parts.values()]:
        amounts = [b["amount"] for b in part["bars"]]
        assert amounts[0] + sum(amounts[1:-1]) == pytest.approx(amounts[-1], abs=1e-5)
    assert sum(p["today"] for p in parts.values()) == pytest.approx(whole["today"], abs=1e-5)
    assert whole["levers_saving"] == pytest.approx(data["totals"]["saving"], abs=1e-5)
    assert whole["optimised"] == pytest.approx(data["totals"]["after"], abs=1e-5)


@settings(max_examples=25, deadline=None)
@given(
    memory=st.sampled_from([128, 512, 1024, 3008]),
    arch=st.sampled_from(["x86_64", "arm64"]),
    nats_before=st.integers(0, 3),
    nats_after=st.integers(0, 3),
    retention=st.sampled_from([None, 7, 30, 365]),
)
def test_any_pair_bridges_exactly(
    memory: int, arch: str, nats_before: int, nats_after: int, retention: int | None
) -> None:
    comparison = _comparison(
        _body(3008, "x86_64", nats_before, None), _body(memory, arch, nats_after, retention)
    )
    bridge = build_bridge(comparison)
    assert bridge.today + sum(b.amount for b in bridge.levers) + bridge.security_total == (
        pytest.approx(comparison.after.total, abs=1e-6)
    )
    assert bridge.levers_saving == pytest.approx(comparison.total.saving, abs=1e-6)
