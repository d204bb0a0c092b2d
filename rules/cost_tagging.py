"""FinOps tagging rule: the cost-allocation tag keys finance groups the bill by.

The keys are ``thresholds.cost_allocation_tags``. Keys that are also mandatory tags are left to
TAG-001 while that rule is enabled, so one missing key gives one finding, not two.
"""

from __future__ import annotations

from collections.abc import Iterator

from governance.intrinsics import Unresolved
from governance.model import Category, Issue, Severity, undecidable, violation
from governance.policy import Policy
from governance.registry import rule
from governance.tags import resource_tags, taggable_types
from governance.template import Resource

#: The rule that already reports missing mandatory tags (judged by its id only).
MANDATORY_TAG_RULE = "TAG-001"


@rule(
    id="COST-TAG-001",
    slug="missing-cost-allocation-tag",
    title="Cost-allocation tags are present and non-empty",
    severity=Severity.WARNING,
    resource_types=tuple(taggable_types()),
    category=Category.COST,
)
def missing_cost_allocation_tag(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """Every taggable resource carries each of `thresholds.cost_allocation_tags`, non-empty.

    Why:
        Cost Explorer, budgets and anomaly monitors group spend by cost-allocation tags; a
        resource without them lands in "untagged" and nobody owns its cost. Keys that are also
        in `mandatory_tags` are reported by TAG-001 (unless that rule is disabled), so this rule
        only adds the keys finance needs beyond the mandatory ones (e.g. `Project`).

    Fix:
        Add the key to the environment's `governance.tag_values` (the tagging Aspect applies
        it), or `Tags.of(scope).add(key, value)`; then activate it as a cost-allocation tag in
        the Billing console.

    Example:
        Tags.of(app).add("Project", "payments")
    """
    keys = [
        key
        for key in policy.thresholds.cost_allocation_tags
        if not (key in policy.mandatory_tags and policy.enabled(MANDATORY_TAG_RULE))
    ]
    if not keys:
        return
    tags = resource_tags(resource)
    if tags is None:
        return
    if isinstance(tags, Unresolved):
        yield undecidable(f"tags cannot be read: {tags.reason}", "Properties/Tags")
        return
    for key in keys:
        value = tags.get(key)
        if isinstance(value, (Unresolved, dict)):
            continue  # a value computed at deploy time is present
        if value is None:
            yield violation(f"cost-allocation tag {key!r} is missing", "Properties/Tags")
        elif str(value).strip() == "":
            yield violation(f"cost-allocation tag {key!r} is empty", "Properties/Tags")
