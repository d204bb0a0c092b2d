"""Which system a stack belongs to, for the report's per-system view.

A system is named by the stack-level tag ``System``: in a cloud assembly's manifest (the stack
artifact's ``properties.tags``, where CDK writes the stack's tags), else the value most of the
template's resources carry in their ``Tags``; a stack with neither is a system of its own, named
after the stack.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from governance.template import Template

SYSTEM_TAG = "System"


def manifest_stack_tags(path: str | Path) -> dict[str, dict[str, str]]:
    """Template file path → the stack's tags, for every stack of a cloud assembly (nested
    stage assemblies included); empty for anything that is not a cloud assembly."""
    directory = Path(path)
    manifest = directory / "manifest.json"
    if not manifest.is_file():
        return {}
    try:
        data = json.loads(manifest.read_text())
    except (OSError, json.JSONDecodeError):
        return {}
    out: dict[str, dict[str, str]] = {}
    for artifact in (data.get("artifacts") or {}).values():
        if not isinstance(artifact, dict):
            continue
        props = artifact.get("properties") or {}
        kind = artifact.get("type")
        if kind == "aws:cloudformation:stack" and props.get("templateFile"):
            tags = props.get("tags") or {}
            if isinstance(tags, dict):
                out[str(directory / props["templateFile"])] = {
                    str(k): str(v) for k, v in tags.items()
                }
        elif kind == "cdk:cloud-assembly" and props.get("directoryName"):
            out.update(manifest_stack_tags(directory / props["directoryName"]))
    return out


def _resource_tag(template: Template, key: str) -> str | None:
    counts: Counter[str] = Counter()
    for res in template.resources.values():
        tags: Any = res.properties.get("Tags")
        if isinstance(tags, list):
            for tag in tags:
                if isinstance(tag, dict) and tag.get("Key") == key:
                    value = tag.get("Value")
                    if isinstance(value, str):
                        counts[value] += 1
        elif isinstance(tags, dict) and isinstance(tags.get(key), str):
            counts[tags[key]] += 1
    return counts.most_common(1)[0][0] if counts else None


def system_of(template: Template, stack_tags: dict[str, dict[str, str]]) -> str:
    """The system of one stack: manifest tag, else resources' tag, else the stack's name."""
    tagged = (stack_tags.get(template.path) or {}).get(SYSTEM_TAG)
    if tagged:
        return tagged
    return _resource_tag(template, SYSTEM_TAG) or template.name
