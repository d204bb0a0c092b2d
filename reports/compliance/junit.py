"""JUnit XML for CI systems: a test suite per stack, a test case per rule and resource.

Every (rule, resource) pair a rule applies to is a test case, so a clean resource shows as a
passed test; a violation is a ``<failure>``, an acknowledged finding is ``<skipped>`` with the
exception's reason. Findings of cdk-nag and checkov are test cases of their own.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import defaultdict

from governance.model import Finding, Rule
from governance.template import Template
from reports.compliance.model import ComplianceReport

#: What XML 1.0 cannot carry, even escaped: C0 controls but tab, LF and CR; lone surrogates;
#: U+FFFE and U+FFFF. Each is written as a visible escape (``\x01``) instead.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _cases(
    templates: list[Template], rules: list[Rule], findings: list[Finding]
) -> dict[str, dict[tuple[str, str], list[Finding]]]:
    """``{stack: {(rule id, logical id): findings}}`` with an empty list for a passed pair."""
    by_stack: dict[str, dict[tuple[str, str], list[Finding]]] = defaultdict(dict)
    for t in templates:
        cases = by_stack[t.name]
        for res in t.resources.values():
            for r in rules:
                if r.applies_to(res.type):
                    cases.setdefault((r.id, res.logical_id), [])
    for f in findings:
        by_stack[f.stack].setdefault((f.rule_id, f.logical_id), []).append(f)
    return by_stack


def to_junit(report: ComplianceReport) -> str:
    templates, rules = report.templates, report.rule_objects
    suites = ET.Element("testsuites", name="govern compliance")
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    for stack, cases in sorted(_cases(templates, rules, report.findings).items()):
        suite = ET.SubElement(suites, "testsuite", name=stack)
        counts = {"tests": 0, "failures": 0, "skipped": 0}
        for (rule_id, logical_id), found in sorted(cases.items()):
            case = ET.SubElement(
                suite, "testcase", classname=f"{stack}.{logical_id}", name=f"{rule_id} {logical_id}"
            )
            counts["tests"] += 1
            active = [f for f in found if not f.acknowledged]
            if active:
                first = active[0]
                failure = ET.SubElement(
                    case,
                    "failure",
                    message=f"{first.title}: {first.message}",
                    type=str(first.severity),
                )
                failure.text = "\n".join(
                    f"[{f.severity}] {f.message} at {f.property_path} ({f.source})"
                    + (f"\nFix: {f.fix}" if f.fix else "")
                    for f in active
                )
                counts["failures"] += 1
            elif found:
                reason = found[0].reason or (found[0].exception or {}).get("reason") or ""
                ET.SubElement(case, "skipped", message=f"acknowledged: {reason}")
                counts["skipped"] += 1
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
        suite.set("errors", "0")
    for key, value in totals.items():
        suites.set(key, str(value))
    suites.set("errors", "0")
    ET.indent(suites)
    # the characters sit only in text and attribute values, never in markup: replacing them in
    # the serialised document is replacing them in every value
    body = _NOT_XML.sub(_visible, ET.tostring(suites, encoding="unicode"))
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"
