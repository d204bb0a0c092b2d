"""CSV of the findings for spreadsheets: one row per finding, the columns an auditor filters on.

Cells are written by hand rather than by :mod:`csv`, whose writer (Python 3.11) leaves a cell with
a bare carriage return unquoted when the line terminator is ``\n``: a spreadsheet then starts a
new row there, and the next cell escapes formula neutralisation. Here every cell holding a
comma, a quote, CR or LF is quoted, and every line of a cell that starts like a formula (``=``,
``+``, ``-``, ``@``, tab, CR) is prefixed with ``'``.
"""

from __future__ import annotations

import io
import re

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


_FORMULA_START = re.compile(r"(^|[\r\n])(?=[=+\-@\t\r\uff1d\uff0b\uff0d\uff20])")
_NEEDS_QUOTES = re.compile(r'[",\r\n]')
#: Characters no spreadsheet should see in a cell: C0 controls other than tab, CR and LF, and
#: lone surrogates (which no UTF-8 file can carry).
_UNWRITABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _safe(value: str) -> str:
    """Keep spreadsheets from reading any line of a cell as a formula (CSV injection)."""
    value = _UNWRITABLE.sub(_visible, value)
    return _FORMULA_START.sub(r"\1'", value)


def _cell(value: str) -> str:
    if _NEEDS_QUOTES.search(value):
        return '"' + value.replace('"', '""') + '"'
    return value


def _row(values: list[str]) -> str:
    return ",".join(_cell(v) for v in values) + "\n"


def to_csv(report: ComplianceReport) -> str:
    out = io.StringIO()
    out.write(_row(list(COLUMNS)))
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
        out.write(_row([_safe(str(row[c])) for c in COLUMNS]))
    return out.getvalue()
