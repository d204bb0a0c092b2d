"""Following references between resources, across the stacks of one environment.

``Ref``, ``Fn::GetAtt`` and ``${X}`` in ``Fn::Sub`` inside a template, and ``Fn::ImportValue``
through the exports (``Outputs.*.Export.Name``) of the environment's other templates. A resource
is named ``template-name/logical-id``. Used by the bridge (which resources serve a security
service) and by pricers that derive a quantity from what writes where (S3 buckets).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from governance.intrinsics import ref_target
from governance.template import Template


def referenced_ids(value: Any) -> set[str]:
    """Logical ids a property refers to (Ref, GetAtt, inside Join/Sub)."""
    out: set[str] = set()
    target = ref_target(value)
    if target:
        out.add(target)
    if isinstance(value, dict):
        for v in value.values():
            out |= referenced_ids(v)
    elif isinstance(value, list):
        for v in value:
            out |= referenced_ids(v)
    elif isinstance(value, str) and "${" in value:
        out |= {m.split(".")[0] for m in re.findall(r"\$\{([A-Za-z0-9.]+)\}", value)}
    return out


def exports_of(templates: Iterable[Template]) -> dict[str, tuple[Template, str]]:
    """Export name → (template, logical id it points at), for following Fn::ImportValue."""
    out: dict[str, tuple[Template, str]] = {}
    for tpl in templates:
        for output in (tpl.body.get("Outputs") or {}).values():
            if not isinstance(output, dict):
                continue
            name = (output.get("Export") or {}).get("Name")
            if isinstance(name, str):
                ids = referenced_ids(output.get("Value"))
                if len(ids) == 1:
                    out[name] = (tpl, next(iter(ids)))
    return out


def targets(tpl: Template, value: Any, exports: dict[str, tuple[Template, str]]) -> set[str]:
    """Keys ``template-name/logical-id`` a property points at, across stacks via exports."""
    out = {f"{tpl.name}/{i}" for i in referenced_ids(value) if i in tpl.resources}

    def walk(v: Any) -> None:
        if isinstance(v, dict):
            if "Fn::ImportValue" in v and isinstance(v["Fn::ImportValue"], str):
                hit = exports.get(v["Fn::ImportValue"])
                if hit:
                    out.add(f"{hit[0].name}/{hit[1]}")
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    walk(value)
    return out
