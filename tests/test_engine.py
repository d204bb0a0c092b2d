"""The engine: its one pass/fail decision, its guard around rules that raise, and the plugin
reaching its verdict inside a real in-process synth."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs

import governance
from governance import registry
from governance.engine import evaluate, verdict
from governance.model import Category, Finding, Severity, violation
from governance.plugin import GovernancePlugin
from governance.policy import Policy
from governance.registry import all_rules, get_rule, rule
from governance.template import Template

ALL_WARNINGS = {"category_severity": dict.fromkeys((c.value for c in Category), "warning")}


def _finding(severity: Severity, status: str = "violation") -> Finding:
    return Finding("X-001", severity, "t", "m", "S", "R", "T", "S.template.json", status=status)


def test_verdict_blocks_unacknowledged_findings_at_or_above_the_threshold():
    warning, error = _finding(Severity.WARNING), _finding(Severity.ERROR)
    acked = _finding(Severity.ERROR, status="acknowledged")
    assert verdict([warning, acked], Severity.ERROR).passed
    failed = verdict([warning, error, acked], Severity.ERROR)
    assert not failed.passed and failed.blocking == (error,)
    assert verdict([warning], Severity.WARNING).blocking == (warning,)
    assert verdict([_finding(Severity.INFO)], Severity.WARNING).passed
    assert verdict([], Severity.INFO).passed


def synth(
    tmp_path: Path, governance_block: dict, build: Callable[[cdk.Stack], None]
) -> tuple[bool, GovernancePlugin, str]:
    """Synthesize one small app in this process with governance applied.

    Returns whether synth passed, the plugin (its last findings) and the error text when not.
    """
    app = cdk.App(outdir=str(tmp_path / "cdk.out"))
    stack = cdk.Stack(app, "Small")
    build(stack)
    plugin = governance.apply(app, Policy.from_context(governance_block, suffix="test"))
    try:
        app.synth()
    except Exception as exc:  # jsii hands CDK's ValidationError over as a RuntimeError
        return False, plugin, str(exc)
    return True, plugin, ""


def _queues(stack: cdk.Stack, *, acknowledge: bool = False) -> None:
    sqs.Queue(stack, "Orders", encryption=sqs.QueueEncryption.SQS_MANAGED)
    other = sqs.Queue(stack, "Refunds", encryption=sqs.QueueEncryption.SQS_MANAGED)
    if acknowledge:
        governance.acknowledge(other, "ENC-003", "Refund ids only; reviewed by security")


@pytest.mark.parametrize("acknowledge", [False, True])
def test_plugin_fails_synth_on_a_warning_under_fail_on_warning(tmp_path, acknowledge):
    """Even with an acknowledgement elsewhere in the app, after which CDK re-decides success
    from the violations it still calls errors, a warning fails synth under ``fail_on: warning``."""
    passed, plugin, error = synth(
        tmp_path,
        {**ALL_WARNINGS, "fail_on": "warning"},
        lambda s: _queues(s, acknowledge=acknowledge),
    )
    assert {f.severity for f in plugin.last_findings} == {Severity.WARNING}
    assert not passed and "ValidationFailed" in error
    blocking = verdict(plugin.last_findings, Severity.WARNING).blocking
    assert {(f.rule_id, f.logical_id) for f in blocking} >= {("ENC-003", _logical_id(plugin))}


def _logical_id(plugin: GovernancePlugin) -> str:
    return next(f.logical_id for f in plugin.last_findings if f.logical_id.startswith("Orders"))


def test_plugin_passes_synth_when_nothing_reaches_fail_on(tmp_path):
    passed, plugin, error = synth(tmp_path, {**ALL_WARNINGS, "fail_on": "error"}, _queues)
    assert passed, error
    assert plugin.last_findings and verdict(plugin.last_findings, Severity.ERROR).passed


# --- the guard: a rule that raises -------------------------------------------------------------

RAISING = "TEST-RAISE-001"


@pytest.fixture
def raising_rule(monkeypatch):
    """A registered rule that raises on every S3 bucket (removed from the registry afterwards)."""
    all_rules()  # load the real rules first, then register the test rule on a copy of the registry
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))

    @rule(
        id=RAISING,
        slug="test-rule-that-raises",
        title="A rule that raises",
        severity=Severity.ERROR,
        resource_types=("AWS::S3::Bucket",),
        category=Category.ENCRYPTION,
    )
    def raises(resource, policy):
        """Raises.

        Why:
            To test the guard.

        Fix:
            Nothing.

        Example:
            None
        """
        yield violation("found before the error", "Properties/Before")
        raise KeyError("BucketEncryption " + "x" * 500)

    return get_rule(RAISING)


def _bucket_template() -> Template:
    body = {
        "Resources": {
            "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {}},
            "Queue": {"Type": "AWS::SQS::Queue", "Properties": {}},
        }
    }
    return Template(name="T", path="T.template.json", body=body)


def test_a_raising_rule_gives_an_undecidable_finding_and_the_run_goes_on(raising_rule):
    result = evaluate([_bucket_template()], Policy(suffix="dev"))
    mine = [f for f in result.findings if f.rule_id == RAISING]
    assert [(f.logical_id, f.undecidable, f.message) for f in mine][0] == (
        "Bucket",
        False,
        "found before the error",
    )
    error = mine[1]
    assert (error.logical_id, error.undecidable, error.severity) == (
        "Bucket",
        True,
        Severity.WARNING,  # the policy's undecidable_severity, not the rule's error
    )
    assert error.message.startswith(
        f"rule {RAISING} raised KeyError on Bucket (AWS::S3::Bucket): 'BucketEncryption xxx"
    )
    assert "…" in error.message and len(error.message) < 400 and "\n" not in error.message
    others = {(f.rule_id, f.logical_id) for f in result.findings if f.rule_id != RAISING}
    assert {("ENC-001", "Bucket"), ("PCI-BAK-003", "Bucket"), ("ENC-003", "Queue")} <= others
    strict = Policy(suffix="dev", undecidable_severity=Severity.ERROR)
    assert {
        f.severity for f in evaluate([_bucket_template()], strict, [raising_rule]).findings
    } == {Severity.ERROR}


def test_a_rule_yielding_something_else_or_returning_none_is_caught(raising_rule):
    def none(resource, policy):
        return None

    def text(resource, policy):
        yield "not an issue"

    for func, problem in ((none, "TypeError"), (text, "rule yielded str, not an Issue")):
        broken = dataclasses.replace(raising_rule, func=func)
        (finding,) = evaluate([_bucket_template()], Policy(suffix="dev"), [broken]).findings
        assert finding.undecidable and problem in finding.message


def _bucket(stack: cdk.Stack) -> None:
    s3.Bucket(stack, "Receipts")
    sqs.Queue(stack, "Orders")


def test_synth_goes_on_past_a_raising_rule_to_the_policys_verdict(tmp_path, raising_rule):
    """In-process synth with the plugin: the raising rule's finding is there, the other rules'
    findings too, and synth passes or fails by the policy alone."""
    lenient = {**ALL_WARNINGS, "fail_on": "error", "undecidable_severity": "warning"}
    passed, plugin, error = synth(tmp_path / "lenient", lenient, _bucket)
    assert passed, error
    raised = [f for f in plugin.last_findings if f.rule_id == RAISING and f.undecidable]
    assert [f.resource_type for f in raised] == ["AWS::S3::Bucket"]
    assert "raised KeyError" in raised[0].message
    rule_ids = {f.rule_id for f in plugin.last_findings}
    assert {"ENC-001", "ENC-003", "PCI-BAK-003"} <= rule_ids

    strict = {**lenient, "undecidable_severity": "error"}
    passed, plugin, error = synth(tmp_path / "strict", strict, _bucket)
    assert not passed and "ValidationFailed" in error
    blocking = verdict(plugin.last_findings, Severity.ERROR).blocking
    assert {f.rule_id for f in blocking} == {RAISING}  # only the undecidable error blocks
