"""The cost data model: components, line items, estimates and the before/after comparison.

Infracost's shape, for CloudFormation. A priced resource yields :class:`CostComponent` rows
(name, unit, monthly quantity, unit price, monthly cost, usage-based or fixed, tier); the rows of
one resource make a :class:`LineItem`; the line items of one or more cloud assemblies make an
:class:`Estimate`; two estimates (before and after) make a :class:`Comparison`, which also names
the drivers of the saving. Every sum is computed here, in Python; renderers only format.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from governance.template import Resource, Template


class Status(StrEnum):
    """How a line item was priced."""

    PRICED = "priced"
    PARTIAL = "partially priced"  # at least one component has no price in the catalogue
    FREE = "free"  # a type with no charge of its own (listed in ``free.py``)
    NOT_PRICED = "not priced"  # a type the model does not know: never counted as $0 silently


@dataclass(slots=True)
class CostComponent:
    """One priced quantity of a resource, for one month.

    ``unit_price`` is ``None`` when the catalogue has no price for it: the component is shown
    and counted as *not priced*, and ``monthly_cost`` is ``None`` too.
    """

    name: str
    unit: str
    monthly_quantity: float
    unit_price: float | None
    usage_based: bool
    service: str
    price_key: str = ""
    tier: str | None = None
    note: str = ""
    #: usage-based with no usage stated: shown with its unit price, left out of every total
    depends_on_usage: bool = False

    @property
    def monthly_cost(self) -> float | None:
        if self.unit_price is None or self.depends_on_usage:
            return None
        return self.monthly_quantity * self.unit_price

    def to_dict(self) -> dict[str, Any]:
        cost = self.monthly_cost
        return {
            "name": self.name,
            "unit": self.unit,
            "monthly_quantity": _num(self.monthly_quantity),
            "unit_price": self.unit_price,
            "monthly_cost": None if cost is None else _num(cost),
            "usage_based": self.usage_based,
            "service": self.service,
            "price_key": self.price_key,
            "tier": self.tier,
            "note": self.note,
            "depends_on_usage": self.depends_on_usage,
        }


@dataclass(slots=True)
class LineItem:
    """One resource of one environment with its cost components."""

    environment: str
    region: str
    stack: str
    logical_id: str
    resource_type: str
    name: str  # construct path without the "/Resource" tail, else stack/logical id
    service: str
    status: Status
    system: str = ""  # the stack's System tag, else the stack's name
    components: list[CostComponent] = field(default_factory=list)
    attributes: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: the template resource priced (not serialised): the bridge and the system view read it
    resource: Resource | None = field(default=None, repr=False, compare=False)

    @property
    def template(self) -> Template | None:
        return self.resource.template if self.resource is not None else None

    @property
    def key(self) -> tuple[str, str]:
        """What identifies "the same resource" in the before and after assemblies."""
        return (self.environment, self.name)

    @property
    def monthly_cost(self) -> float:
        return sum(c.monthly_cost or 0.0 for c in self.components)

    @property
    def unpriced_components(self) -> list[CostComponent]:
        return [c for c in self.components if c.unit_price is None]

    @property
    def usage_components(self) -> list[CostComponent]:
        """Components that depend on usage no file states (not in any total)."""
        return [c for c in self.components if c.depends_on_usage]

    def to_dict(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "region": self.region,
            "stack": self.stack,
            "system": self.system,
            "logical_id": self.logical_id,
            "resource_type": self.resource_type,
            "name": self.name,
            "service": self.service,
            "status": str(self.status),
            "monthly_cost": _num(self.monthly_cost),
            "attributes": dict(self.attributes),
            "notes": list(self.notes),
            "warnings": list(self.warnings),
            "components": [c.to_dict() for c in self.components],
        }


@dataclass
class Estimate:
    """The monthly cost of one side (before or after): line items of every environment."""

    label: str
    items: list[LineItem] = field(default_factory=list)
    sources: dict[str, list[str]] = field(default_factory=dict)  # environment -> input paths

    @property
    def total(self) -> float:
        return sum(item.monthly_cost for item in self.items)

    @property
    def environments(self) -> list[str]:
        return list(dict.fromkeys(item.environment for item in self.items))

    def by_environment(self) -> dict[str, float]:
        out: dict[str, float] = defaultdict(float)
        for item in self.items:
            out[item.environment] += item.monthly_cost
        return dict(out)

    def by_service(self, environment: str | None = None) -> dict[str, float]:
        """Cost by AWS service (Cost Explorer's names), from the components' services."""
        out: dict[str, float] = defaultdict(float)
        for item in self.items:
            if environment is not None and item.environment != environment:
                continue
            for comp in item.components:
                if comp.unit_price is not None:
                    out[comp.service] += comp.monthly_cost or 0.0
        return dict(out)

    def by_system(self) -> dict[str, float]:
        out: dict[str, float] = defaultdict(float)
        for item in self.items:
            out[item.system or item.stack] += item.monthly_cost
        return dict(out)

    def by_resource_type(self) -> dict[str, float]:
        out: dict[str, float] = defaultdict(float)
        for item in self.items:
            out[item.resource_type] += item.monthly_cost
        return dict(out)

    def not_priced(self) -> list[LineItem]:
        return [i for i in self.items if i.status in (Status.NOT_PRICED, Status.PARTIAL)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "total": _num(self.total),
            "by_environment": {k: _num(v) for k, v in self.by_environment().items()},
            "by_service": {k: _num(v) for k, v in sorted(self.by_service().items())},
            "sources": self.sources,
            "items": [i.to_dict() for i in self.items],
        }


# --- before/after ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Delta:
    """A before/after pair of monthly amounts."""

    label: str
    before: float
    after: float

    @property
    def saving(self) -> float:
        return self.before - self.after

    @property
    def saving_percent(self) -> float | None:
        return None if self.before == 0 else 100.0 * self.saving / self.before

    def to_dict(self) -> dict[str, Any]:
        pct = self.saving_percent
        return {
            "label": self.label,
            "before": _num(self.before),
            "after": _num(self.after),
            "saving": _num(self.saving),
            "saving_percent": None if pct is None else round(pct, 2),
        }


@dataclass(slots=True)
class ResourceDelta:
    """The same resource before and after (either side may be missing)."""

    environment: str
    name: str
    resource_type: str
    service: str
    before: LineItem | None
    after: LineItem | None

    @property
    def before_cost(self) -> float:
        return self.before.monthly_cost if self.before else 0.0

    @property
    def after_cost(self) -> float:
        return self.after.monthly_cost if self.after else 0.0

    @property
    def saving(self) -> float:
        return self.before_cost - self.after_cost

    @property
    def change(self) -> str:
        if self.before is None:
            return "added"
        if self.after is None:
            return "removed"
        return "changed" if self.attribute_changes() else "unchanged"

    def attribute_changes(self) -> list[tuple[str, str, str]]:
        """(attribute, before, after) for every configuration attribute that differs."""
        if self.before is None or self.after is None:
            return []
        keys = list(dict.fromkeys([*self.before.attributes, *self.after.attributes]))
        out = []
        for key in keys:
            b = self.before.attributes.get(key, "—")
            a = self.after.attributes.get(key, "—")
            if b != a:
                out.append((key, b, a))
        return out


@dataclass(frozen=True, slots=True)
class Driver:
    """A named reason for the saving, e.g. "Lambda functions: 3,008 MB x86_64 → 512 MB arm64"."""

    service: str
    resource_type: str
    description: str
    count: int
    environments: tuple[str, ...]
    saving: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "resource_type": self.resource_type,
            "description": self.description,
            "count": self.count,
            "environments": list(self.environments),
            "saving": _num(self.saving),
        }


@dataclass
class Comparison:
    """Before and after estimates, matched resource by resource."""

    before: Estimate
    after: Estimate

    @property
    def total(self) -> Delta:
        return Delta("total", self.before.total, self.after.total)

    def environments(self) -> list[Delta]:
        b, a = self.before.by_environment(), self.after.by_environment()
        names = list(dict.fromkeys([*self.before.environments, *self.after.environments]))
        return [Delta(n, b.get(n, 0.0), a.get(n, 0.0)) for n in names]

    def systems(self) -> list[Delta]:
        """Each system before and after, largest first (a system only one side has shows $0
        on the other)."""
        b, a = self.before.by_system(), self.after.by_system()
        rows = [Delta(s, b.get(s, 0.0), a.get(s, 0.0)) for s in set(b) | set(a)]
        return sorted(rows, key=lambda d: (-max(d.before, d.after), d.label))

    def services(self, environment: str | None = None) -> list[Delta]:
        b, a = self.before.by_service(environment), self.after.by_service(environment)
        rows = [Delta(s, b.get(s, 0.0), a.get(s, 0.0)) for s in set(b) | set(a)]
        return sorted(rows, key=lambda d: (-max(d.before, d.after), d.label))

    def env_services(self) -> dict[str, list[Delta]]:
        return {d.label: self.services(d.label) for d in self.environments()}

    def resources(self) -> list[ResourceDelta]:
        before = {i.key: i for i in self.before.items}
        after = {i.key: i for i in self.after.items}
        keys = list(dict.fromkeys([*before, *after]))
        rows = []
        for key in keys:
            b, a = before.get(key), after.get(key)
            ref = a or b
            assert ref is not None
            rows.append(
                ResourceDelta(key[0], key[1], ref.resource_type, ref.service, before=b, after=a)
            )
        return rows

    def drivers(self, minimum: float = 0.005) -> list[Driver]:
        """Group the resource deltas into named reasons, largest saving first (see
        :func:`group_drivers`)."""
        return group_drivers(self.resources(), minimum)

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total.to_dict(),
            "environments": [d.to_dict() for d in self.environments()],
            "services": [d.to_dict() for d in self.services()],
            "drivers": [d.to_dict() for d in self.drivers()],
            "resources": [
                {
                    "environment": r.environment,
                    "name": r.name,
                    "resource_type": r.resource_type,
                    "service": r.service,
                    "change": r.change,
                    "before": _num(r.before_cost),
                    "after": _num(r.after_cost),
                    "saving": _num(r.saving),
                    "attribute_changes": [list(c) for c in r.attribute_changes()],
                }
                for r in self.resources()
            ],
        }


def group_drivers(rows: Iterable[ResourceDelta], minimum: float = 0.005) -> list[Driver]:
    """Group the resource deltas into named reasons, largest saving first.

    Changed resources are grouped by resource type and the exact configuration change
    ("configuration 3,008 MB x86_64 → 512 MB arm64"); added resources by type. Removed
    resources are grouped by type too, and when the remaining resources of that type carry
    more usage after (several REST APIs consolidated into one), the two are one driver:
    "N removed; usage moves to the remaining M", with the net saving.
    """
    same = "same configuration, different usage or price tier"
    groups: dict[tuple[str, str, str], list[ResourceDelta]] = defaultdict(list)
    for row in rows:
        if abs(row.saving) < minimum:
            continue
        change = row.change
        if change == "changed":
            text = "; ".join(f"{k} {b} → {a}" for k, b, a in row.attribute_changes())
        elif change in ("removed", "added"):
            text = change
        else:
            text = same
        groups[(row.service, row.resource_type, text)].append(row)
    for service, rtype, text in list(groups):
        if text != "removed" or (service, rtype, same) not in groups:
            continue
        removed = groups.pop((service, rtype, "removed"))
        kept = groups.pop((service, rtype, same))
        merged = f"{len(removed)} removed; their usage moves to the remaining {len(kept)}"
        groups[(service, rtype, merged)] = removed + kept
    out = []
    for (service, rtype, text), members in groups.items():
        envs = tuple(dict.fromkeys(r.environment for r in members))
        out.append(
            Driver(
                service=service,
                resource_type=rtype,
                description=text,
                count=len(members),
                environments=envs,
                saving=sum(r.saving for r in members),
            )
        )
    return sorted(out, key=lambda d: (-d.saving, d.resource_type, d.description))


def _num(value: float) -> float:
    """Money and quantities in JSON: six decimals, enough for per-request prices."""
    return round(float(value), 6)


def sum_costs(items: Iterable[LineItem]) -> float:
    return sum(i.monthly_cost for i in items)
