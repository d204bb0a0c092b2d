"""The adoption baseline: record today's findings, then fail only on new ones."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from governance import baseline
from governance.cli import main
from governance.engine import evaluate, verdict
from governance.model import Severity
from governance.policy import Policy
from governance.template import InputError, Template, load_inputs

TODAY = dt.date(2026, 12, 3)
OPEN = {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "0.0.0.0/0"}


def _body(*, ingress: dict | None = None, second: bool = True) -> dict:
    resources = {
        "Sg": {
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {"GroupDescription": "x", "SecurityGroupIngress": [ingress or OPEN]},
        },
        "Key": {"Type": "AWS::KMS::Key", "Properties": {"EnableKeyRotation": False}},
    }
    if not second:
        del resources["Key"]
    return {"Resources": resources}


def _run(body: dict, policy: Policy | None = None):
    return evaluate(
        [Template("App", "App.template.json", body)], policy or Policy.from_context(None)
    )


def _ids(findings) -> set[tuple[str, str]]:
    return {(f.rule_id, f.logical_id) for f in findings}


def test_round_trip_covers_todays_findings_and_only_them(tmp_path):
    today = _run(_body())
    created = baseline.create(today.findings, today.templates, today=TODAY)
    assert {(e.rule, e.stack, e.logical_id, e.accepted) for e in created.entries} >= {
        ("PCI-NET-001", "App", "Sg", TODAY),
        ("ENC-008", "App", "Key", TODAY),
    }
    file = tmp_path / "governance-baseline.json"
    baseline.write(created, file)
    loaded = baseline.load(file)
    assert loaded.entries == created.entries

    again = _run(_body())
    outcome = baseline.apply(again.findings, again.templates, loaded, today=TODAY)
    assert (outcome.stale, outcome.expired) == ([], [])
    assert verdict(again.findings, Severity.ERROR).passed
    sg = next(f for f in again.findings if f.rule_id == "PCI-NET-001")
    assert (sg.status, sg.reason) == ("acknowledged", "in the adoption baseline since 2026-12-03")
    assert sg.exception["kind"] == "baseline" and sg.exception["accepted"] == "2026-12-03"


def test_a_changed_property_is_a_new_finding_and_a_fixed_one_is_stale(tmp_path):
    today = _run(_body())
    loaded = baseline.create(today.findings, today.templates, today=TODAY)
    rdp = {"IpProtocol": "tcp", "FromPort": 3389, "ToPort": 3389, "CidrIp": "0.0.0.0/0"}
    later = _run(_body(ingress=rdp, second=False))
    outcome = baseline.apply(later.findings, later.templates, loaded, today=TODAY)
    blocking = verdict(later.findings, Severity.ERROR).blocking
    assert _ids(blocking) == {("PCI-NET-001", "Sg")}
    assert {(e.rule, e.logical_id) for e in outcome.stale} >= {
        ("PCI-NET-001", "Sg"),
        ("ENC-008", "Key"),
    }
    assert "baseline entry no longer occurs: ENC-008 on App/Key (Properties/EnableKeyRotation)" in (
        outcome.messages()
    )


def test_an_expired_entry_no_longer_covers_its_finding():
    today = _run(_body())
    loaded = baseline.create(
        today.findings, today.templates, today=TODAY, expires=dt.date(2026, 12, 31)
    )
    later = _run(_body())
    outcome = baseline.apply(later.findings, later.templates, loaded, today=dt.date(2027, 1, 1))
    assert outcome.baselined == [] and len(outcome.expired) == len(loaded.entries)
    assert not verdict(later.findings, Severity.ERROR).passed
    assert outcome.messages()[0].startswith("baseline entry expired on 2026-12-31: ")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{", "not a baseline file"),
        ('{"version": 1}', "not a baseline file (no list of entries)"),
        ('{"version": 2, "entries": []}', "baseline version 2 is not 1"),
        ('{"version": 1, "entries": [{"rule": "X"}]}', "entry 0 has no stack"),
        (
            '{"version": 1, "entries": [{"rule": "X", "stack": "S", "logical_id": "L",'
            ' "fingerprint": "f", "expires": "soon"}]}',
            "entry 0.expires must be a date 'YYYY-MM-DD'; got 'soon'",
        ),
    ],
)
def test_a_malformed_baseline_is_one_input_error(tmp_path, text, problem):
    file = tmp_path / "b.json"
    file.write_text(text)
    with pytest.raises(InputError) as info:
        baseline.load(file)
    assert info.value.problem.startswith(problem)


def test_govern_baseline_create_then_check(tmp_path, capsys):
    folder = tmp_path / "tpl"
    folder.mkdir()
    template = folder / "App.template.json"
    template.write_text(json.dumps(_body()))
    config = tmp_path / "cdk.json"
    config.write_text("{}")
    file = tmp_path / "governance-baseline.json"
    common = ["--config", str(config)]
    assert main(["check", str(folder), *common]) == 1
    assert main(["baseline", "create", str(folder), "-o", str(file), *common]) == 0
    entries = json.loads(file.read_text())["entries"]
    assert {(e["rule"], e["logical_id"]) for e in entries} >= {("PCI-NET-001", "Sg")}
    capsys.readouterr()
    assert main(["check", str(folder), "--baseline", str(file), *common]) == 0
    template.write_text(json.dumps(_body(second=False)))
    assert main(["check", str(folder), "--baseline", str(file), *common]) == 0
    err = capsys.readouterr().err
    assert f"govern: {file}: baseline entry no longer occurs: ENC-008 on App/Key" in err
    template.write_text(json.dumps(_body(ingress={**OPEN, "FromPort": 0, "ToPort": 65535})))
    assert main(["check", str(folder), "--baseline", str(file), *common]) == 1
    assert main(["check", str(folder), "--baseline", str(tmp_path / "none.json"), *common]) == 2
    # the policy's baseline key, relative to the config file's directory
    config.write_text(json.dumps({"context": {"governance": {"baseline": file.name}}}))
    template.write_text(json.dumps(_body()))
    assert main(["check", str(folder), *common]) == 0


def test_compliance_report_shows_baselined_findings_with_their_date(tmp_path):
    from reports.compliance.model import build_report

    folder = tmp_path / "tpl"
    folder.mkdir()
    (folder / "App.template.json").write_text(json.dumps(_body()))
    templates, _ = load_inputs([folder])
    today = evaluate(templates, Policy())
    file = tmp_path / "b.json"
    baseline.write(baseline.create(today.findings, today.templates, today=TODAY), file)
    report = build_report([folder], Policy(), checkov=False, baseline=file)
    rows = {(e.rule, e.logical_id): e for e in report.exceptions}
    row = rows[("PCI-NET-001", "Sg")]
    assert (row.state, row.accepted, row.reason) == (
        "baselined",
        "2026-12-03",
        "in the adoption baseline since 2026-12-03",
    )
    assert report.finding_counts()["violation"] == 0


def test_entries_match_by_template_file_whatever_the_stack_is_called():
    """govern check names a stack by its stackName, the plugin by its template file."""
    body = _body()
    named = evaluate([Template("app-prod", "out/App.template.json", body)], Policy())
    created = baseline.create(named.findings, named.templates, today=TODAY)
    assert {e.template for e in created.entries} == {"App.template.json"}
    by_file = evaluate([Template("App", "/elsewhere/App.template.json", body)], Policy())
    outcome = baseline.apply(by_file.findings, by_file.templates, created, today=TODAY)
    assert outcome.stale == [] and verdict(by_file.findings, Severity.ERROR).passed
