"""checkov beside our rules: its JSON read into findings, duplicates of ours merged."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from governance.checkov import (
    CHECKOV_TO_RULES,
    checkov_command,
    find_checkov,
    merge,
    parse_checkov_output,
    run_checkov,
)
from governance.model import Finding, Severity
from governance.registry import all_rules
from governance.template import load_template_file


@pytest.fixture
def template(tmp_path) -> Path:
    body = {
        "Resources": {
            "Bucket": {
                "Type": "AWS::S3::Bucket",
                "Metadata": {"aws:cdk:path": "S/Bucket/Resource"},
            },
            "Queue": {"Type": "AWS::SQS::Queue"},
        }
    }
    path = tmp_path / "S.template.json"
    path.write_text(json.dumps(body, indent=1))
    return path


def _check(check_id: str, resource: str, path: Path, key: str = "Properties/X") -> dict:
    return {
        "check_id": check_id,
        "check_name": f"Ensure {check_id}",
        "check_result": {"result": "FAILED", "evaluated_keys": [key]},
        "file_abs_path": str(path),
        "resource": resource,
        "severity": None,
        "guideline": None,
    }


def test_every_mapped_rule_is_registered_and_ids_look_like_checkov():
    registered = {r.id for r in all_rules()}
    assert {rid for ids in CHECKOV_TO_RULES.values() for rid in ids} - registered == set()
    assert [k for k in CHECKOV_TO_RULES if not k.startswith(("CKV_AWS_", "CKV2_AWS_"))] == []


def test_parse_reads_failed_checks_of_one_or_many_reports(template):
    tpl = load_template_file(template)
    report = {
        "check_type": "cloudformation",
        "results": {
            "failed_checks": [
                _check("CKV_AWS_21", "AWS::S3::Bucket.Bucket", template, "Properties/Versioning"),
                _check("CKV_AWS_27", "AWS::SQS::Queue.Queue", template),
                _check("CKV_AWS_27", "AWS::SQS::Queue.Elsewhere", Path("/other/file.json")),
            ]
        },
        "summary": {"passed": 4, "failed": 3, "checkov_version": "9.9.9"},
    }
    for data in (report, [report, {"check_type": "secrets", "results": {}}]):
        run = parse_checkov_output(data, [tpl])
        assert (run.version, run.passed, run.failed) == ("9.9.9", 4, 3)
        assert [(f.rule_id, f.logical_id, f.source) for f in run.findings] == [
            ("CKV_AWS_21", "Bucket", "checkov"),
            ("CKV_AWS_27", "Queue", "checkov"),
        ]
    bucket = run.findings[0]
    assert (bucket.construct_path, bucket.property_path, bucket.severity) == (
        "S/Bucket/Resource",
        "Properties/Versioning",
        Severity.WARNING,
    )


def _ours(rule_id: str, logical_id: str, path: str = "S.template.json") -> Finding:
    return Finding(rule_id, Severity.ERROR, "t", "m", "S", logical_id, "T", path)


def test_merge_lists_a_duplicate_once_with_both_sources():
    ours = [_ours("PCI-BAK-003", "Bucket"), _ours("ENC-003", "Queue")]
    theirs = [
        Finding(
            "CKV_AWS_21",
            Severity.WARNING,
            "t",
            "m",
            "S",
            "Bucket",
            "T",
            "S.template.json",
            source="checkov",
        ),
        Finding(
            "CKV_AWS_21",
            Severity.WARNING,
            "t",
            "m",
            "S",
            "Other",
            "T",
            "S.template.json",
            source="checkov",
        ),
        Finding(
            "CKV_AWS_18",
            Severity.WARNING,
            "t",
            "m",
            "S",
            "Bucket",
            "T",
            "S.template.json",
            source="checkov",
        ),
        Finding(
            "CKV_AWS_27",
            Severity.WARNING,
            "t",
            "m",
            "S",
            "Queue",
            "T",
            "X.template.json",
            source="checkov",
        ),
    ]
    merged = merge(ours, theirs)
    assert [(f.source, f.rule_id, f.logical_id) for f in merged] == [
        ("governance", "PCI-BAK-003", "Bucket"),
        ("governance", "ENC-003", "Queue"),
        ("checkov", "CKV_AWS_21", "Other"),  # same check, another resource
        ("checkov", "CKV_AWS_18", "Bucket"),  # another control
        ("checkov", "CKV_AWS_27", "Queue"),  # another template
    ]
    assert ours[0].also_reported_by == ["checkov:CKV_AWS_21"]
    assert ours[1].also_reported_by == []


def test_command_is_offline_and_names_every_template(tmp_path):
    cmd = checkov_command(Path("/x/checkov"), ["a.json", "b.json"])
    assert cmd[:1] == ["/x/checkov"]
    assert "--skip-download" in cmd and cmd[-4:] == ["-f", "a.json", "-f", "b.json"]


def test_explicit_checkov_that_is_missing_is_not_replaced(template):
    assert find_checkov("/nonexistent/checkov") is None
    run = run_checkov([load_template_file(template)], "/nonexistent/checkov")
    assert run.findings == [] and "not installed" in run.error


def test_real_checkov_on_a_template(template):
    exe = find_checkov()
    if exe is None:
        pytest.skip("checkov is not installed (make .checkov-venv/.installed)")
    assert os.access(exe, os.X_OK)
    run = run_checkov([load_template_file(template)])
    assert run.error is None, run.error
    found = {(f.rule_id, f.logical_id) for f in run.findings}
    # an unversioned bucket without access logs, whatever else checkov adds over time
    assert {("CKV_AWS_21", "Bucket"), ("CKV_AWS_18", "Bucket")} <= found
    assert {f.source for f in run.findings} == {"checkov"}
