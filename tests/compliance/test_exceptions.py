"""Governed exceptions: records reach the template, expiry and non-waivable rules fail synth."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from governance.cli import main
from governance.engine import evaluate
from governance.exceptions import (
    EXPIRED,
    METADATA_KEY,
    NON_WAIVABLE,
    ExceptionRecord,
    cdk_acknowledgements,
    govern_exceptions,
    is_non_waivable,
    parse_expires,
)
from governance.model import Finding, Severity
from governance.policy import Policy
from governance.registry import get_rule
from governance.template import Template, load_cloud_assembly

TODAY = dt.date(2026, 6, 1)


def _record(**kw) -> dict:
    base = {
        "rule": "ENC-003",
        "id": "govern::ENC-003",
        "reason": "event ids only, accepted",
        "ticket": "SEC-1",
        "approver": "a@example.com",
        "expires": "2026-12-31",
    }
    return {**base, **kw}


def _template(*records: dict) -> Template:
    return Template(
        name="T",
        path="T.template.json",
        body={
            "Resources": {
                "Queue": {
                    "Type": "AWS::SQS::Queue",
                    "Metadata": {"aws:cdk:path": "T/Queue/Resource", METADATA_KEY: list(records)},
                },
                "Plain": {"Type": "AWS::SQS::Queue"},
            }
        },
    )


def _run(template: Template, policy: Policy) -> list[Finding]:
    """ENC-003 over the template, then the exception checks as of ``TODAY``."""
    findings = evaluate([template], Policy(), [get_rule("ENC-003")]).findings
    for f in findings:  # evaluate() judged them as of the real today; start from scratch
        f.status, f.reason, f.exception = "violation", None, None
    findings = [f for f in findings if f.rule_id == "ENC-003"]
    return findings + govern_exceptions([template], findings, policy, TODAY)


def test_parse_expires_accepts_dates_and_iso_text_only():
    assert parse_expires(None) is None
    assert parse_expires("2026-01-31") == dt.date(2026, 1, 31)
    assert parse_expires(dt.datetime(2026, 1, 31, 10, 0)) == dt.date(2026, 1, 31)
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        parse_expires("31/01/2026")
    with pytest.raises(ValueError):
        parse_expires(20260131)


def test_record_round_trips_and_unreadable_expiry_counts_as_expired():
    rec = ExceptionRecord.from_metadata(_record())
    assert rec == ExceptionRecord(
        rule="ENC-003",
        reason="event ids only, accepted",
        plugin="govern",
        ticket="SEC-1",
        approver="a@example.com",
        expires=dt.date(2026, 12, 31),
    )
    assert ExceptionRecord.from_metadata(rec.to_metadata()) == rec
    assert ExceptionRecord.from_metadata({"rule": 3}) is None
    assert ExceptionRecord.from_metadata(_record(expires="soon")).expired(TODAY)


def test_non_waivable_matches_full_or_bare_rule_id():
    policy = Policy(non_waivable=("ENC-003", "AwsSolutions::AwsSolutions-IAM4"))
    assert is_non_waivable(policy, "govern::ENC-003")
    assert is_non_waivable(policy, "ENC-003")
    assert is_non_waivable(policy, "AwsSolutions::AwsSolutions-IAM4")
    assert not is_non_waivable(policy, "govern::ENC-001")


def test_valid_record_acknowledges_its_finding_and_carries_the_record():
    findings = _run(_template(_record()), Policy())
    by_id = {f.logical_id: f for f in findings}
    assert set(by_id) == {"Queue", "Plain"}
    assert by_id["Queue"].status == "acknowledged"
    assert by_id["Queue"].reason == "event ids only, accepted"
    assert by_id["Queue"].exception["ticket"] == "SEC-1"
    assert by_id["Queue"].exception["expired"] is False
    assert by_id["Plain"].status == "violation" and by_id["Plain"].exception is None


def test_expired_record_is_a_violation_again_plus_gov_exc_001():
    findings = _run(_template(_record(expires="2026-05-31")), Policy())
    assert sorted((f.rule_id, f.logical_id, f.status) for f in findings) == [
        ("ENC-003", "Plain", "violation"),
        ("ENC-003", "Queue", "violation"),
        (EXPIRED, "Queue", "violation"),
    ]
    expired = next(f for f in findings if f.rule_id == EXPIRED)
    assert expired.severity == Severity.ERROR
    assert "expired on 2026-05-31" in expired.message and "SEC-1" in expired.message


def test_record_of_a_non_waivable_rule_gives_gov_exc_002():
    findings = _run(_template(_record()), Policy(non_waivable=("ENC-003",)))
    assert sorted((f.rule_id, f.logical_id, f.status) for f in findings) == [
        ("ENC-003", "Plain", "violation"),
        ("ENC-003", "Queue", "violation"),
        (NON_WAIVABLE, "Queue", "violation"),
    ]


def test_acknowledge_refuses_short_reasons_and_exception_rules():
    import aws_cdk as cdk

    import governance

    stack = cdk.Stack(cdk.App(), "S")
    with pytest.raises(ValueError, match="at least 10 characters"):
        governance.acknowledge(stack, "ENC-001", "too short")
    with pytest.raises(ValueError, match="cannot be acknowledged"):
        governance.acknowledge(stack, EXPIRED, "renewing the exception later")
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        governance.acknowledge(stack, "ENC-001", "a long enough reason", expires="next week")


def test_acknowledge_records_reach_resources_created_later_and_cdk_nag_ids_get_their_pack():
    import aws_cdk as cdk
    from aws_cdk import assertions
    from aws_cdk import aws_sqs as sqs

    import governance

    stack = cdk.Stack(cdk.App(), "S")
    governance.acknowledge(
        stack, "AwsSolutions-IAM5[Resource::*]", "xray needs the star resource", plugin=None
    )
    governance.acknowledge(
        stack, "ENC-003", "ids only, accepted", ticket="T-1", expires="2030-01-31"
    )
    sqs.Queue(stack, "Late")  # created after the acknowledgements
    acks = {
        k: v
        for entry in stack.node.metadata
        if entry.type == "aws:cdk:acknowledged-rules"
        for k, v in entry.data.items()
    }
    # namespaced, so CDK records it in validation-report.json (a bare cdk-nag id is dropped
    # by cdk-nag silently and never reaches the report)
    assert acks == {
        "AwsSolutions::AwsSolutions-IAM5[Resource::*]": "xray needs the star resource",
        "govern::ENC-003": "ids only, accepted",
    }
    body = assertions.Template.from_stack(stack).to_json()
    queue = next(r for r in body["Resources"].values() if r["Type"] == "AWS::SQS::Queue")
    assert queue["Metadata"][METADATA_KEY] == [
        {
            "rule": "AwsSolutions-IAM5[Resource::*]",
            "id": "AwsSolutions::AwsSolutions-IAM5[Resource::*]",
            "reason": "xray needs the star resource",
            "scope": "S",
        },
        {
            "rule": "ENC-003",
            "id": "govern::ENC-003",
            "reason": "ids only, accepted",
            "ticket": "T-1",
            "scope": "S",
            "expires": "2030-01-31",
        },
    ]


# --- through the real CDK CLI ------------------------------------------------------------------


def _plugin(out, name="govern") -> dict:
    report = json.loads((out / "validation-report.json").read_text())
    return next(p for p in report["pluginReports"] if p["pluginName"] == name)


@pytest.mark.synth
def test_valid_exceptions_pass_synth_and_reach_template_and_report(valid_assembly):
    govern = _plugin(valid_assembly)
    assert govern["violations"] == []
    assert {v["ruleName"]: v["reason"] for v in govern["suppressedViolations"]} == {
        "ENC-001": "Receipts hold no account data; SSE-S3 accepted until the KMS migration",
        "ENC-003": "Queue carries event ids only; SQS-managed encryption accepted",
    }
    nag = _plugin(valid_assembly, "AwsSolutions")
    assert {v["ruleName"] for v in nag["suppressedViolations"]} == {
        "AwsSolutions-S1",
        "AwsSolutions-S10",
        "AwsSolutions-SQS3",
        "AwsSolutions-SQS4",
    }
    body = json.loads((valid_assembly / "Exceptions.template.json").read_text())
    bucket = next(r for r in body["Resources"].values() if r["Type"] == "AWS::S3::Bucket")
    records = {r["rule"]: r for r in bucket["Metadata"][METADATA_KEY]}
    assert records["ENC-001"] == {
        "rule": "ENC-001",
        "id": "govern::ENC-001",
        "reason": "Receipts hold no account data; SSE-S3 accepted until the KMS migration",
        "ticket": "SEC-1234",
        "approver": "jane.doe@example.com",
        "scope": "Exceptions/Receipts",
        "expires": "2099-12-31",
    }
    # the stack-level cdk-nag acknowledgements reach every resource under the stack
    assert {"AwsSolutions-S1", "AwsSolutions-SQS4"} <= set(records)


@pytest.mark.synth
def test_findings_json_carries_the_exception_record(valid_assembly, policy_file, capsys, tmp_path):
    out = tmp_path / "findings.json"
    main(
        [
            "check",
            str(valid_assembly),
            "--config",
            str(policy_file),
            "--format",
            "json",
            "-o",
            str(out),
        ]
    )
    capsys.readouterr()
    data = json.loads(out.read_text())
    acked = {f["rule_id"]: f for f in data["findings"] if f["status"] == "acknowledged"}
    assert {"ENC-001", "ENC-003"} <= set(acked)
    assert acked["ENC-001"]["reason"].startswith("Receipts hold no account data")
    assert acked["ENC-001"]["exception"] == {
        "rule": "ENC-001",
        "id": "govern::ENC-001",
        "reason": "Receipts hold no account data; SSE-S3 accepted until the KMS migration",
        "ticket": "SEC-1234",
        "approver": "jane.doe@example.com",
        "expires": "2099-12-31",
        "scope": "Exceptions/Receipts",
        "expired": False,
        "waivable": True,
    }
    assert acked["ENC-003"]["exception"]["approver"] == "john.roe@example.com"


@pytest.mark.synth
def test_expired_exception_fails_synth(exception_synths):
    proc, out = exception_synths["expired"]
    assert proc.returncode != 0
    assert "Synthesis finished with errors" in proc.stderr + proc.stdout
    assert EXPIRED in proc.stderr + proc.stdout
    govern = _plugin(out)
    assert govern["conclusion"] == "failure"
    # only the exception check fails: the other exceptions of the app still hold
    assert [(v["ruleName"], v["severity"]) for v in govern["violations"]] == [(EXPIRED, "fatal")]
    assert "expired on 2020-01-01" in govern["violations"][0]["description"]
    assert "SEC-1234" in govern["violations"][0]["description"]


@pytest.mark.synth
def test_acknowledging_non_waivable_rules_fails_synth_whichever_api(exception_synths):
    proc, out = exception_synths["nonwaivable"]
    assert proc.returncode != 0
    assert "Synthesis finished with errors" in proc.stderr + proc.stdout
    govern = _plugin(out)
    assert govern["conclusion"] == "failure"
    # "fatal": CDK lets nobody acknowledge these
    assert {v["severity"] for v in govern["violations"]} == {"fatal"}
    messages = sorted(
        v["description"] for v in govern["violations"] if v["ruleName"] == NON_WAIVABLE
    )
    assert len(messages) == 2
    assert "govern::ENC-001 is non-waivable" in messages[0]  # governance.acknowledge
    assert "govern::ENC-003 is non-waivable" in messages[1]  # Validations.of(...).acknowledge
    assert "Exceptions/Events" in messages[1]


@pytest.mark.synth
def test_direct_cdk_acknowledgements_are_read_from_the_assembly(exception_synths):
    _, out = exception_synths["nonwaivable"]
    templates = load_cloud_assembly(out)
    acks = {(a, s) for a, _, s in cdk_acknowledgements(templates[0])}
    assert ("govern::ENC-003", "Exceptions/Events") in acks
    assert ("AwsSolutions::AwsSolutions-S1", "Exceptions") in acks


def test_expired_exception_on_a_queue_is_reported_once_on_the_queue():
    """An acknowledgement on a queue reaches its QueuePolicy too; its expiry is one finding."""
    record = _record(expires="2026-05-31", scope="T/Jobs")
    body = {
        "Resources": {
            "JobsPolicy": {
                "Type": "AWS::SQS::QueuePolicy",
                "Metadata": {"aws:cdk:path": "T/Jobs/Policy/Resource", METADATA_KEY: [record]},
            },
            "Jobs": {
                "Type": "AWS::SQS::Queue",
                "Metadata": {"aws:cdk:path": "T/Jobs/Resource", METADATA_KEY: [record]},
            },
        }
    }
    template = Template(name="T", path="T.template.json", body=body)
    findings = _run(template, Policy())
    assert sorted((f.rule_id, f.logical_id) for f in findings) == [
        ("ENC-003", "Jobs"),
        (EXPIRED, "Jobs"),
    ]


def test_cdk_internal_resources_are_known_by_path_or_logical_id():
    from governance.exceptions import cdk_internal

    body = {
        "Resources": {
            "CustomCrossRegionExportWriterCustomResourceProviderRoleC951B1E1": {
                "Type": "AWS::IAM::Role"
            },
            "Pathed": {
                "Type": "AWS::Lambda::Function",
                "Metadata": {
                    "aws:cdk:path": "S/Custom::CrossRegionExportReaderCustomResourceProvider/Handler"
                },
            },
            "Mine": {"Type": "AWS::IAM::Role", "Metadata": {"aws:cdk:path": "S/CrossRegionRole"}},
        }
    }
    template = Template(name="S", path="S.template.json", body=body)
    got = {lid: cdk_internal(r) for lid, r in template.resources.items()}
    assert got == {
        "CustomCrossRegionExportWriterCustomResourceProviderRoleC951B1E1": (
            "cross-region reference writer"
        ),
        "Pathed": "cross-region reference reader",
        "Mine": None,
    }
