"""The CDK validation plugin: runs the rules over the templates CDK has just synthesized.

CDK calls :meth:`GovernancePlugin.validate` after synthesis with the template paths. Findings
become CDK ``PolicyViolation`` records, so CDK prints its own table, applies acknowledgements
(``Validations.of(construct).acknowledge(...)``), writes ``cdk.out/validation-report.json`` and
fails synthesis when an error remains.
"""

from __future__ import annotations

import atexit
import json
import sys
from collections import Counter, defaultdict
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
from governance.baseline import BASELINE_KIND, Outcome, resolve
from governance.baseline import apply as apply_baseline
from governance.baseline import load as load_baseline
from governance.engine import PLUGIN_NAME, evaluate, verdict
from governance.exceptions import CDK_INTERNAL_KIND, UNWAIVABLE_RULES
from governance.model import Finding, Severity
from governance.policy import Policy
from governance.registry import all_rules
from governance.template import InputError, load_template_file, with_nested

#: CDK's report knows these severities; ours map onto them.
_CDK_SEVERITY = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "info"}


@jsii.implements(IPolicyValidationPlugin)
class GovernancePlugin:
    """Our rules as a CDK policy-validation plugin."""

    def __init__(self, policy: Policy, *, summary: bool = True) -> None:
        self._policy = policy
        self._summary = summary
        self.last_findings: list[Finding] = []
        self.baseline_outcome: Outcome | None = None

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
        # CDK hands over top-level templates only: nested stacks' templates are followed here.
        errors: list[InputError] = []
        top = []
        environments: dict[Path, dict[str, str]] = {}  # one manifest read per assembly
        for stack in context.stack_templates:
            path = Path(stack.template_path)
            tpl = load_template_file(path)
            if path.parent not in environments:
                environments[path.parent] = _stack_environments(path.parent)
            tpl.environment = environments[path.parent].get(path.name)
            top.append(tpl)
        templates = with_nested(top, errors)
        if errors:
            raise errors[0]
        result = evaluate(templates, self._policy)
        self.baseline_outcome = _apply_baseline(result.findings, templates, self._policy)
        self.last_findings = result.findings
        if self._summary:
            _summary_at_exit(self)
        # Findings settled here stay in last_findings (and the summary), not CDK violations.
        reported = [f for f in result.findings if not _settled_here(f)]
        violations = _to_violations(reported, self._policy.fail_on)
        return PolicyValidationPluginReport(
            success=verdict(result.findings, self._policy.fail_on).passed,
            violations=violations,
            plugin_version=__version__,
            metadata={
                "policy_environment": self._policy.environment or "(none)",
                "summary": summary_line(result.findings, self._policy) or "no findings",
            },
        )

    def _print_summary(self) -> None:
        line = summary_line(self.last_findings, self._policy)
        if line:
            _drain_cdk_output()
            print(line, file=sys.stderr, flush=True)


#: The plugin whose summary is printed when the process exits (the last one to validate).
_LAST: list[GovernancePlugin] = []


def _summary_at_exit(plugin: GovernancePlugin) -> None:
    """Print the summary of the last validation at exit, once per process: CDK prints its table
    when every plugin has reported, and the app exits after that."""
    if not _LAST:
        atexit.register(lambda: _LAST[-1]._print_summary())
    _LAST[:] = [plugin]


def _baselined(finding: Finding) -> bool:
    return bool(finding.exception) and finding.exception.get("kind") == BASELINE_KIND


def _settled_here(finding: Finding) -> bool:
    """Findings this plugin settles itself (baselined, or on CDK-internal resources): CDK knows
    no acknowledgement for them, so they are not handed to it as violations."""
    kind = (finding.exception or {}).get("kind")
    return finding.acknowledged and kind in (BASELINE_KIND, CDK_INTERNAL_KIND)


