"""What a pricer is, and the context it prices one resource in.

A pricer is one small function per CloudFormation type, registered with :func:`prices` together
with every usage key it reads about that type (name, default, unit, one-line description)::

    @prices(
        "AWS::SQS::Queue",
        service="Amazon Simple Queue Service",
        usage=(UsageKey("monthly_requests", 100_000, "requests", "API requests a month"),),
    )
    def sqs_queue(res: Resource, ctx: Context) -> Iterator[CostComponent]:
        yield from ctx.charge("Requests", "sqs.standard", ctx.usage.get("monthly_requests"))

It reads quantities from the template (``res``) and its declared usage keys (``ctx.usage``;
another resource's through ``ctx.usage_of``), prices them through ``ctx.charge`` (which looks the
price up for the resource's region, splits volume tiers against what the account already used,
and marks missing prices), and records what it read as ``ctx.attr(...)`` so before/after
differences can be named.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from governance.intrinsics import Unresolved, as_bool, as_int, as_str, ref_target
from governance.template import Resource, Template
from reports.cost.model import CostComponent
from reports.cost.usage import UsageKey, declarations

if TYPE_CHECKING:
    from reports.cost.catalogue import Catalogue
    from reports.cost.usage import Usage, UsageProfile

Pricer = Callable[[Resource, "Context"], Iterable[CostComponent]]


@dataclass(frozen=True)
class PricerSpec:
    """A registered pricer: the type it prices, its main service and the usage keys it reads."""

    resource_type: str
    func: Pricer
    service: str
    usage: tuple[UsageKey, ...]

    @property
    def usage_keys(self) -> tuple[str, ...]:
        return tuple(k.name for k in self.usage)


#: Filled by :func:`prices`; read it through :func:`reports.cost.resources.all_pricers`.
_REGISTRY: dict[str, PricerSpec] = {}


def prices(
    resource_type: str, *, service: str, usage: tuple[UsageKey, ...] = ()
) -> Callable[[Pricer], Pricer]:
    """Register ``func`` as the pricer of ``resource_type``, reading the ``usage`` keys declared."""
    declarations({resource_type: usage})  # refuses a key declared twice

    def decorate(func: Pricer) -> Pricer:
        if resource_type in _REGISTRY:
            raise ValueError(f"{resource_type} already has a pricer")
        _REGISTRY[resource_type] = PricerSpec(resource_type, func, service, tuple(usage))
        return func

    return decorate


@dataclass
class SideState:
    """State shared by every resource of one side (before or after) of a report.

    ``used`` is the account-and-region volume already consumed per price key (AWS applies
    volume tiers to the account's monthly total); ``once`` records charges made once per
    organisation (the Shield Advanced subscription).
    """

    used: dict[tuple[str, str, str], float] = field(default_factory=dict)
    once: dict[str, str] = field(default_factory=dict)


@dataclass
class EnvironmentView:
    """Every template of one environment, with indexes pricers share."""

    name: str
    templates: list[Template]
    _counts: dict[str, int] | None = None
    #: indexes a pricer builds once per environment (e.g. which resources write to a bucket)
    cache: dict[str, Any] = field(default_factory=dict)
    _sharing: dict[str, int] | None = None

    def count(self, resource_type: str) -> int:
        if self._counts is None:
            counts: dict[str, int] = {}
            for tpl in self.templates:
                for rtype, rows in tpl.by_type.items():
                    counts[rtype] = counts.get(rtype, 0) + len(rows)
            self._counts = counts
        return self._counts.get(resource_type, 0)

    def count_sharing(self, resource_type: str, profile: UsageProfile) -> int:
        """Resources of the type that share its default usage (no usage entry names them)."""
        if self._sharing is None:
            self._sharing = {}
        if resource_type not in self._sharing:
            self._sharing[resource_type] = sum(
                1 for res in self.of_type(resource_type) if not profile.has_own_usage(res)
            )
        return self._sharing[resource_type]

    def of_type(self, resource_type: str) -> Iterator[Resource]:
        for tpl in self.templates:
            yield from tpl.of_type(resource_type)


@dataclass
class Context:
    """Everything a pricer may read about the resource it prices, and where it writes."""

    resource: Resource
    environment: EnvironmentView
    region: str
    account: str
    catalogue: Catalogue
    profile: UsageProfile
    usage: Usage
    side: SideState
    attributes: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    free_reason: str | None = None

    @property
    def template(self) -> Template:
        return self.resource.template

    @property
    def hours(self) -> float:
        return self.catalogue.hours_per_month

    @property
    def days(self) -> float:
        return self.profile.workload.days_per_month

    # -- recording -------------------------------------------------------------------------

    def attr(self, name: str, value: str) -> None:
        """A configuration fact that drives cost ("memory": "512 MB")."""
        self.attributes[name] = value

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def warn(self, text: str) -> None:
        """A finding the page lists above the detail (demand above a ceiling: throttling)."""
        if text not in self.warnings:
            self.warnings.append(text)
        self.note(text)

    def free(self, reason: str) -> None:
        """This resource has no charge of its own (e.g. a gateway VPC endpoint)."""
        self.free_reason = reason

    def once(self, key: str, holder: str) -> str | None:
        """``None`` the first time ``key`` is claimed on this side, else who claimed it."""
        if key in self.side.once:
            return self.side.once[key]
        self.side.once[key] = holder
        return None

    # -- pricing ----------------------------------------------------------------------------

    def charge(
        self,
        name: str,
        price_key: str,
        quantity: float,
        *,
        usage_based: bool = True,
        region: str | None = None,
        note: str = "",
        service: str | None = None,
    ) -> list[CostComponent]:
        """Price ``quantity`` base units of ``price_key``: one component per volume tier used.

        A missing price gives one component with no unit price, so the line shows
        "not priced" for it instead of a silent $0.
        """
        where = region or self.region
        price = self.catalogue.price(price_key, where)
        if price is None:
            return [
                CostComponent(
                    name=name,
                    unit="—",
                    monthly_quantity=quantity,
                    unit_price=None,
                    usage_based=usage_based,
                    service=service or self._spec_service(),
                    price_key=price_key,
                    note=f"no price for {price_key} in {where}" + _refresh_hint(price_key, where),
                )
            ]
        if usage_based and not self.profile.usage_stated:
            return [
                CostComponent(
                    name=name,
                    unit=price.unit,
                    monthly_quantity=0.0,
                    unit_price=price.tiers[0][1],
                    usage_based=True,
                    service=service or price.service,
                    price_key=price_key,
                    tier=price.split(0.0)[0][0] if price.is_tiered else None,
                    note="depends on usage: no usage file states it (govern report cost --usage)",
                    depends_on_usage=True,
                )
            ]
        units = quantity / price.per
        scope = (self.account, where, price_key)
        already = self.side.used.get(scope, 0.0)
        rows = price.split(units, already)
        if price.is_tiered:
            self.side.used[scope] = already + units
        if price.assumed_from:
            note = f"{note}; " if note else ""
            note += f"{where} price assumed equal to {price.assumed_from}"
        return [
            CostComponent(
                name=name,
                unit=price.unit,
                monthly_quantity=qty,
                unit_price=rate,
                usage_based=usage_based,
                service=service or price.service,
                price_key=price_key,
                tier=label,
                note=note,
            )
            for label, qty, rate in rows
        ]

    def _spec_service(self) -> str:
        spec = _REGISTRY.get(self.resource.type)
        return spec.service if spec else "unknown"

    # -- reading the template ---------------------------------------------------------------

    def number(self, value: Any, default: float, what: str) -> float:
        """A numeric property; the documented default (and a note) when absent or unreadable."""
        got = as_int(value, self.template) if not isinstance(value, float) else value
        if got is None:
            return default
        if isinstance(got, Unresolved):
            self.note(f"{what} could not be read ({got.reason}); assumed {default:g}")
            return default
        return float(got)

    def text(self, value: Any, default: str, what: str) -> str:
        got = as_str(value, self.template)
        if got is None:
            return default
        if isinstance(got, Unresolved):
            self.note(f"{what} could not be read ({got.reason}); assumed {default}")
            return default
        return got

    def flag(self, value: Any, default: bool, what: str) -> bool:
        got = as_bool(value, self.template)
        if got is None:
            return default
        if isinstance(got, Unresolved):
            self.note(f"{what} could not be read ({got.reason}); assumed {default}")
            return default
        return got

    def target(self, value: Any) -> Resource | None:
        """The resource a ``Ref``/``GetAtt`` points at in the same template."""
        return self.template.get(value)

    def usage_of(self, other: Resource) -> Usage:
        """The usage values of another resource of the same environment."""
        return self.profile.for_resource(
            other, self.environment.name, self.environment.count_sharing(other.type, self.profile)
        )

    def usage_of_type(self, resource_type: str) -> Usage:
        """The usage any resource of ``resource_type`` gets in this environment when no
        ``resources`` entry names it (e.g. the log group Lambda creates itself)."""
        return self.profile.for_type(resource_type, self.environment.name)


def _refresh_hint(price_key: str, region: str) -> str:
    """How to fill a missing instance price from the Price List API."""
    if price_key.startswith("ec2.instance."):
        family = price_key.removeprefix("ec2.instance.").split(".")[0]
        return f" (govern prices refresh --region {region} --instance-family {family})"
    if price_key.startswith("rds.") and ".db." in price_key:
        family = price_key.split(".db.", 1)[1].split(".")[0]
        return f" (govern prices refresh --region {region} --db-instance-family {family})"
    return ""


def refs_in(value: Any) -> set[str]:
    """Every logical id referenced (``Ref``/``GetAtt``/``${X}`` in ``Fn::Sub``) inside ``value``."""
    out: set[str] = set()
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            target = ref_target(node)
            if target is not None:
                out.add(target)
                continue
            if len(node) == 1 and "Fn::Sub" in node:
                arg = node["Fn::Sub"]
                text = arg if isinstance(arg, str) else (arg[0] if isinstance(arg, list) else "")
                if isinstance(text, str):
                    out.update(re.findall(r"\$\{([A-Za-z0-9]+)(?:\.[^}]*)?\}", text))
                if isinstance(arg, list) and len(arg) == 2:
                    stack.append(arg[1])
                continue
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return out


def fmt_mb(mb: float) -> str:
    return f"{mb:,.0f} MB"
