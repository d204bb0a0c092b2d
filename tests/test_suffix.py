"""``-c suffix=`` through the real CLI: it renames every physical name, judged by NAME-001 under
the policy ``app.py`` builds from the same suffix; an empty or invalid suffix is refused."""

import importlib.util
import json
from pathlib import Path

import pytest
from synth_support import ROOT, run_cdk_synth

from governance.engine import evaluate
from governance.policy import Policy
from governance.registry import get_rule
from governance.template import load_cloud_assembly

pytestmark = pytest.mark.synth


def _configure(**changes: str):  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("platform_app_suffix", ROOT / "app.py")
    assert spec and spec.loader
    app = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(app)
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    return app.configure({**context, **changes})


def test_suffix_override_reaches_every_physical_name(tmp_path: Path):
    out = tmp_path / "cdk.out"
    proc = run_cdk_synth(ROOT, out, {"env": "dev", "suffix": "pr42"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    templates = load_cloud_assembly(out)
    assert {t.name.rsplit("-", 1)[-1] for t in templates} == {"pr42"}  # stack names too
    naming = [get_rule("NAME-001")]
    _, policy = _configure(env="dev", suffix="pr42")
    assert policy.suffix == "pr42"
    assert evaluate(templates, policy, naming).findings == []
    # the same templates judged against the default suffix: every explicit name is reported
    wrong = evaluate(templates, Policy(suffix="dev"), naming)
    assert wrong.evaluated["NAME-001"] > 0
    assert len(wrong.findings) > 10
    names = {
        r.properties.get("TableName") for t in templates for r in t.of_type("AWS::DynamoDB::Table")
    }
    assert "payment-transactions-pr42" in names


@pytest.mark.parametrize("suffix", ["", "PR-42", "pr42-"])
def test_an_empty_or_invalid_suffix_is_refused_by_the_cli(tmp_path: Path, suffix: str):
    proc = run_cdk_synth(ROOT, tmp_path / "cdk.out", {"env": "dev", "suffix": suffix})
    assert proc.returncode != 0
    errors = [line for line in proc.stderr.splitlines() if "configuration error" in line]
    assert errors == [
        "configuration error: suffix must be 1-20 lower-case letters, digits or hyphens, "
        f"starting and ending with a letter or digit; got {suffix!r}"
    ]
    assert "Traceback" not in proc.stderr and "layer" not in proc.stderr
    assert not (tmp_path / "cdk.out" / "manifest.json").exists()
