"""Governance on small foreign apps of our own (``tests/data/``), through a real ``cdk synth``.

The apps know nothing of the payment platform: no ``governance`` block, or a broken one.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
from synth_support import run_cdk_synth

DATA = Path(__file__).parent / "data"
pytestmark = pytest.mark.synth


def _copy(name: str, tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp(name)
    shutil.copytree(DATA / name, target, dirs_exist_ok=True)
    return target


def _govern(out: Path) -> dict:
    report = json.loads((out / "validation-report.json").read_text())
    return next(p for p in report["pluginReports"] if p["pluginName"] == "govern")


def _constructs(violations: list[dict], rule: str) -> set[tuple[str, str]]:
    return {
        (c["constructPath"], Path(c["cloudFormationResource"]["templatePath"]).name)
        for v in violations
        if v["ruleName"] == rule
        for c in v["violatingConstructs"]
    }


@pytest.fixture(scope="module")
def nested_app(tmp_path_factory) -> Path:
    return _copy("nested_app", tmp_path_factory)


def test_violation_inside_a_nested_stack_fails_synth(nested_app, tmp_path):
    out = tmp_path / "cdk.out"
    proc = run_cdk_synth(nested_app, out, app=f"{sys.executable} app.py")
    assert proc.returncode != 0
    assert "Foreign/Network/Bastion" in proc.stdout + proc.stderr
    report = _govern(out)
    nested = "ForeignNetwork5076A7DC.nested.template.json"
    assert _constructs(report["violations"], "PCI-NET-001") == {("Foreign/Network/Bastion", nested)}
    # no configuration: security rules at their severity, tagging as warnings, one per resource
    severities = {(v["ruleName"], v["severity"]) for v in report["violations"]}
    assert severities == {("ENC-003", "error"), ("PCI-NET-001", "error"), ("TAG-001", "warning")}
    assert len(_constructs(report["violations"], "TAG-001")) == 3
    summary = [line for line in proc.stderr.splitlines() if line.startswith("govern: ")]
    assert len(summary) == 1
    assert summary[0].startswith(
        "govern: 5 findings (2 errors, 3 warnings) | by rule: TAG-001 3, ENC-003 1, PCI-NET-001 1"
        " | commonest fixes: TAG-001 (3): "
    )
    assert summary[0].endswith(" | tagging rules are warnings until configured")
    assert report["metadata"]["summary"] == summary[0]


def test_acknowledgement_inside_a_nested_stack_reaches_govern_check(nested_app, tmp_path):
    from governance.engine import evaluate
    from governance.policy import Policy
    from governance.template import load_inputs

    out = tmp_path / "cdk.out"
    run_cdk_synth(nested_app, out, {"ack": "1"}, app=f"{sys.executable} app.py")
    report = _govern(out)
    assert _constructs(report["suppressedViolations"], "PCI-NET-001") == {
        ("Foreign/Network/Bastion", "ForeignNetwork5076A7DC.nested.template.json")
    }
    templates, errors = load_inputs([out])
    assert errors == []
    found = [f for f in evaluate(templates, Policy()).findings if f.rule_id == "PCI-NET-001"]
    assert [(f.stack, f.construct_path, f.status) for f in found] == [
        ("Foreign/Network", "Foreign/Network/Bastion", "acknowledged")
    ]


def test_bad_governance_block_is_one_line_and_no_traceback(tmp_path_factory, tmp_path):
    app = _copy("bad_config_app", tmp_path_factory)
    proc = run_cdk_synth(app, tmp_path / "cdk.out", app=f"{sys.executable} app.py")
    assert proc.returncode != 0
    ours = [line for line in proc.stderr.splitlines() if line.startswith("governance:")]
    assert ours == [
        "governance: configuration error: governance.fail_on must be one of info, warning, error;"
        " got 'errors' (did you mean error?)"
    ]
    assert "Traceback" not in proc.stderr
    assert "Subprocess exited with error 2" in proc.stderr


def test_apply_raises_policy_error_when_asked_to():
    import aws_cdk as cdk

    import governance
    from governance.policy import PolicyError

    app = cdk.App(context={"governance": {"mandatory_tag": ["Owner"]}})
    with pytest.raises(PolicyError, match=r"^unknown key governance\.mandatory_tag "):
        governance.apply(app, exit_on_error=False)
    with pytest.raises(SystemExit) as exit_info:
        governance.apply(app)
    assert exit_info.value.code == 2


def test_cross_region_provider_tags_are_acknowledged_with_a_reason(tmp_path_factory, tmp_path):
    from governance.policy import Policy
    from reports.compliance.model import build_report

    app = _copy("cross_region_app", tmp_path_factory)
    out = tmp_path / "cdk.out"
    proc = run_cdk_synth(app, out, app=f"{sys.executable} app.py")
    report = _govern(out)
    tagged = {path for path, _ in _constructs(report["violations"], "TAG-001")}
    cost_tagged = {path for path, _ in _constructs(report["violations"], "COST-TAG-001")}
    assert tagged == set(), proc.stderr[-2000:]
    assert cost_tagged == {"Source/Alerts/Resource", "Target/AlertsArn/Resource"}
    policy = Policy.from_context(
        json.loads((app / "cdk.json").read_text())["context"]["governance"]
    )
    compliance = build_report([out], policy, checkov=False)
    internal = {
        (e.rule, e.construct_path): e.reason
        for e in compliance.exceptions
        if e.state == "cdk-internal"
    }
    providers = {
        "Source/Custom::CrossRegionExportWriterCustomResourceProvider/Role",
        "Source/Custom::CrossRegionExportWriterCustomResourceProvider/Handler",
        "Target/Custom::CrossRegionExportReaderCustomResourceProvider/Role",
        "Target/Custom::CrossRegionExportReaderCustomResourceProvider/Handler",
    }
    assert {path for rule, path in internal if rule == "TAG-001"} == providers
    assert all("after Aspects run" in reason for reason in internal.values())


def test_baseline_from_the_policy_lets_an_existing_app_adopt(tmp_path_factory, tmp_path, capsys):
    from governance.cli import main

    app = _copy("nested_app", tmp_path_factory)
    first = tmp_path / "first.out"
    assert run_cdk_synth(app, first, app=f"{sys.executable} app.py").returncode != 0
    config = app / "cdk.json"
    file = app / "governance-baseline.json"
    assert main(["baseline", "create", str(first), "-o", str(file), "--config", str(config)]) == 0
    settings = json.loads(config.read_text())
    settings["context"] = {"governance": {"baseline": "governance-baseline.json"}}
    config.write_text(json.dumps(settings))
    second = tmp_path / "second.out"
    proc = run_cdk_synth(app, second, app=f"{sys.executable} app.py")
    assert proc.returncode == 0, proc.stderr[-3000:]
    reports = json.loads((second / "validation-report.json").read_text())["pluginReports"]
    assert [p for p in reports if p["pluginName"] == "govern" and p["violations"]] == []
    summary = [line for line in proc.stderr.splitlines() if line.startswith("govern: ")]
    assert summary == ["govern: 0 findings, 5 baselined"]
    capsys.readouterr()
    assert main(["check", str(second), "--config", str(config)]) == 0


def test_cdk_acknowledgement_of_a_non_waivable_rule_in_a_nested_stack_fails(
    tmp_path_factory, tmp_path
):
    app = _copy("nested_app", tmp_path_factory)
    settings = json.loads((app / "cdk.json").read_text())
    settings["context"] = {"governance": {"non_waivable": ["PCI-NET-001"]}}
    (app / "cdk.json").write_text(json.dumps(settings))
    out = tmp_path / "cdk.out"
    proc = run_cdk_synth(app, out, {"cdk_ack": "1"}, app=f"{sys.executable} app.py")
    assert proc.returncode != 0
    report = _govern(out)
    assert _constructs(report["violations"], "GOV-EXC-002") == {
        ("Foreign/Network/Bastion", "ForeignNetwork5076A7DC.nested.template.json")
    }
    assert [v["severity"] for v in report["violations"] if v["ruleName"] == "GOV-EXC-002"] == [
        "fatal"
    ]
