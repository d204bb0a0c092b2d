"""HTML and JSON views of the compliance report; jinja2 with autoescape only formats the model."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jinja2
import markupsafe

from reports.compliance.model import STATUS_MEANING, ComplianceReport

TEMPLATES = Path(__file__).parent / "templates"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,  # every value is text: a resource named <script> is shown, not run
        undefined=jinja2.StrictUndefined,
        trim_blocks=False,
        lstrip_blocks=False,
    )
    env.filters["basename"] = lambda p: Path(str(p)).name
    env.filters["slug"] = lambda s: re.sub(r"[^a-z0-9]+", "-", str(s).lower()).strip("-")
    env.filters["source_of"] = lambda tag: str(tag).split(":", 1)[0]
    env.filters["breakable"] = _breakable
    return env


def _breakable(text: object) -> markupsafe.Markup:
    """Escaped text with line-break opportunities after each ``/`` of a long path."""
    return markupsafe.Markup(str(markupsafe.escape(text)).replace("/", "/<wbr>"))


def facets(report: ComplianceReport) -> dict[str, list[str]]:
    """The values the page's filters offer."""
    reqs = {p for f in report.findings for p in f.pci}
    return {
        "rules": sorted({f.rule_id for f in report.findings}),
        "stacks": sorted({f.stack for f in report.findings} | {s.name for s in report.scope}),
        "requirements": sorted(
            reqs, key=lambda r: tuple(int(x) for x in r.split(".") if x.isdigit())
        ),
        "sources": sorted(
            {f.source for f in report.findings}
            | {t.split(":", 1)[0] for f in report.findings for t in f.also_reported_by}
        ),
    }


def render_html(report: ComplianceReport, classification_tag: str = "DataClassification") -> str:
    template = _environment().get_template("compliance.html.j2")
    return template.render(
        r=report,
        facets=facets(report),
        status_meaning=STATUS_MEANING,
        classification_tag=classification_tag,
    )


def render_json(report: ComplianceReport) -> str:
    data: dict[str, Any] = report.to_dict()
    return json.dumps(data, indent=2) + "\n"
