"""The whole app through the real CLI with both regions in the assembly: governance passes, and
the compliance report's scope names both regions."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from governance.engine import evaluate
from governance.policy import Policy
from governance.registry import get_rule
from governance.template import Template, load_cloud_assembly
from reports.compliance.model import build_report

pytestmark = pytest.mark.synth
ROOT = Path(__file__).resolve().parents[3]


def _policy(env: str) -> Policy:
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    return Policy.from_context(context["governance"], environment=env, suffix=env)


@pytest.mark.parametrize(
    ("env", "regions"),
    [("dev", {"us-east-1", "us-west-2"}), ("staging", {"us-east-1", "us-east-2", "us-west-2"})],
)
def test_both_regions_in_the_assembly_and_the_report_scope(synth_platform, env, regions):
    out = synth_platform(env)
    manifest = json.loads((out / "manifest.json").read_text())
    environments = {
        name: artifact["environment"]
        for name, artifact in manifest["artifacts"].items()
        if artifact.get("type") == "aws:cloudformation:stack" and name.startswith("GlobalData")
    }
    assert len(environments) == 6
    assert {e.rpartition("/")[2] for e in environments.values()} == regions
    report = build_report([out], _policy(env), checkov=False)
    assert regions <= set(report.regions)
    judged = {s.name for s in report.scope}
    assert {f"{name}-{env}" for name in environments} <= judged
    ours = [
        f for f in report.findings
        if f.stack.startswith("GlobalData") and f.severity.name == "ERROR" and not f.acknowledged
    ]  # fmt: skip
    assert ours == []


def test_the_new_rules_judge_the_real_templates_and_catch_a_keyed_health_check(synth_platform):
    """The rules run on the synthesized system, and HC-001 fires when the check moves to /process."""
    policy = _policy("production")
    templates = load_cloud_assembly(synth_platform("production"))
    rules = [get_rule(i) for i in ("REP-001", "HC-001", "ENC-LAMBDA-001", "PARAM-001", "PARAM-002")]
    result = evaluate(templates, policy, rules)
    assert result.findings == []
    assert result.evaluated["REP-001"] == 1 and result.evaluated["HC-001"] == 2
    assert result.evaluated["ENC-LAMBDA-001"] >= 2 and result.evaluated["PARAM-001"] >= 4
    (failover,) = [t for t in templates if t.name.startswith("GlobalDataFailover")]
    body = copy.deepcopy(failover.body)
    config = body["Resources"]["SecondaryHealthCheck"]["Properties"]["HealthCheckConfig"]
    config["ResourcePath"] = config["ResourcePath"].replace("/health", "/process")
    moved = Template(name=failover.name, path=failover.path, body=body)
    moved.environment = failover.environment
    others = [t for t in templates if t is not failover]
    result = evaluate([*others, moved], policy, [get_rule("HC-001")])
    assert [(f.rule_id, f.logical_id) for f in result.findings] == [
        ("HC-001", "SecondaryHealthCheck")
    ]
