"""cdk-nag's findings (and any other CDK validation plugin's) as :class:`Finding` records.

cdk-nag 3 runs as a CDK validation plugin beside ours, so its verdicts are in the cloud assembly's
``validation-report.json`` - violations and acknowledged ones alike. cdk-nag names the construct
but not the template or logical id; both are found through the ``aws:cdk:path`` metadata of the
templates. cdk-nag's PCI pack cites PCI DSS 3.2.1 control ids, which are kept in the message and
not mixed with the v4.0.1 requirement numbers our rules carry.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from governance.exceptions import resource_exceptions
from governance.model import PLUGIN_NAME, Finding, Severity
from governance.template import Resource, Template

if TYPE_CHECKING:
    from governance.policy import Policy


@dataclass(frozen=True)
class NagPack:
    """One cdk-nag pack: its plugin name, its switch in the policy and its class in ``cdk_nag``."""

    #: The plugin name CDK reports, which is also the namespace of the pack's rule ids.
    name: str
    #: The key under ``governance.cdk_nag`` that switches the pack on.
    policy_key: str
    #: The class in the ``cdk_nag`` package that implements the pack.
    checks_class: str


#: Every cdk-nag 3 pack, in the order the plugins are added: the one list the policy, the plugin
#: set-up, acknowledgements and the reports read.
CDK_NAG_PACKS: tuple[NagPack, ...] = (
    NagPack("AwsSolutions", "aws_solutions", "AwsSolutionsChecks"),
    NagPack("PCI.DSS.321", "pci_dss_321", "PCIDSS321Checks"),
    NagPack("HIPAA.Security", "hipaa_security", "HIPAASecurityChecks"),
    NagPack("NIST.800.53.R4", "nist_800_53_r4", "NIST80053R4Checks"),
    NagPack("NIST.800.53.R5", "nist_800_53_r5", "NIST80053R5Checks"),
    NagPack("Serverless", "serverless", "ServerlessChecks"),
)
#: Plugin names of cdk-nag's packs (they are also the namespaces of their rule ids).
CDK_NAG_PLUGINS = frozenset(p.name for p in CDK_NAG_PACKS)
#: A cdk-nag rule id: ``<pack>-<rule>``, optionally with cdk-nag's granular suffix in brackets
#: (``AwsSolutions-IAM5[Resource::*]``).
NAG_RULE_ID = re.compile(
    "(" + "|".join(re.escape(p.name) for p in CDK_NAG_PACKS) + r")-[A-Za-z0-9]+(\[.+\])?"
)


def is_nag_rule_id(value: object, *, granular: bool = True) -> bool:
    """True when ``value`` has the shape of a rule id of one of cdk-nag's packs."""
    if not isinstance(value, str):
        return False
    match = NAG_RULE_ID.fullmatch(value)
    return match is not None and (granular or match.group(2) is None)


def nag_pack_of(rule_id: str) -> str | None:
    """The pack namespacing ``rule_id`` (``"AwsSolutions"`` for ``AwsSolutions-IAM4``), if any."""
    match = NAG_RULE_ID.fullmatch(rule_id)
    return match.group(1) if match else None


_SEVERITY = {
    "fatal": Severity.ERROR,
    "error": Severity.ERROR,
    "warning": Severity.WARNING,
    "info": Severity.INFO,
}


def source_name(plugin_name: str) -> str:
    return "cdk-nag" if plugin_name in CDK_NAG_PLUGINS else plugin_name


def _report_files(templates: list[Template]) -> list[Path]:
    seen: dict[Path, None] = {}
    for t in templates:
        report = Path(t.path).parent / "validation-report.json"
        if report.is_file():
            seen.setdefault(report.resolve(), None)
    return list(seen)


