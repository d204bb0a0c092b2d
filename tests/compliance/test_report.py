"""The compliance report: model (requirements, exceptions, inventory, evidence) and its formats."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import subprocess
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import jsonschema
import pytest

from governance.cli import main
from governance.model import Finding, Severity
from governance.registry import all_rules
from reports.compliance import csvout, junit, render, sarif
from reports.compliance.model import (
    ACKNOWLEDGED,
    FAIL,
    NOT_COVERED,
    NOT_DECIDABLE,
    NOT_EVALUATED,
    PASS,
    REVIEW,
    RequirementSpec,
    requirement_rows,
    ruleset_version,
    split_environment,
)

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.synth


def _finding(rule_id: str, pci: tuple[str, ...], **kw) -> Finding:
    base = dict(
        rule_id=rule_id,
        severity=Severity.ERROR,
        title="t",
        message="m",
        stack="S",
        logical_id="R",
        resource_type="AWS::S3::Bucket",
        template_path="S.template.json",
        pci=pci,
    )
    return Finding(**{**base, **kw})


def test_requirement_status_from_findings_and_evaluated_counts():
    specs = [
        RequirementSpec("1.1.1", "failing", True, ("A-001",)),
        RequirementSpec("1.1.2", "acknowledged", True, ("B-001",)),
        RequirementSpec("1.1.3", "undecided", True, ("C-001",)),
        RequirementSpec("1.1.4", "clean", True, ("D-001",)),
        RequirementSpec("1.1.5", "nothing judged", True, ("E-001",)),
        RequirementSpec("1.1.6", "no rule", True, ()),
        RequirementSpec("1.1.7", "people", False, ()),
        RequirementSpec("1.1.8", "evidence only", False, ("D-001",)),
        RequirementSpec("1.1.9", "people, but a rule fails", False, ("A-001",)),
    ]
    findings = [
        _finding("A-001", ("1.1.1", "1.1.9")),
        _finding("A-001", ("1.1.1", "1.1.9"), status="acknowledged", reason="fine for now"),
        _finding("B-001", ("1.1.2",), status="acknowledged", reason="fine for now"),
        _finding("C-001", ("1.1.3",), undecidable=True, severity=Severity.WARNING),
        _finding("D-001", ("1.1.4",), source="checkov"),  # other tools never decide a requirement
    ]
    evaluated = Counter({"A-001": 3, "B-001": 1, "C-001": 2, "D-001": 5})
    rows = {r.id: r for r in requirement_rows(specs, findings, evaluated)}
    assert {k: r.status for k, r in rows.items()} == {
        "1.1.1": FAIL,
        "1.1.2": ACKNOWLEDGED,
        "1.1.3": REVIEW,
        "1.1.4": PASS,
        "1.1.5": NOT_EVALUATED,
        "1.1.6": NOT_COVERED,
        "1.1.7": NOT_DECIDABLE,
        "1.1.8": NOT_DECIDABLE,
        "1.1.9": FAIL,
    }
    assert (rows["1.1.1"].evaluated, rows["1.1.1"].violations, rows["1.1.1"].acknowledged) == (
        3,
        1,
        1,
    )
    assert rows["1.1.3"].undecidable == 1 and rows["1.1.4"].evaluated == 5


def test_requirement_counts_match_the_findings(valid_report):
    ours = [f for f in valid_report.findings if f.source == "governance"]
    assert valid_report.requirements, "the standard's requirements are listed"
    for req in valid_report.requirements:
        cited = [f for f in ours if req.id in f.pci]
        assert req.violations == sum(1 for f in cited if not f.acknowledged and not f.undecidable)
        assert req.acknowledged == sum(1 for f in cited if f.acknowledged), req.id
    by_id = {r.id: r for r in valid_report.requirements}
    # ENC-001 on the bucket and ENC-003 on the queue are under governed exceptions
    assert (by_id["3.5.1"].status, by_id["3.5.1"].acknowledged) == (ACKNOWLEDGED, 2)
    counts = valid_report.requirement_counts()
    assert sum(counts.values()) == len(valid_report.requirements)
    assert counts[NOT_DECIDABLE] > 0  # the auditor sees what no template can show


def test_findings_merge_ours_cdk_nag_and_checkov(valid_report):
    by_source = Counter(f.source for f in valid_report.findings)
    nag = {
        (f.rule_id, f.construct_path, f.status, f.reason)
        for f in valid_report.findings
        if f.source == "cdk-nag"
    }
    assert nag == {
        (
            "AwsSolutions-S1",
            "Exceptions/Receipts/Resource",
            "acknowledged",
            "Access logs of test buckets are not kept",
        ),
        (
            "AwsSolutions-S10",
            "Exceptions/Receipts/Resource",
            "acknowledged",
            "Bucket is read through the VPC endpoint only",
        ),
        (
            "AwsSolutions-SQS3",
            "Exceptions/Events/Resource",
            "acknowledged",
            "Events are replayed from the ledger, no DLQ needed",
        ),
        (
            "AwsSolutions-SQS4",
            "Exceptions/Events/Resource",
            "acknowledged",
            "Queue is reached through the VPC endpoint only",
        ),
    }
    if "checkov" not in valid_report.evidence.sources:
        pytest.skip(f"checkov is not installed: {valid_report.notes}")
    assert by_source["checkov"] >= 1
    # checkov's versioning check is PCI-BAK-003 on the same bucket: listed once, both sources
    bak = [f for f in valid_report.findings if f.rule_id == "PCI-BAK-003"]
    assert [f.also_reported_by for f in bak] == [["checkov:CKV_AWS_21"]]
    assert not [f for f in valid_report.findings if f.rule_id == "CKV_AWS_21"]


def test_exceptions_list_every_acknowledgement_with_its_record(valid_report):
    rows = {(e.rule, e.construct_path, e.state) for e in valid_report.exceptions}
    assert {
        ("ENC-001", "Exceptions/Receipts/Resource", "active"),
        ("ENC-003", "Exceptions/Events/Resource", "active"),
        ("AwsSolutions-S1", "Exceptions/Receipts/Resource", "active"),
        # acknowledged on the whole stack, but the queue has no S1 finding
        ("AwsSolutions-S1", "Exceptions/Events/Resource", "unused"),
    } <= rows
    enc = next(e for e in valid_report.exceptions if e.rule == "ENC-001")
    assert (enc.ticket, enc.approver, enc.expires, enc.scope) == (
        "SEC-1234",
        "jane.doe@example.com",
        "2099-12-31",
        "Exceptions/Receipts",
    )


def test_scope_inventory_and_evidence(valid_report, valid_assembly):
    assert [(s.name, s.account, s.region) for s in valid_report.scope] == [
        ("Exceptions", "123456789012", "eu-west-1")
    ]
    assert {(i.resource_type, i.classification) for i in valid_report.inventory} == {
        ("AWS::S3::Bucket", None),
        ("AWS::SQS::Queue", None),
    }
    template = valid_assembly / "Exceptions.template.json"
    assert valid_report.evidence.templates == [
        {
            "name": "Exceptions",
            "path": str(template),
            "sha256": hashlib.sha256(template.read_bytes()).hexdigest(),
            "nested_in": None,
        }
    ]
    # the commit is the judged app's (the assembly's own directory), not this tool's checkout
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=valid_assembly, capture_output=True, text=True
    )
    assert valid_report.evidence.git_commit == (
        head.stdout.strip() if head.returncode == 0 else "not a git checkout"
    )
    generated = dt.datetime.fromisoformat(valid_report.evidence.generated_at)
    assert abs(dt.datetime.now(dt.UTC) - generated) < dt.timedelta(hours=1)


def test_ruleset_version_changes_with_the_rules():
    rules = all_rules()
    assert ruleset_version(rules) == ruleset_version(list(reversed(rules)))
    assert ruleset_version(rules) != ruleset_version(rules[1:])


def test_split_environment():
    assert split_environment("aws://123456789012/eu-west-1") == ("123456789012", "eu-west-1")
    assert split_environment("aws://unknown-account/unknown-region") == (None, None)
    assert split_environment(None) == (None, None)


# --- formats -----------------------------------------------------------------------------------


def test_sarif_is_valid_2_1_0_with_suppressions_and_relative_paths(valid_report, valid_assembly):
    schema = json.loads((DATA / "sarif-schema-2.1.0.json").read_text())
    log = sarif.to_sarif(valid_report, base=valid_assembly.parent)
    jsonschema.Draft4Validator(schema).validate(log)
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert len({r["id"] for r in rules}) == len(rules)
    assert len(run["results"]) == len(valid_report.findings)
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        loc = result["locations"][0]
        assert loc["physicalLocation"]["artifactLocation"]["uri"] == (
            f"{valid_assembly.name}/Exceptions.template.json"
        )
        assert loc["physicalLocation"]["region"]["startLine"] > 1
    enc = next(r for r in run["results"] if r["ruleId"] == "ENC-001")
    assert enc["suppressions"] == [
        {
            "kind": "inSource",
            "status": "accepted",
            "justification": "Receipts hold no account data; SSE-S3 accepted until the KMS "
            "migration (ticket SEC-1234; approved by jane.doe@example.com; expires 2099-12-31)",
        }
    ]
    enc_rule = rules[enc["ruleIndex"]]
    assert "PCI-DSS-v4.0.1/3.5.1" in enc_rule["properties"]["tags"]
    assert sum(1 for r in run["results"] if "suppressions" in r) == sum(
        1 for f in valid_report.findings if f.acknowledged
    )


def test_sarif_start_line_points_at_the_resource(valid_report, valid_assembly):
    template = valid_assembly / "Exceptions.template.json"
    lines = template.read_text().splitlines()
    for f in valid_report.findings:
        line = sarif.resource_line(str(template), f.logical_id)
        assert lines[line - 1].strip().startswith(f'"{f.logical_id}"')


def test_junit_has_a_suite_per_stack_and_a_case_per_rule_and_resource(valid_report):
    root = ET.fromstring(junit.to_junit(valid_report))
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["Exceptions"]
    cases = suites[0].findall("testcase")
    failed = {c.get("name") for c in cases if c.find("failure") is not None}
    skipped = {c.get("name") for c in cases if c.find("skipped") is not None}
    pairs = {(f.rule_id, f.logical_id) for f in valid_report.findings}
    active = {(f.rule_id, f.logical_id) for f in valid_report.findings if not f.acknowledged}
    assert failed == {f"{r} {lid}" for r, lid in active}
    assert skipped == {f"{r} {lid}" for r, lid in pairs - active}
    assert int(root.get("tests")) == len(cases) > len(pairs)  # passed pairs are cases too
    assert (int(root.get("failures")), int(root.get("skipped"))) == (len(failed), len(skipped))


def test_csv_has_a_row_per_finding_and_defuses_formulas(valid_report):
    rows = list(csv.DictReader(io.StringIO(csvout.to_csv(valid_report))))
    assert len(rows) == len(valid_report.findings)
    enc = next(r for r in rows if r["rule_id"] == "ENC-001")
    assert (enc["status"], enc["ticket"], enc["expires"]) == (
        "acknowledged",
        "SEC-1234",
        "2099-12-31",
    )
    assert csvout._safe("=HYPERLINK(1)") == "'=HYPERLINK(1)"


def test_html_escapes_markup_from_templates(hostile_html):
    text = hostile_html.read_text()
    assert "<script>alert(1)</script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "<img src=x" not in text
    assert "http://" not in text.replace("http://json-schema", "") and "https://" not in text
    assert "<link" not in text and "src=" not in text.replace("src=x", "")


def test_json_report_matches_the_model(valid_report):
    data = json.loads(render.render_json(valid_report))
    assert data["summary"]["findings"] == valid_report.finding_counts()
    assert len(data["findings"]) == len(valid_report.findings)
    assert data["scope"]["accounts"] == ["123456789012"]
    enc = next(f for f in data["findings"] if f["rule_id"] == "ENC-001")
    assert enc["exception"]["approver"] == "jane.doe@example.com"


# --- the command -------------------------------------------------------------------------------


def test_command_writes_several_formats_in_one_run(valid_assembly, policy_file, tmp_path, capsys):
    outs = [tmp_path / f"r.{ext}" for ext in ("html", "json", "sarif", "xml", "csv")]
    argv = ["report", "compliance", str(valid_assembly), "--config", str(policy_file)]
    argv += ["--no-checkov", "--base", str(valid_assembly.parent)]
    for out in outs:
        argv += ["-o", str(out)]
    assert main(argv) == 0
    assert capsys.readouterr().err == "govern: checkov was not run (--no-checkov)\n"
    assert outs[0].read_text().startswith("<!DOCTYPE html>")
    assert json.loads(outs[1].read_text())["schema_version"] == "1"
    assert json.loads(outs[2].read_text())["version"] == "2.1.0"
    assert ET.fromstring(outs[3].read_text()).tag == "testsuites"
    assert outs[4].read_text().startswith("severity,status,rule_id")


def test_command_bad_input_is_one_line_and_exit_2(tmp_path, capsys):
    code = main(["report", "compliance", str(tmp_path / "missing"), "--no-checkov"])
    assert code == 2
    assert capsys.readouterr().err == f"govern: {tmp_path / 'missing'}: no such file or directory\n"


def test_missing_checkov_is_one_note_and_the_report_carries_on(valid_assembly, report_policy):
    from reports.compliance.model import build_report

    report = build_report([valid_assembly], report_policy, checkov="/nonexistent/checkov")
    assert report.notes == [
        "checkov is not installed at /nonexistent/checkov; its checks were skipped"
    ]
    assert "checkov" not in report.evidence.sources
    assert not [f for f in report.findings if f.source == "checkov"]
    assert report.findings
