"""SARIF 2.1.0 for code-scanning tools (GitHub code scanning reads it).

One run, tool ``govern``; every finding is a result whose rule is described in
``tool.driver.rules`` (ours, and the cdk-nag or checkov checks it also carries, named by their own
ids). Locations point at the template file, relative to ``base`` (the repository root when CI runs
from it), at the line where the resource starts, with the logical id as a logical location.
Acknowledged findings carry a suppression with the exception's justification.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from functools import cache
from pathlib import Path
from typing import Any

from governance.model import Finding, Severity
from reports.compliance.model import ComplianceReport

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
#: GitHub sorts alerts by this numeric severity (0-10) when a rule carries it.
_SECURITY_SEVERITY = {Severity.ERROR: "8.0", Severity.WARNING: "5.0", Severity.INFO: "2.0"}


def artifact_uri(path: str, base: Path) -> str:
    """The template path relative to ``base`` with forward slashes (absolute if outside it)."""
    target = Path(path).resolve()
    try:
        rel = target.relative_to(base.resolve())
    except ValueError:
        rel_text = os.path.relpath(target, base.resolve())
        if rel_text.startswith(".."):
            return target.as_uri()
        return Path(rel_text).as_posix()
    return rel.as_posix()


@cache
def _line_index(path: str) -> dict[str, int]:
    """Line number where each top-level resource key appears (JSON or YAML templates)."""
    try:
        lines = Path(path).read_text(encoding="utf-8-sig").splitlines()
    except OSError:
        return {}
    index: dict[str, int] = {}
    pattern = re.compile(r'^\s*"?([A-Za-z0-9]+)"?\s*:\s*(\{|$)')
    in_resources = False
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if re.match(r'^"?Resources"?\s*:', stripped):
            in_resources = True
            continue
        if not in_resources:
            continue
        m = pattern.match(line)
        if m and m.group(1) not in index:
            index[m.group(1)] = number
    return index


def resource_line(path: str, logical_id: str) -> int:
    return _line_index(path).get(logical_id, 1)


def _rule_descriptor(rule_id: str, finding: Finding, report: ComplianceReport) -> dict[str, Any]:
    meta = report.rules.get(rule_id, {})
    title = meta.get("title") or finding.title or rule_id
    pci = list(meta.get("pci") or finding.pci)
    tags = ["security", "compliance", f"source:{finding.source}"]
    tags += [f"PCI-DSS-v4.0.1/{p}" for p in pci]
    if finding.category:
        tags.append(finding.category)
    descriptor: dict[str, Any] = {
        "id": rule_id,
        "name": meta.get("slug") or re.sub(r"[^A-Za-z0-9]+", "", title.title()) or rule_id,
        "shortDescription": {"text": title},
        "fullDescription": {"text": title if not pci else f"{title} (PCI DSS {', '.join(pci)})"},
        "defaultConfiguration": {"level": _LEVEL[finding.severity]},
        "properties": {
            "tags": tags,
            "security-severity": _SECURITY_SEVERITY[finding.severity],
        },
    }
    fix = meta.get("fix") or finding.fix
    if fix:
        descriptor["help"] = {"text": fix}
    return descriptor


def _fingerprint(f: Finding) -> str:
    key = "|".join((f.source, f.rule_id, f.stack, f.logical_id, f.property_path))
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def to_sarif(report: ComplianceReport, base: Path | None = None) -> dict[str, Any]:
    base = base or Path.cwd()
    rules: list[dict[str, Any]] = []
    rule_index: dict[str, int] = {}
    results = []
    for f in report.findings:
        if f.rule_id not in rule_index:
            rule_index[f.rule_id] = len(rules)
            rules.append(_rule_descriptor(f.rule_id, f, report))
        text = f"{f.logical_id} ({f.resource_type}) in {f.stack}: {f.message}"
        if f.property_path:
            text += f" [at {f.property_path}]"
        result: dict[str, Any] = {
            "ruleId": f.rule_id,
            "ruleIndex": rule_index[f.rule_id],
            "level": _LEVEL[f.severity],
            "message": {"text": text},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": artifact_uri(f.template_path, base)},
                        "region": {"startLine": resource_line(f.template_path, f.logical_id)},
                    },
                    "logicalLocations": [
                        {
                            "name": f.logical_id,
                            "fullyQualifiedName": f"{f.stack}/{f.logical_id}",
                            "kind": "resource",
                        }
                    ],
                }
            ],
            "partialFingerprints": {"governFinding/v1": _fingerprint(f)},
            "properties": {
                "source": f.source,
                "stack": f.stack,
                "resourceType": f.resource_type,
                "constructPath": f.construct_path or "",
                "propertyPath": f.property_path,
                "pciDss": list(f.pci),
                "alsoReportedBy": list(f.also_reported_by),
                "undecidable": f.undecidable,
            },
        }
        if f.acknowledged:
            exc = f.exception or {}
            justification = f.reason or exc.get("reason") or "acknowledged"
            extra = [
                f"ticket {exc['ticket']}" if exc.get("ticket") else "",
                f"approved by {exc['approver']}" if exc.get("approver") else "",
                f"expires {exc['expires']}" if exc.get("expires") else "",
            ]
            extra = [e for e in extra if e]
            if extra:
                justification += f" ({'; '.join(extra)})"
            result["suppressions"] = [
                {"kind": "inSource", "status": "accepted", "justification": justification}
            ]
        results.append(result)
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "govern",
                "version": report.evidence.tool_version,
                "semanticVersion": report.evidence.tool_version,
                "rules": rules,
                "properties": {"ruleSetVersion": report.evidence.ruleset_version},
            }
        },
        "automationDetails": {
            "id": f"govern/compliance/{report.evidence.policy_environment or 'all'}/"
        },
        "results": results,
        "properties": {
            "gitCommit": report.evidence.git_commit,
            "generatedAt": report.evidence.generated_at,
            "templates": report.evidence.templates,
        },
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def render_sarif(report: ComplianceReport, base: Path | None = None) -> str:
    """The SARIF log as JSON text. JSON escapes every control character; what it would write as
    an unpaired ``\\ud800`` (strict readers refuse those) is written as a visible escape."""
    return json.dumps(_clean(to_sarif(report, base)), indent=2) + "\n"


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        if _LONE_SURROGATE.search(value):
            return _LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", value)
        return value
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value
