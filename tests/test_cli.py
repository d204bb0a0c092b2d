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


def _config(tmp_path, governance: dict) -> str:
    path = tmp_path / "cdk.json"
    path.write_text(json.dumps({"context": {"governance": governance}}))
    return str(path)


def test_fail_on_threshold(capsys, tmp_path):
    code, _, _ = run(capsys, "check", str(DATA / "bad.json"), "--fail-on", "error")
    assert code == 1
    demoted = {
        "category_severity": dict.fromkeys(sorted({r.category for r in all_rules()}), "warning")
    }
    config = _config(tmp_path, demoted)
    code, out, _ = run(capsys, "check", str(DATA / "bad.json"), "--config", config)
    assert code == 0 and "0 error(s)" in out  # every rule demoted to a warning by the policy
    code, _, _ = run(
        capsys, "check", str(DATA / "bad.json"), "--config", config, "--fail-on", "warning"
    )
    assert code == 1


def test_fail_on_defaults_to_the_policy(capsys, tmp_path):
    """With ``fail_on: warning`` a template whose findings are all warnings fails, as in synth."""
    warnings_only = {
        "fail_on": "warning",
        "category_severity": dict.fromkeys(sorted({r.category for r in all_rules()}), "warning"),
    }
    config = _config(tmp_path, warnings_only)
    argv = ["check", str(DATA / "bad.json"), "--suffix", "dev", "--config", config]
    code, out, _ = run(capsys, *argv, "--format", "json")
    doc = json.loads(out)
    assert {f["severity"] for f in doc["findings"]} == {"warning"} and doc["findings"]
    assert code == 1
    assert run(capsys, *argv, "--fail-on", "error")[0] == 0  # --fail-on overrides the policy
    assert run(capsys, *argv, "--fail-on", "info")[0] == 1
    # fail_on from the chosen environment's layer
    by_env = {**warnings_only, "fail_on": "error", "environments": {"prod": {"fail_on": "warning"}}}
    config = _config(tmp_path, by_env)
    argv = ["check", str(DATA / "bad.json"), "--suffix", "dev", "--config", config]
    assert run(capsys, *argv)[0] == 0
    assert run(capsys, *argv, "--env", "prod")[0] == 1


def test_acknowledged_findings_do_not_fail_the_check(capsys, tmp_path):
    body = json.loads((DATA / "bad.json").read_text())
    records = [
        {"rule": r.id, "id": f"govern::{r.id}", "reason": "accepted by the security review"}
        for r in all_rules()
    ]
    for resource in body["Resources"].values():
        resource.setdefault("Metadata", {})["governance:exceptions"] = records
    template = tmp_path / "acked.json"
    template.write_text(json.dumps(body))
    code, out, _ = run(capsys, "check", str(template), "--suffix", "dev", "--format", "json")
    doc = json.loads(out)
    assert doc["findings"] and {f["status"] for f in doc["findings"]} == {"acknowledged"}
    assert code == 0


def test_a_policy_error_is_one_line_and_exit_2(capsys, tmp_path):
    config = _config(tmp_path, {"rules": {"ENC-01": {"enabled": False}}})
    code, _, err = run(capsys, "check", str(DATA / "bad.json"), "--config", config)
    assert code == 2
    assert (
        err
        == f"govern: {config}: unknown rule id governance.rules.ENC-01 (did you mean ENC-001?)\n"
    )


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


def _program(*args: str) -> subprocess.CompletedProcess[str]:
    """``govern`` as a program (``run``: main, flush, then ``os._exit``)."""
    return subprocess.run(
        [sys.executable, "-m", "governance.cli", *args], capture_output=True, text=True
    )


def test_program_exit_codes_and_output_survive_the_fast_exit(tmp_path):
    report = tmp_path / "report.json"
    found = _program("check", str(DATA), "--suffix", "dev", "--format", "json", "-o", str(report))
    assert found.returncode == 1, found.stderr
    assert len(json.loads(report.read_text())["templates"]) == 2  # written and closed whole
    piped = _program("check", str(DATA / "good.yaml"), "--suffix", "dev", "--format", "json")
    assert piped.returncode in (0, 1) and json.loads(piped.stdout)["summary"]
    assert _program("check").returncode == 2  # argparse's usage error
    assert _program("--help").returncode == 0
    broken = tmp_path / "broken.json"
    broken.write_text('{"Resources": ')
    bad = _program("check", str(broken))
    assert bad.returncode == 2 and bad.stderr.startswith("govern: ")


def _policy(tmp_path: Path, limits: object) -> Path:
    config = tmp_path / "cdk.json"
    config.write_text(json.dumps({"context": {"governance": {"limits": limits}}}))
    return config


def test_limits_from_the_policy_and_flags_over_them(capsys, tmp_path):
    template = DATA / "good.yaml"
    size = template.stat().st_size
    small = _policy(tmp_path, {"max_file_size": size - 1})
    code, _, err = run(capsys, "check", str(template), "--suffix", "dev", "--config", str(small))
    assert code == 2 and err.count("\n") == 1 and "--max-file-size" in err, err
    code, _, err = run(
        capsys, "check", str(template), "--suffix", "dev", "--config", str(small),
        "--max-file-size", str(size),
    )  # fmt: skip
    assert code == 0 and err == "", err
    shallow = _policy(tmp_path, {"max_depth": 2})
    code, _, err = run(capsys, "check", str(template), "--suffix", "dev", "--config", str(shallow))
    assert code == 2 and "nested more than 2 levels deep" in err, err


@pytest.mark.parametrize(
    ("limits", "problem"),
    [
        ({"max_size": 10}, "max_size"),
        ({"max_depth": 0}, "positive whole number"),
        ({"max_depth": True}, "positive whole number"),
        ({"max_yaml_nodes": "many"}, "positive whole number"),
        ([1], "must be an object"),
    ],
)
def test_bad_limits_in_the_policy_are_one_line(capsys, tmp_path, limits, problem):
    config = _policy(tmp_path, limits)
    code, _, err = run(capsys, "check", str(DATA / "good.yaml"), "--config", str(config))
    assert code == 2 and err.count("\n") == 1 and problem in err, err
