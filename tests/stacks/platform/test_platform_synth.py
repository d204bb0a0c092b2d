"""Every environment, optimised and legacy, synthesizes through ``npx cdk synth`` with governance.

Synthesis fails on any unacknowledged error (our rules, cdk-nag AwsSolutions and PCI DSS 3.2.1),
so a cloud assembly on disk is the proof. Under the legacy profile the cost findings are
reported as warnings (``governance.profiles.legacy.category_severity.cost``): the assertion
reads them from CDK's validation report.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

STACKS = (
    "PaymentsSecurity",
    "PaymentsAlerts",
    "PaymentsStorage",
    "PaymentsNetwork",
    "PaymentsCompute",
    "Payments",
    "PaymentsEdgeSecurity",
    "PaymentsObservability",
    "PaymentsCostVisibility",
    "PaymentsParameters",
)


def _violations(out: Path) -> list[dict]:
    report = json.loads((out / "validation-report.json").read_text())
    found = []
    for plugin in report.get("pluginReports", []):
        if plugin.get("pluginName") == "govern":
            found.extend(plugin.get("violations", []))
    return found


@pytest.mark.synth
@pytest.mark.parametrize("env", ("dev", "staging", "production"))
def test_environment_synthesizes_optimised_and_legacy(
    env: str, synth_platform: Callable[..., Path]
) -> None:
    optimised = synth_platform(env)
    legacy = synth_platform(env, "legacy")
    for out in (optimised, legacy):
        for stack in STACKS:
            assert (out / f"{stack}.template.json").is_file(), f"{out}: {stack} missing"
        # the CloudFront edge (and Shield Advanced on it) exists only where configured
        assert (out / "PaymentsEdge.template.json").is_file() is (env == "production")
    legacy_rules = {v["ruleName"] for v in _violations(legacy) if v.get("severity") == "warning"}
    # the legacy baseline's cost findings are reported, as warnings, not hidden
    assert {"COST-LAMBDA-001", "COST-LAMBDA-002", "COST-LOG-001"} <= legacy_rules
    optimised_rules = {v["ruleName"] for v in _violations(optimised)}
    assert not {"COST-LAMBDA-001", "COST-LAMBDA-002", "COST-LOG-001"} & optimised_rules
