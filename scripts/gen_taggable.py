"""Regenerate ``governance/data/taggable.json`` from the resource schemas cfn-lint ships.

For every CloudFormation type whose schema says ``taggable: true`` it records the tag property
and its shape (``list`` of Key/Value, or ``map``). Run: ``.venv/bin/python scripts/gen_taggable.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import cfnlint

OUT = Path(__file__).resolve().parent.parent / "governance" / "data" / "taggable.json"


def _shape(schema: dict, prop: dict) -> str:
    if "$ref" in prop:
        name = prop["$ref"].rsplit("/", 1)[-1]
        prop = schema.get("definitions", {}).get(name, {})
    kind = prop.get("type")
    if kind == "array":
        return "list"
    if kind == "object":
        return "map"
    return "other"


def main() -> None:
    base = Path(cfnlint.__file__).parent / "data" / "schemas"
    providers = json.loads((base / "providers" / "us-east-1.json").read_text())
    out: dict[str, dict[str, str]] = {}
    for type_name, digest in sorted(providers.items()):
        schema_path = base / "resources" / f"{digest}.json"
        if not schema_path.is_file():
            continue
        schema = json.loads(schema_path.read_text())
        tagging = schema.get("tagging") or {}
        prop_path = tagging.get("tagProperty", "")
        if not tagging.get("taggable") or not prop_path.startswith("/properties/"):
            continue
        prop_name = prop_path.split("/")[2]
        prop = schema.get("properties", {}).get(prop_name)
        if prop is None:
            continue
        out[type_name] = {"property": prop_name, "shape": _shape(schema, prop)}
    OUT.write_text(json.dumps(out, indent=0, sort_keys=True) + "\n")
    print(f"wrote {len(out)} taggable types to {OUT}")


if __name__ == "__main__":
    main()
