"""Tagging rules: every taggable resource carries the policy's mandatory tags (PCI DSS 12.5.1)."""

from __future__ import annotations

from collections.abc import Iterator

from governance.intrinsics import Unresolved
from governance.model import Category, Issue, Severity, undecidable, violation
from governance.policy import Policy
from governance.registry import rule
from governance.tags import resource_tags, taggable_types
from governance.template import Resource


@rule(
    id="TAG-001",
    slug="missing-mandatory-tag",
    title="Mandatory tags are present and non-empty",
    severity=Severity.ERROR,
    resource_types=tuple(taggable_types()),
    category=Category.TAGGING,
    pci=("12.5.1",),
)
def missing_mandatory_tag(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """Every resource that takes tags carries each mandatory tag key with a non-empty value.

    One finding per resource, listing every mandatory key that is missing or empty.

    Why:
        Tags are how an auditor scopes the cardholder-data environment (inventory of in-scope
        components, PCI DSS 12.5.1) and how finance allocates cost. A resource without its
        Environment, Owner, CostCenter or DataClassification tag falls out of both.

    Fix:
        Configure the tag values in `cdk.json` (`governance.tag_values`, or the environment's
        override) and let `governance.apply(app)` add them, or call `Tags.of(scope).add(key, value)`.

    Example:
        Tags.of(app).add("DataClassification", "confidential")
    """
    tags = resource_tags(resource)
    if tags is None:
        return
    if isinstance(tags, Unresolved):
        yield undecidable(f"tags cannot be read: {tags.reason}", "Properties/Tags")
        return
    missing, empty = [], []
    for key in policy.mandatory_tags:
        value = tags.get(key)
        if isinstance(value, (Unresolved, dict)):
            continue  # a tag value computed at deploy time is present
        if value is None:
            missing.append(key)
        elif str(value).strip() == "":
            empty.append(key)
    if missing or empty:
        parts = [
            f"{what}: {', '.join(keys)}"
            for what, keys in (("missing", missing), ("empty", empty))
            if keys
        ]
        yield violation(f"mandatory tags {'; '.join(parts)}", "Properties/Tags")
