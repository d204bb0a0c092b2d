"""The engine's one pass/fail decision, and the plugin reaching it inside a real in-process synth."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_sqs as sqs

import governance
from governance.engine import verdict
from governance.model import Category, Finding, Severity
from governance.plugin import GovernancePlugin
from governance.policy import Policy

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
