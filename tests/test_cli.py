"""`govern check` and `govern rules`: formats, exit codes, bad input as one line on stderr."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from governance.cli import main
from governance.registry import all_rules

DATA = Path(__file__).parent / "data" / "templates"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_clean_template_exits_0(capsys):
    code, out, err = run(
        capsys, "check", str(DATA / "good.yaml"), "--env", "dev", "--config", "/dev/null/none"
    )
    assert (code, err) == (2, "govern: /dev/null/none: cannot read (Not a directory)\n")
    code, out, err = run(capsys, "check", str(DATA / "good.yaml"), "--suffix", "dev")
    assert code == 0, out
    assert "0 error(s)" in out and err == ""


def test_findings_exit_1_with_rule_ids(capsys):
    code, out, _ = run(
        capsys, "check", str(DATA / "bad.json"), "--suffix", "dev", "--format", "json"
    )
    assert code == 1
    doc = json.loads(out)
    assert {f["rule_id"] for f in doc["findings"]} == {
        "LIFE-001",
        "ENC-001",
        "NAME-001",
        "TAG-001",
        "PCI-TLS-001",
        "PCI-BAK-003",
        "COST-S3-001",
    }
    assert doc["summary"]["error"] == len(doc["findings"])
    assert doc["templates"][0]["sha256"]


def test_fail_on_threshold(capsys, tmp_path):
    code, _, _ = run(capsys, "check", str(DATA / "bad.json"), "--fail-on", "error")
    assert code == 1
    categories = {r.category for r in all_rules()}
    demoted = {"governance": {"category_severity": dict.fromkeys(categories, "warning")}}
    policy_file = tmp_path / "cdk.json"
    policy_file.write_text(json.dumps({"context": demoted}))
    code, out, _ = run(capsys, "check", str(DATA / "bad.json"), "--config", str(policy_file))
    assert code == 0 and "0 error(s)" in out  # every rule demoted to a warning by the policy
    code, _, _ = run(
        capsys,
        "check",
        str(DATA / "bad.json"),
        "--config",
        str(policy_file),
        "--fail-on",
        "warning",
    )
    assert code == 1


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('{"Resources": {', "invalid JSON at line 1"),
        ("Resources: [unclosed", "invalid YAML"),
        ('{"Foo": 1}', "not a CloudFormation template"),
        ('{"Resources": {"A": {"Properties": {}}}}', "resource A has no Type"),
    ],
)
def test_malformed_inputs_exit_2_and_others_still_checked(capsys, tmp_path, content, problem):
    bad = tmp_path / "broken.json"
    bad.write_text(content)
    code, out, err = run(capsys, "check", str(bad), str(DATA / "bad.json"), "--format", "json")
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"govern: {bad}: ") and problem in lines[0]
    doc = json.loads(out)
    assert {f["logical_id"] for f in doc["findings"]} == {"Bucket"}  # the good input was judged


def test_missing_path_and_empty_folder(capsys, tmp_path):
    code, _, err = run(capsys, "check", str(tmp_path / "nope"))
    assert code == 2 and err == f"govern: {tmp_path / 'nope'}: no such file or directory\n"
    code, _, err = run(capsys, "check", str(tmp_path))
    assert code == 2 and "folder holds no CloudFormation template" in err


def test_folder_of_templates(capsys):
    code, out, _ = run(capsys, "check", str(DATA), "--suffix", "dev", "--format", "json")
    doc = json.loads(out)
    assert code == 1 and len(doc["templates"]) == 2


def test_usage_error_has_no_traceback():
    proc = subprocess.run(
        [sys.executable, "-m", "governance.cli", "check", "x", "--fail-on", "loud"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "unknown severity 'loud'" in proc.stderr


def test_rules_catalogue(capsys):
    code, out, _ = run(capsys, "rules", "--format", "json")
    ids = [r["id"] for r in json.loads(out)]
    assert code == 0 and "TAG-001" in ids and ids == sorted(ids)
