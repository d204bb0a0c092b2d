"""CSV of the findings for spreadsheets: one row per finding, the columns an auditor filters on."""

from __future__ import annotations

import csv
import io

from reports.compliance.model import ComplianceReport

COLUMNS = (
    "severity",
    "status",
    "rule_id",
    "title",
    "message",
    "stack",
    "logical_id",
    "resource_type",
    "construct_path",
    "property_path",
    "pci_dss",
    "source",
    "also_reported_by",
    "reason",
    "ticket",
    "approver",
    "expires",
    "fix",
    "template_path",
)


def _safe(value: str) -> str:
    """Keep spreadsheets from reading a cell as a formula (CSV injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def to_csv(report: ComplianceReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for f in report.findings:
        exc = f.exception or {}
        row = {
            "severity": str(f.severity),
            "status": f.status,
            "rule_id": f.rule_id,
            "title": f.title,
            "message": f.message,
            "stack": f.stack,
            "logical_id": f.logical_id,
            "resource_type": f.resource_type,
            "construct_path": f.construct_path or "",
            "property_path": f.property_path,
            "pci_dss": " ".join(f.pci),
            "source": f.source,
            "also_reported_by": " ".join(f.also_reported_by),
            "reason": f.reason or exc.get("reason") or "",
            "ticket": exc.get("ticket") or "",
            "approver": exc.get("approver") or "",
            "expires": exc.get("expires") or "",
            "fix": f.fix,
            "template_path": f.template_path,
        }
        writer.writerow([_safe(str(row[c])) for c in COLUMNS])
    return out.getvalue()
