"""The whole platform through the real CLI (``npx cdk synth -c env=...``): governance passes.

``synth_platform`` fails the test when synthesis exits non-zero, which is what an
unacknowledged error from any validation plugin (ours, cdk-nag AwsSolutions, cdk-nag PCI DSS)
does. On top of that: our plugin reports no unsuppressed error, and ``govern check`` over the
same cloud assembly judges the payment stack and finds no error in it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from governance.engine import PLUGIN_NAME

pytestmark = pytest.mark.synth
ROOT = Path(__file__).resolve().parents[3]
#: ``govern`` of this checkout (the venv's console script may belong to another checkout).
GOVERN = (sys.executable, "-m", "governance.cli")


@pytest.mark.parametrize("env", ["dev", "staging", "production"])
def test_platform_synthesizes_with_governance_passing(synth_platform, env):
    out = synth_platform(env)
    report = json.loads((out / "validation-report.json").read_text())
    unsuppressed = [
        (plugin["pluginName"], violation["ruleName"])
        for plugin in report["pluginReports"]
        for violation in plugin["violations"]
        if violation["severity"] == "error"
    ]
    assert [v for v in unsuppressed if v[0] == PLUGIN_NAME] == []
    assert unsuppressed == []

    template = json.loads((out / "Payments.template.json").read_text())
    types = {r["Type"] for r in template["Resources"].values()}
    assert {"AWS::Lambda::Function", "AWS::WAFv2::WebACL", "AWS::DynamoDB::Table"} <= types

    proc = subprocess.run(
        [*GOVERN, "check", str(out), "--env", env, "--format", "json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    result = json.loads(proc.stdout)
    judged = {t["name"] for t in result["templates"]}
    assert f"Payments-{env}" in judged
    errors = [
        (f["rule_id"], f["logical_id"])
        for f in result["findings"]
        if f.get("severity") == "error"
        and f.get("status") != "acknowledged"
        and f.get("stack") == f"Payments-{env}"
    ]
    assert errors == []
