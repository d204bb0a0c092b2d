"""The policy of an app with no configuration: security and lifecycle rules at their severities,
cost, naming and tagging rules as warnings until the app configures them; and the summary line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from governance.engine import evaluate
from governance.model import Category, Finding, Severity
from governance.plugin import summary_line
from governance.policy import Policy
from governance.registry import all_rules
from governance.template import Template

ROOT = Path(__file__).resolve().parent.parent
UNCONFIGURED = (Category.COST, Category.NAMING, Category.TAGGING)


def _severities(policy: Policy) -> dict[str, Severity]:
    return {r.id: policy.severity_for(r.id, r.category, r.severity) for r in all_rules()}


def test_no_configuration_lowers_only_cost_naming_and_tagging():
    policy = Policy.from_context(None)
    assert policy.provisional == UNCONFIGURED
    got = _severities(policy)
    for r in all_rules():
        expected = min(r.severity, Severity.WARNING) if r.category in UNCONFIGURED else r.severity
        assert got[r.id] == expected, r.id
    assert got["COST-LAMBDA-002"] == got["TAG-001"] == got["NAME-001"] == Severity.WARNING
    assert got["LIFE-001"] == got["ENC-001"] == got["PCI-NET-001"] == Severity.ERROR


@pytest.mark.parametrize(
    ("block", "suffix", "still_provisional"),
    [
        ({"thresholds": {"lambda_memory_max_mb": 512}}, None, (Category.NAMING, Category.TAGGING)),
        ({"environments": {"dev": {}}}, None, (Category.COST, Category.TAGGING)),
        ({}, "pr42", (Category.COST, Category.TAGGING)),
        ({"tag_values": {"Owner": "me"}}, None, (Category.COST, Category.NAMING)),
        ({"mandatory_tags": ["Owner"]}, None, (Category.COST, Category.NAMING)),
        (
            {"environments": {"dev": {"thresholds": {"nat_gateways_max": 0}}}},
            None,
            (Category.TAGGING,),
        ),
    ],
)
def test_each_category_is_configured_by_its_own_keys(block, suffix, still_provisional):
    env = "dev" if "environments" in block else None
    policy = Policy.from_context(block, environment=env, suffix=suffix)
    assert policy.provisional == still_provisional


def test_explicit_severities_win_over_the_provisional_warning():
    block = {"category_severity": {"cost": "error"}, "rules": {"TAG-001": {"severity": "info"}}}
    got = _severities(Policy.from_context(block))
    assert got["COST-LAMBDA-002"] == Severity.ERROR
    assert got["TAG-001"] == Severity.INFO
    assert got["NAME-001"] == Severity.WARNING


@pytest.mark.parametrize("env", ["dev", "staging", "production"])
def test_our_platform_policy_is_fully_configured(env):
    block = json.loads((ROOT / "cdk.json").read_text())["context"]["governance"]
    policy = Policy.from_context(block, environment=env)
    assert policy.provisional == ()
    assert _severities(policy)["COST-LAMBDA-002"] == Severity.ERROR


def test_findings_on_an_unconfigured_app_have_the_default_severities():
    body = {
        "Resources": {
            "Fn": {
                "Type": "AWS::Lambda::Function",
                "Properties": {"Runtime": "python3.12", "MemorySize": 4096, "Timeout": 900},
            },
            "Sg": {
                "Type": "AWS::EC2::SecurityGroup",
                "Properties": {
                    "GroupDescription": "x",
                    "SecurityGroupIngress": [
                        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "0.0.0.0/0"}
                    ],
                },
            },
        }
    }
    findings = evaluate(
        [Template("App", "App.template.json", body)], Policy.from_context(None)
    ).findings
    by_rule = {(f.rule_id, f.logical_id): f.severity for f in findings}
    assert by_rule[("PCI-NET-001", "Sg")] == Severity.ERROR
    assert by_rule[("COST-LAMBDA-002", "Fn")] == Severity.WARNING
    assert by_rule[("TAG-001", "Sg")] == Severity.WARNING
    assert {f.logical_id for f in findings if f.rule_id == "TAG-001"} == {"Fn", "Sg"}
    assert all(
        f.severity == Severity.WARNING
        for f in findings
        if f.category in {"cost", "naming", "tagging"}
    )


def _finding(
    rule: str, severity: Severity, fix: str, category: str = "encryption", **kw
) -> Finding:
    return Finding(
        rule,
        severity,
        rule,
        "m",
        "S",
        kw.pop("logical_id", "R"),
        "T",
        "t.json",
        fix=fix,
        category=category,
        **kw,
    )


def test_summary_line_counts_by_severity_and_rule_and_names_three_fixes():
    findings = [
        *[
            _finding(
                "TAG-001", Severity.WARNING, "Tag it. More words.", "tagging", logical_id=f"R{i}"
            )
            for i in range(3)
        ],
        _finding("ENC-001", Severity.ERROR, "Encrypt it."),
        _finding("ENC-001", Severity.ERROR, "Encrypt it."),
        _finding("LIFE-001", Severity.ERROR, "Retain it."),
        _finding("PCI-NET-001", Severity.ERROR, "Close it."),
        _finding(
            "ENC-002", Severity.ERROR, "Key it.", status="acknowledged", reason="accepted risk here"
        ),
    ]
    line = summary_line(findings, Policy.from_context(None))
    assert line == (
        "govern: 7 findings (4 errors, 3 warnings), 1 acknowledged"
        " | by rule: TAG-001 3, ENC-001 2, LIFE-001 1, PCI-NET-001 1"
        " | commonest fixes: TAG-001 (3): Tag it; ENC-001 (2): Encrypt it; LIFE-001 (1): Retain it"
        " | tagging rules are warnings until configured"
    )
    assert summary_line([], Policy()) == ""
