"""The usage reference, generated from the pricers' declarations (``docs/usage.md``).

``govern prices usage --format markdown > docs/usage.md`` regenerates the page; a test fails when
the committed page differs from :func:`render_markdown`. ``--format text`` and ``json`` print the
same rows for a terminal or a script.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from reports.cost.resources.base import PricerSpec
from reports.cost.usage import PLATFORM_USAGE_PATH

USAGE_DOC = "docs/usage.md"
REGENERATE = "govern prices usage --format markdown > docs/usage.md"


@dataclass(frozen=True)
class Row:
    """One declared key of one priced type."""

    resource_type: str
    pricer: str
    module: str
    key: str
    unit: str
    default: str
    description: str


def module_path(spec: PricerSpec) -> str:
    """The file of the pricer, relative to the repository (``reports/cost/resources/x.py``)."""
    return spec.func.__module__.replace(".", "/") + ".py"


def rows(pricers: Mapping[str, PricerSpec], resource_type: str | None = None) -> list[Row]:
    """Every declared key, by type then in declaration order."""
    return [
        Row(
            rtype,
            spec.func.__name__,
            module_path(spec),
            key.name,
            key.unit,
            key.describe_default(),
            key.description,
        )
        for rtype, spec in sorted(pricers.items())
        if resource_type in (None, rtype)
        for key in spec.usage
    ]


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render_markdown(pricers: Mapping[str, PricerSpec]) -> str:
    profile = PLATFORM_USAGE_PATH.relative_to(PLATFORM_USAGE_PATH.parents[3]).as_posix()
    out = [
        "# Usage keys of the cost model",
        "",
        f"<!-- Generated from the pricers' declarations by `{REGENERATE}`;"
        " do not edit: a test fails when this page is stale. -->",
        "",
        "Every usage key a pricer reads, with its default, unit and meaning, as the pricer declares"
        " it (`@prices(..., usage=(UsageKey(...), ...))`, beside the pricer's function). A usage"
        f" profile (`{profile}`, or `govern report cost --usage FILE` over it) sets values for"
        " matching resources (`resources:`) or replaces a default for a whole type (`defaults:`);"
        " a key not listed here for the type is refused. How the model uses them:"
        " [cost-model.md](cost-model.md).",
        "",
        "Defaults: a number is the value itself (a `monthly_` key counts a month); *x per transaction* follows"
        " the environment's monthly transactions, which the profile's `workload` states; *shared by"
        " the type's resources in the environment* divides it among them; *derived* means no fixed"
        " default: unless the profile sets the key, the pricer works the value out as described.",
        "",
    ]
    silent: list[tuple[str, str]] = []
    for rtype, spec in sorted(pricers.items()):
        if not spec.usage:
            silent.append((rtype, module_path(spec)))
            continue
        out += [
            f"## {rtype}",
            "",
            f"Pricer `{spec.func.__name__}` in `{module_path(spec)}` ({spec.service}).",
            "",
            "| key | unit | default | description |",
            "| --- | --- | --- | --- |",
        ]
        out += [
            f"| `{r.key}` | {_cell(r.unit)} | {_cell(r.default)} | {_cell(r.description)} |"
            for r in rows(pricers, rtype)
        ]
        out.append("")
    if silent:
        out += [
            "## Priced from the template alone",
            "",
            "These pricers read no usage keys:",
            "",
        ]
        out += [f"- `{rtype}` (`{path}`)" for rtype, path in silent]
        out.append("")
    return "\n".join(out)


def render_text(pricers: Mapping[str, PricerSpec], resource_type: str | None = None) -> str:
    found = rows(pricers, resource_type)
    if not found:
        return ""
    width = max(len(r.key) for r in found)
    lines: list[str] = []
    current = None
    for r in found:
        if r.resource_type != current:
            if lines:
                lines.append("")
            current = r.resource_type
            lines.append(f"{r.resource_type}  ({r.module})")
        lines.append(f"  {r.key:<{width}}  {r.default} ({r.unit})")
        lines.append(f"  {'':<{width}}  {r.description}")
    return "\n".join(lines) + "\n"


def render_json(pricers: Mapping[str, PricerSpec], resource_type: str | None = None) -> str:
    return json.dumps([r.__dict__ for r in rows(pricers, resource_type)], indent=2) + "\n"
