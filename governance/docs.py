"""Generates ``RULES.md`` from the rule registry (a test fails when the file is stale)."""

from __future__ import annotations

from itertools import groupby
from pathlib import Path

from governance.model import Rule
from governance.registry import all_rules

HEADER = (
    "# Rules\n\n"
    "Generated from the rule registry by `govern rules --format markdown > RULES.md`"
    " (or `make rules-doc`); do not edit by hand. A test fails when this file is stale.\n\n"
)


def render_markdown() -> str:
    rules = sorted(all_rules(), key=lambda r: (r.category, r.id))
    parts = [HEADER, "| id | name | severity | category | PCI DSS v4.0.1 | resource types |\n"]
    parts.append("| --- | --- | --- | --- | --- | --- |\n")
    for r in sorted(rules, key=lambda r: r.id):
        types = ", ".join(f"`{t}`" for t in r.resource_types[:4])
        if len(r.resource_types) > 4:
            types += f" and {len(r.resource_types) - 4} more"
        pci = ", ".join(r.pci) or "—"
        parts.append(
            f"| [{r.id}](#{r.id.lower()}) | {r.slug} | {r.severity} | {r.category} | {pci} | {types} |\n"
        )
    for category, group in groupby(rules, key=lambda r: r.category):
        parts.append(f"\n## {category}\n")
        for r in group:
            parts.append(
                f"\n### {r.id}\n\n**{r.title}** (`{r.slug}`, {r.severity}, {r.status.value})\n\n"
            )
            summary = r.doc_section("Summary")
            if summary:
                parts.append(summary + "\n\n")
            equivalents = _equivalents(r)
            if equivalents:
                parts.append(f"*Also checked by.* {equivalents}\n\n")
            for name in ("Why", "Fix", "Example"):
                text = r.doc_section(name)
                if text:
                    body = f"```python\n{text}\n```" if name == "Example" else text
                    parts.append(
                        f"*{name}.* {body}\n\n"
                        if name != "Example"
                        else f"*Example.*\n\n{body}\n\n"
                    )
    return "".join(parts).rstrip() + "\n"


def _equivalents(r: Rule) -> str:
    """``checkov `CKV_AWS_19`; cdk-nag `PCI.DSS.321-S3DefaultEncryptionKMS` `` (or empty)."""
    parts = []
    if r.checkov:
        parts.append("checkov " + ", ".join(f"`{c}`" for c in r.checkov))
    if r.cdk_nag:
        parts.append("cdk-nag " + ", ".join(f"`{n}`" for n in r.cdk_nag))
    return "; ".join(parts)


def write(path: Path) -> None:
    path.write_text(render_markdown())