def _apply_baseline(findings: list[Finding], templates: list, policy: Policy) -> Outcome | None:
    """Apply the policy's baseline file (relative to the app's directory, CDK's working
    directory); its stale and expired entries are printed, one line each."""
    if not policy.baseline:
        return None
    path = resolve(policy.baseline, Path.cwd())
    outcome = apply_baseline(findings, templates, load_baseline(path))
    for line in outcome.messages():
        print(f"govern: {path.name}: {line}", file=sys.stderr, flush=True)
    return outcome


def _drain_cdk_output() -> None:
    """Let CDK's table reach stderr before our summary line.

    The table is written by the jsii kernel (a node process) and relayed by a background thread;
    the kernel's own exit hook, which waits for that relay, would run after ours (exit hooks run
    last-registered first). So we stop the kernel here, at exit, when nothing else calls into it.
    jsii offers no public call for this: if its internals differ, the line is printed anyway.
    """
    try:
        from jsii._runtime import kernel

        kernel.provider._process.stop()
    except Exception:  # noqa: BLE001, S110 - best effort: only the order of two outputs is at stake
        pass


#: How many rules, and how many fixes, the summary line names.
SUMMARY_RULES, SUMMARY_FIXES, FIX_CHARS = 5, 3, 90


def _first_sentence(text: str) -> str:
    sentence = text.split(". ")[0].rstrip(".")
    if len(sentence) > FIX_CHARS:
        sentence = sentence[: FIX_CHARS - 1].rstrip() + "…"
    return sentence


def summary_line(findings: list[Finding], policy: Policy) -> str:
    """One line after CDK's table: counts by severity and by rule, and the three commonest fixes.

    Empty when there is nothing to say (no finding at all).
    """
    if not findings:
        return ""
    active = [f for f in findings if not f.acknowledged]
    baselined = sum(1 for f in findings if _baselined(f))
    acknowledged = len(findings) - len(active) - baselined
    by_severity = Counter(f.severity for f in active)
    severities = ", ".join(
        f"{by_severity[s]} {s}{'s' if by_severity[s] != 1 else ''}"
        for s in sorted(by_severity, reverse=True)
    )
    head = f"govern: {len(active)} finding{'s' if len(active) != 1 else ''}"
    head += f" ({severities})" if severities else ""
    if acknowledged:
        head += f", {acknowledged} acknowledged"
    if baselined:
        head += f", {baselined} baselined"
    by_rule = Counter(f.rule_id for f in active).most_common()
    parts = [head]
    if by_rule:
        shown = ", ".join(f"{rule} {n}" for rule, n in by_rule[:SUMMARY_RULES])
        more = len(by_rule) - SUMMARY_RULES
        parts.append(f"by rule: {shown}" + (f", {more} more" if more > 0 else ""))
        fixes = {}
        for f in active:
            if f.fix:
                fixes.setdefault(f.rule_id, f.fix)
        top = [(rule, n) for rule, n in by_rule if rule in fixes][:SUMMARY_FIXES]
        if top:
            parts.append(
                "commonest fixes: "
                + "; ".join(f"{rule} ({n}): {_first_sentence(fixes[rule])}" for rule, n in top)
            )
    provisional = sorted({str(c) for c in policy.provisional} & {f.category for f in active})
    if provisional:
        parts.append(f"{', '.join(provisional)} rules are warnings until configured")
    return " | ".join(parts)


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


def _stack_environments(directory: Path) -> dict[str, str]:
    """Each stack's ``aws://account/region`` by template file name, from the assembly's manifest
    (rules that depend on the region, such as DEPLOY-WAF-001, read it); empty when unreadable."""
    try:
        manifest = json.loads((directory / "manifest.json").read_text())
    except (OSError, ValueError):
        return {}
    artifacts = manifest.get("artifacts") if isinstance(manifest, dict) else None
    out: dict[str, str] = {}
    for artifact in (artifacts if isinstance(artifacts, dict) else {}).values():
        props = artifact.get("properties") if isinstance(artifact, dict) else None
        if not isinstance(props, dict):
            continue
        env, file = artifact.get("environment"), props.get("templateFile")
        if isinstance(env, str) and isinstance(file, str):
            out[file] = env
    return out
