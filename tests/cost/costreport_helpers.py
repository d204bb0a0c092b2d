"""Helpers for the cost-report tests: price a template body with an optional usage document."""

from __future__ import annotations

from typing import Any

from governance.template import Template
from reports.cost.catalogue import load_catalogue
from reports.cost.estimate import Assembly, estimate
from reports.cost.model import Estimate, LineItem
from reports.cost.resources import declared_usage
from reports.cost.usage import PLATFORM_USAGE_PATH, UsageProfile, build_profile, read_profile


def profile_with(usage: dict[str, Any] | None = None) -> UsageProfile:
    """The default usage profile with ``usage`` layered over it."""
    docs = [(str(PLATFORM_USAGE_PATH), read_profile(PLATFORM_USAGE_PATH))]
    if usage:
        docs.append(("test-usage", usage))
    return build_profile(docs, declared_usage())


def price_body(
    body: dict[str, Any],
    usage: dict[str, Any] | None = None,
    environment: str = "production",
    name: str = "Stack",
    region: str | None = None,
) -> Estimate:
    tpl = Template(name=name, path=f"{name}.json", body=body)
    if region:
        tpl.environment = f"aws://123456789012/{region}"
    return estimate(
        [Assembly(environment, [tpl])],
        label="test",
        catalogue=load_catalogue(),
        profile=profile_with(usage),
    )


def item(est: Estimate, logical_id: str) -> LineItem:
    found = [i for i in est.items if i.logical_id == logical_id]
    assert len(found) == 1, f"{logical_id}: {len(found)} line items"
    return found[0]


def cost_of(est: Estimate, logical_id: str, component_prefix: str) -> float:
    rows = [c for c in item(est, logical_id).components if c.name.startswith(component_prefix)]
    assert rows, f"{logical_id} has no component starting {component_prefix!r}"
    return sum(c.monthly_cost or 0.0 for c in rows)
