"""The CDK validation plugin: runs the rules over the templates CDK has just synthesized.

CDK calls :meth:`GovernancePlugin.validate` after synthesis with the template paths. Findings
become CDK ``PolicyViolation`` records, so CDK prints its own table, applies acknowledgements
(``Validations.of(construct).acknowledge(...)``), writes ``cdk.out/validation-report.json`` and
fails synthesis when an error remains.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import jsii
from aws_cdk import (
    IPolicyValidationContext,
    IPolicyValidationPlugin,
    PolicyValidationPluginReport,
    PolicyViolatingResource,
    PolicyViolation,
)

from governance import __version__
from governance.engine import PLUGIN_NAME, evaluate, verdict
from governance.exceptions import UNWAIVABLE_RULES
from governance.model import Finding, Severity
from governance.policy import Policy
from governance.registry import all_rules
from governance.template import load_template_file

#: CDK's report knows these severities; ours map onto them.
_CDK_SEVERITY = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "info"}


@jsii.implements(IPolicyValidationPlugin)
class GovernancePlugin:
    """Our rules as a CDK policy-validation plugin."""

    def __init__(self, policy: Policy) -> None:
        self._policy = policy
        self.last_findings: list[Finding] = []

    @property
    def name(self) -> str:
        return PLUGIN_NAME

    @property
    def version(self) -> str:
        return __version__

    @property
    def rule_ids(self) -> list[str]:
        return [r.id for r in all_rules() if self._policy.enabled(r.id)]

    def validate(self, context: IPolicyValidationContext) -> PolicyValidationPluginReport:
        templates = []
        for stack in context.stack_templates:
            path = Path(stack.template_path)
            tpl = load_template_file(path)
            tpl.environment = _stack_environment(path)
            templates.append(tpl)
        result = evaluate(templates, self._policy)
        self.last_findings = result.findings
        violations = _to_violations(result.findings, self._policy.fail_on)
        return PolicyValidationPluginReport(
            success=verdict(result.findings, self._policy.fail_on).passed,
            violations=violations,
            plugin_version=__version__,
            metadata={"policy_environment": self._policy.environment or "(none)"},
        )


def _cdk_severity(finding: Finding, fail_on: Severity) -> str:
    """The severity CDK is told.

    Findings about exceptions are "fatal": CDK cannot acknowledge those. A finding that fails the
    policy (:func:`governance.engine.blocks`) is an "error" even when it is a warning under
    ``fail_on: warning``: once any acknowledgement exists in the app, CDK re-decides each plugin's
    success from its remaining errors alone, and a blocking warning would pass synth.
    """
    if finding.rule_id in UNWAIVABLE_RULES:
        return "fatal"
    if finding.severity < Severity.ERROR and finding.severity >= fail_on:
        return "error"
    return _CDK_SEVERITY[finding.severity]


def _to_violations(findings: list[Finding], fail_on: Severity) -> list[PolicyViolation]:
    """Group findings by (rule, severity, message) into CDK violations."""
    grouped: dict[tuple[str, Severity, str], list[Finding]] = defaultdict(list)
    for f in findings:
        grouped[(f.rule_id, f.severity, f.message)].append(f)
    out = []
    for (rule_id, severity, message), group in grouped.items():
        first = group[0]
        metadata = {"severity": str(severity)}
        if first.pci:
            metadata["pci_dss"] = ", ".join(first.pci)
        out.append(
            PolicyViolation(
                rule_name=rule_id,
                description=f"{first.title}: {message}",
                fix=first.fix or None,
                severity=_cdk_severity(first, fail_on),
                rule_metadata=metadata,
                violating_resources=[
                    PolicyViolatingResource(
                        resource_logical_id=f.logical_id,
                        template_path=f.template_path,
                        locations=[f.property_path],
                    )
                    for f in group
                ],
            )
        )
    return out


def _stack_environment(template_path: Path) -> str | None:
    """The stack's ``aws://account/region`` from the assembly's manifest (rules that depend on
    the region, such as DEPLOY-WAF-001, read it); ``None`` when the manifest says nothing."""
    try:
        manifest = json.loads((template_path.parent / "manifest.json").read_text())
    except (OSError, ValueError):
        return None
    for artifact in (manifest.get("artifacts") or {}).values():
        props = artifact.get("properties") or {}
        if props.get("templateFile") == template_path.name:
            env = artifact.get("environment")
            return env if isinstance(env, str) else None
    return None
