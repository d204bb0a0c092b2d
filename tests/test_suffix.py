"""`-c suffix=pr42` renames every physical name of the platform (judged by NAME-001 itself)."""

from pathlib import Path

import pytest
from synth_support import ROOT, run_cdk_synth

from governance.engine import evaluate
from governance.policy import Policy
from governance.registry import get_rule
from governance.template import load_cloud_assembly

pytestmark = pytest.mark.synth


def test_suffix_override_reaches_every_physical_name(tmp_path: Path):
    out = tmp_path / "cdk.out"
    proc = run_cdk_synth(ROOT, out, {"env": "dev", "suffix": "pr42"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    templates = load_cloud_assembly(out)
    assert {t.name.rsplit("-", 1)[-1] for t in templates} == {"pr42"}  # stack names too
    naming = [get_rule("NAME-001")]
    assert evaluate(templates, Policy(suffix="pr42"), naming).findings == []
    # the same templates judged against the default suffix: every explicit name is reported
    wrong = evaluate(templates, Policy(suffix="dev"), naming)
    assert wrong.evaluated["NAME-001"] > 0
    assert len(wrong.findings) > 10
    names = {
        r.properties.get("TableName") for t in templates for r in t.of_type("AWS::DynamoDB::Table")
    }
    assert "payment-transactions-pr42" in names
