"""Governance during a real `npx cdk synth`: failing with rule ids, passing once acknowledged."""

import json
import shutil
import sys
from pathlib import Path

import pytest
from synth_support import run_cdk_synth

SMALL_APP = Path(__file__).parent / "data" / "small_app"
EXPECTED = {"ENC-002", "ENC-003", "ENC-008", "LIFE-001", "LIFE-002", "NAME-001", "TAG-001"}
pytestmark = pytest.mark.synth


@pytest.fixture(scope="module")
def app_dir(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("small_app")
    shutil.copytree(SMALL_APP, target, dirs_exist_ok=True)
    return target


def _govern_report(out: Path) -> dict:
    report = json.loads((out / "validation-report.json").read_text())
    return next(p for p in report["pluginReports"] if p["pluginName"] == "govern")


def test_violations_fail_synth_with_the_expected_rules(app_dir, tmp_path):
    out = tmp_path / "cdk.out"
    proc = run_cdk_synth(
        app_dir, out, {"env": "test", "suffix": "test"}, app=f"{sys.executable} app.py"
    )
    assert proc.returncode != 0
    assert (
        "Synthesis finished with errors" in proc.stderr
        or "Validation failed" in proc.stderr + proc.stdout
    )
    report = _govern_report(out)
    assert report["conclusion"] == "failure"
    assert {v["ruleName"] for v in report["violations"]} == EXPECTED
    tagged = [v for v in report["violations"] if v["ruleName"] == "TAG-001"]
    assert "DataClassification" in tagged[0]["description"]
    assert all(
        c["cloudFormationResource"]["propertyPaths"]
        for v in report["violations"]
        for c in v["violatingConstructs"]
    )


def test_acknowledged_findings_pass_and_reasons_reach_the_report(app_dir, tmp_path):
    out = tmp_path / "cdk.out"
    proc = run_cdk_synth(
        app_dir, out, {"env": "test", "suffix": "test", "ack": "1"}, app=f"{sys.executable} app.py"
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = _govern_report(out)
    assert report["conclusion"] == "success"
    suppressed = {v["ruleName"]: v["reason"] for v in report["suppressedViolations"]}
    assert set(suppressed) == EXPECTED
    assert suppressed["LIFE-001"] == "Ledger must survive stack deletion for 7-year retention"


def test_acknowledgement_needs_a_reason():
    import aws_cdk as cdk

    import governance

    stack = cdk.Stack(cdk.App(), "S")
    with pytest.raises(ValueError, match="at least 10 characters"):
        governance.acknowledge(stack, "ENC-001", "  ok ")