def plugin_findings(templates: list[Template], policy: Policy | None = None) -> list[Finding]:
    """Findings of every validation plugin except ours, from the templates' cloud assemblies.

    An acknowledged finding whose exception record has expired, or whose rule ``policy`` makes
    non-waivable, is a violation again.
    """
    by_path: dict[tuple[str, str], Resource] = {}
    for t in templates:
        directory = str(Path(t.path).parent.resolve())
        for res in t.resources.values():
            if res.construct_path:
                by_path[(directory, res.construct_path)] = res
    findings: list[Finding] = []
    for report_file in _report_files(templates):
        try:
            report = json.loads(report_file.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        directory = str(report_file.parent)
        for plugin in report.get("pluginReports", []) or []:
            name = plugin.get("pluginName") or "unknown"
            if name == PLUGIN_NAME:
                continue
            for v in plugin.get("violations", []) or []:
                findings.extend(_convert(v, name, directory, by_path, policy, acknowledged=False))
            for v in plugin.get("suppressedViolations", []) or []:
                findings.extend(_convert(v, name, directory, by_path, policy, acknowledged=True))
    return findings


def _convert(
    violation: dict[str, Any],
    plugin: str,
    directory: str,
    by_path: dict[tuple[str, str], Resource],
    policy: Policy | None,
    *,
    acknowledged: bool,
) -> list[Finding]:
    rule_id = str(violation.get("ruleName") or "unknown")
    description = str(violation.get("description") or rule_id)
    severity = _SEVERITY.get(str(violation.get("severity", "")).lower(), Severity.WARNING)
    out = []
    for construct in violation.get("violatingConstructs", []) or []:
        path = construct.get("constructPath") or ""
        cfn = construct.get("cloudFormationResource") or {}
        resource = by_path.get((directory, path))
        paths = cfn.get("propertyPaths") or []
        finding = Finding(
            rule_id=rule_id,
            severity=severity,
            title=description.split(" - (Control ID")[0].rstrip("."),
            message=description,
            stack=resource.template.name if resource else path.split("/")[0],
            logical_id=resource.logical_id if resource else cfn.get("logicalId") or path,
            resource_type=resource.type if resource else construct.get("constructFqn") or "",
            template_path=resource.template.path if resource else cfn.get("templatePath") or "",
            construct_path=path or None,
            property_path=paths[0] if paths else "Properties",
            source=source_name(plugin),
            fix=str(violation.get("suggestedFix") or ""),
            category=plugin,
        )
        if acknowledged:
            finding.status = "acknowledged"
            finding.reason = violation.get("reason")
        if resource is not None:
            for record in resource_exceptions(resource):
                if record.rule == rule_id:
                    finding.exception = record.to_dict(policy)
                    if finding.exception["expired"] or not finding.exception.get("waivable", True):
                        finding.status, finding.reason = "violation", None
        out.append(finding)
    return out


# --- conflicts between our rules and cdk-nag's (governance.conflicts) ---------------------------


@dataclass(frozen=True)
class NagConflict:
    """A cdk-nag rule that asks, on the same resources, the opposite of one of our rules."""

    #: The key under ``governance.conflicts`` that says which side wins.
    key: str
    #: Our rule (``LIFE-003``).
    ours: str
    #: The cdk-nag rule (``AwsSolutions-RDS10``); its pack is the id's prefix.
    nag_rule: str
    #: The CloudFormation types both rules judge, where they cannot both pass.
    resource_types: tuple[str, ...]


#: Values of ``governance.conflicts.<key>``: our rule wins, or cdk-nag's.
CONFLICT_WINNERS = ("govern", "cdk-nag")

_RDS = ("AWS::RDS::DBCluster", "AWS::RDS::DBInstance")
_ALB = ("AWS::ElasticLoadBalancingV2::LoadBalancer",)
#: Every known conflict. LIFE-003 forbids deletion (and termination) protection so that every
#: stack can be destroyed; these cdk-nag rules require it.
NAG_CONFLICTS: tuple[NagConflict, ...] = (
    NagConflict("deletion_protection", "LIFE-003", "AwsSolutions-RDS10", _RDS),
    NagConflict("deletion_protection", "LIFE-003", "AwsSolutions-EC29", ("AWS::EC2::Instance",)),
    *(
        NagConflict("deletion_protection", "LIFE-003", f"{pack}-{name}", types)
        for pack in ("HIPAA.Security", "NIST.800.53.R4", "NIST.800.53.R5")
        for name, types in (
            ("RDSInstanceDeletionProtectionEnabled", _RDS),
            ("ELBDeletionProtectionEnabled", _ALB),
        )
    ),
)
#: The conflict keys ``governance.conflicts`` accepts.
CONFLICT_KEYS: tuple[str, ...] = tuple(dict.fromkeys(c.key for c in NAG_CONFLICTS))


def _pack_enabled(nag_rule: str, policy: Policy) -> bool:
    pack = nag_pack_of(nag_rule)
    return any(p.name == pack and p.policy_key in policy.cdk_nag_packs for p in CDK_NAG_PACKS)


def active_conflicts(policy: Policy, ours: str, resource_type: str) -> list[NagConflict]:
    """The conflicts of rule ``ours`` on ``resource_type`` with the cdk-nag packs switched on."""
    return [
        c
        for c in NAG_CONFLICTS
        if c.ours == ours
        and resource_type in c.resource_types
        and _pack_enabled(c.nag_rule, policy)
    ]


def conflict_winner(policy: Policy, key: str) -> str | None:
    """``"govern"``, ``"cdk-nag"`` or ``None`` (not decided: both sides report)."""
    return policy.conflicts.get(key)


def conflict_reason(conflict: NagConflict) -> str:
    """The reason recorded when our rule wins over cdk-nag's (the report shows it)."""
    return (
        f"governance.conflicts.{conflict.key} is 'govern': {conflict.ours} asks for the "
        f"opposite of {conflict.nag_rule} on {', '.join(conflict.resource_types)}, and the "
        "policy chose ours (deletion protection off, so that every stack can be destroyed)"
    )


def acknowledge_conflicts(app: Any, policy: Policy) -> list[str]:
    """Acknowledge, on the whole app, each switched-on cdk-nag rule that loses a conflict.

    One acknowledgement per rule instead of one per database: it names the policy key that
    decided, and CDK writes it with every resource it covers into ``validation-report.json``.
    Returns the acknowledged ids (``AwsSolutions::AwsSolutions-RDS10``).
    """
    from aws_cdk import Acknowledgment, Validations

    done: list[str] = []
    for conflict in NAG_CONFLICTS:
        if conflict_winner(policy, conflict.key) != "govern":
            continue
        if not _pack_enabled(conflict.nag_rule, policy):
            continue
        ack_id = f"{nag_pack_of(conflict.nag_rule)}::{conflict.nag_rule}"
        if ack_id in done:
            continue
        Validations.of(app).acknowledge(Acknowledgment(id=ack_id, reason=conflict_reason(conflict)))
        done.append(ack_id)
    return done
