"""The cost bridge: from today's bill to the optimised platform, one bar per reason.

The legacy profile is today's settings *with* the security services the optimised platform adds
(Shield Advanced, WAF and its logs, GuardDuty, secret rotation, audit logging). Today's platform
as it runs lacks them, so the bridge starts from an overlay, not a third synthesis:

    today      = legacy estimate − the legacy estimate's security resources
    − levers   = legacy − optimised, split by lever (functions, tables, API consolidation, NAT,
                 lifecycle, log retention, instances, other); this is the like-for-like saving,
                 both sides carrying the same security services
    + security = the legacy estimate's security resources, one bar per service
    = optimised  (the optimised estimate's total, to the cent)

A resource belongs to one lever (by its type, a NAT instance to NAT) and, when it serves a
security service, to one security addition. A lever's bar is the saving of its resources
before → after, security resources included (fewer web ACLs after API consolidation is the
consolidation's saving); a security bar is what that service costs on the legacy layout, which is
what adding it to today's platform costs before the levers act on it. Every sum is computed here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from governance.template import Resource, Template
from reports.cost.model import Comparison, Driver, LineItem, ResourceDelta, group_drivers
from reports.cost.references import exports_of, targets

#: The levers, in the bridge's order, with the label the page shows.
LEVERS: tuple[tuple[str, str], ...] = (
    ("functions", "Lambda functions right-sized (memory, architecture)"),
    ("tables", "DynamoDB tables (billing mode, capacity)"),
    ("api", "API consolidation (REST APIs, stages, their web ACLs)"),
    ("nat", "NAT (gateways, instances, public IPv4 addresses)"),
    ("lifecycle", "S3 lifecycle and storage classes"),
    ("logs", "Log retention and log groups"),
    ("instances", "EC2 instances and auto scaling"),
    ("other", "Other resources (alarms, dashboards, keys, queues, …)"),
)
#: The security additions, in the bridge's order.
SECURITY: tuple[tuple[str, str], ...] = (
    ("shield", "Shield Advanced (organisation subscription and protections)"),
    ("waf", "AWS WAF web ACLs"),
    ("waf_logs", "WAF logs"),
    ("guardduty", "GuardDuty"),
    ("rotation", "Secret rotation (schedules and rotation functions)"),
    ("audit_logging", "Audit logging (CloudTrail, VPC flow logs)"),
)
#: Price keys of Lambda charges that grow with an invocation's duration.
DURATION_KEYS = ("lambda.duration.", "lambda.ephemeral_storage.")
TODAY_DEFINITION = (
    "Today's platform as it runs: the legacy profile's estimate without the security services"
    " the optimised platform adds (Shield Advanced, WAF web ACLs and their logs, GuardDuty,"
    " secret rotation, CloudTrail and VPC flow logs), an overlay on the legacy estimate; it"
    " assumes today's bill has none of them."
)

_LEVER_BY_NAMESPACE = {
    "Lambda": "functions",
    "DynamoDB": "tables",
    "ApplicationAutoScaling": "tables",
    "ApiGateway": "api",
    "ApiGatewayV2": "api",
    "WAFv2": "api",
    "WAF": "api",
    "WAFRegional": "api",
    "S3": "lifecycle",
    "Logs": "logs",
    "AutoScaling": "instances",
    "RDS": "instances",
    "ECS": "instances",
}
_LEVER_BY_TYPE = {
    "AWS::EC2::NatGateway": "nat",
    "AWS::EC2::EIP": "nat",
    "AWS::EC2::Instance": "instances",
    "AWS::EC2::LaunchTemplate": "instances",
    "AWS::EC2::Volume": "instances",
}


def _namespace(resource_type: str) -> str:
    parts = resource_type.split("::")
    return parts[1] if len(parts) > 2 else resource_type


def is_nat_instance(res: Resource) -> bool:
    """An EC2 instance that forwards traffic: source/destination check off, or a route's target."""
    if res.type != "AWS::EC2::Instance":
        return False
    if res.prop("SourceDestCheck") is False or str(res.prop("SourceDestCheck")).lower() == "false":
        return True
    return bool(res.template.referrers(res.logical_id, "AWS::EC2::Route"))


def lever_of(res: Resource) -> str:
    """The lever a resource's change belongs to (``other`` when none fits)."""
    if is_nat_instance(res):
        return "nat"
    found = _LEVER_BY_TYPE.get(res.type)
    if found:
        return found
    return _LEVER_BY_NAMESPACE.get(_namespace(res.type), "other")


# --- which resources serve a security service ------------------------------------------------


def security_resources(templates: list[Template]) -> dict[str, str]:
    """``template-name/logical-id`` → security addition, for one environment's templates.

    Shield, WAF and GuardDuty resources by type; a log group a WAF logging configuration writes
    to; a rotation schedule and the function it names (with that function's log group); a
    CloudTrail trail and a VPC flow log with their destinations (bucket or log group) when only
    such writers write there.
    """
    exports = exports_of(templates)
    out: dict[str, str] = {}
    audit_destinations: set[str] = set()
    other_writers: set[str] = set()
    for tpl in templates:
        for res in tpl.resources.values():
            key = f"{tpl.name}/{res.logical_id}"
            namespace = _namespace(res.type)
            if namespace == "Shield":
                out[key] = "shield"
            elif namespace in ("WAFv2", "WAF", "WAFRegional"):
                out[key] = "waf"
                if res.type == "AWS::WAFv2::LoggingConfiguration":
                    out[key] = "waf_logs"
                    for dest in targets(tpl, res.prop("LogDestinationConfigs"), exports):
                        out[dest] = "waf_logs"
            elif namespace == "GuardDuty":
                out[key] = "guardduty"
            elif res.type == "AWS::SecretsManager::RotationSchedule":
                out[key] = "rotation"
                for fn in targets(tpl, res.prop("RotationLambdaARN"), exports):
                    out[fn] = "rotation"
            elif res.type == "AWS::CloudTrail::Trail":
                out[key] = "audit_logging"
                audit_destinations |= targets(tpl, res.prop("S3BucketName"), exports)
                audit_destinations |= targets(tpl, res.prop("CloudWatchLogsLogGroupArn"), exports)
            elif res.type == "AWS::EC2::FlowLog":
                out[key] = "audit_logging"
                audit_destinations |= targets(tpl, res.prop("LogDestination"), exports)
                audit_destinations |= targets(tpl, res.prop("LogGroupName"), exports)
            elif res.type == "AWS::S3::Bucket":
                # buckets that log their access elsewhere write to that bucket too
                dest = res.prop("LoggingConfiguration", "DestinationBucketName")
                other_writers |= targets(tpl, dest, exports)
    for dest in audit_destinations - other_writers:
        out.setdefault(dest, "audit_logging")
    # a rotation function's own log group follows it
    for tpl in templates:
        for res in tpl.of_type("AWS::Logs::LogGroup"):
            key = f"{tpl.name}/{res.logical_id}"
            if key in out:
                continue
            for fn in targets(tpl, res.prop("LogGroupName"), exports):
                if out.get(fn) == "rotation":
                    out[key] = "rotation"
        for res in tpl.of_type("AWS::Lambda::Function"):
            key = f"{tpl.name}/{res.logical_id}"
            if out.get(key) != "rotation":
                continue
            for group in targets(tpl, res.prop("LoggingConfig", "LogGroup"), exports):
                out.setdefault(group, "rotation")
    return out


# --- the bridge ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar of the bridge: a signed monthly amount (negative lowers the bill)."""

    kind: str  # "start", "lever", "security", "end"
    key: str
    label: str
    amount: float
    count: int = 0
    drivers: tuple[Driver, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "key": self.key,
            "label": self.label,
            "amount": round(self.amount, 6),
            "count": self.count,
            "drivers": [d.to_dict() for d in self.drivers],
        }


@dataclass
class Bridge:
    """today → − levers → + security additions → optimised, with the figures finance reads."""

    legacy: float
    optimised: float
    levers: list[Bar] = field(default_factory=list)
    security: list[Bar] = field(default_factory=list)
    organisation_fees: float = 0.0
    #: the optimised side's Lambda duration charges (GB-seconds and ephemeral storage)
    duration_cost_after: float = 0.0

    @property
    def security_total(self) -> float:
        return sum(b.amount for b in self.security)

    @property
    def today(self) -> float:
        return self.legacy - self.security_total

    @property
    def levers_saving(self) -> float:
        """Legacy → optimised, both with the same security: the like-for-like saving."""
        return -sum(b.amount for b in self.levers)

    @property
    def all_in_change(self) -> float:
        """Optimised − today: positive means the bill goes up."""
        return self.optimised - self.today

    @property
    def bars(self) -> list[Bar]:
        return [
            Bar("start", "today", "Today's platform as it runs", self.today),
            *self.levers,
            *self.security,
            Bar("end", "optimised", "Optimised platform", self.optimised),
        ]

    def duration_sensitivity(self, extras: Iterable[float] = (0.0, 0.5, 1.0)) -> list[dict]:
        """The levers' saving and the all-in change if the optimised functions ran longer than
        modelled (+0 %, +50 %, +100 %): their duration charges grow in proportion."""
        out = []
        for extra in extras:
            added = extra * self.duration_cost_after
            out.append(
                {
                    "extra_duration_percent": round(100 * extra),
                    "levers_saving": round(self.levers_saving - added, 6),
                    "all_in_change": round(self.all_in_change + added, 6),
                    "optimised": round(self.optimised + added, 6),
                }
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        like_base = self.legacy - self.organisation_fees
        return {
            "definition": TODAY_DEFINITION,
            "today": round(self.today, 6),
            "legacy": round(self.legacy, 6),
            "optimised": round(self.optimised, 6),
            "all_in_change": round(self.all_in_change, 6),
            "all_in_change_percent": None
            if self.today == 0
            else round(100 * self.all_in_change / self.today, 2),
            "levers_saving": round(self.levers_saving, 6),
            "levers_saving_percent": None
            if self.legacy == 0
            else round(100 * self.levers_saving / self.legacy, 2),
            "levers_saving_percent_excluding_organisation_fees": None
            if like_base <= 0
            else round(100 * self.levers_saving / like_base, 2),
            "security_additions": round(self.security_total, 6),
            "organisation_fees": round(self.organisation_fees, 6),
            "bars": [b.to_dict() for b in self.bars],
            "lambda_duration_cost_after": round(self.duration_cost_after, 6),
            "lambda_duration_sensitivity": self.duration_sensitivity(),
        }


def _environment_security(comparison: Comparison) -> dict[tuple[str, str], str]:
    """(environment, template/logical id) → security addition, for the before side."""
    by_env: dict[str, list[Template]] = defaultdict(list)
    seen: set[int] = set()
    for item in comparison.before.items:
        tpl = item.template
        if tpl is not None and id(tpl) not in seen:
            seen.add(id(tpl))
            by_env[item.environment].append(tpl)
    out: dict[tuple[str, str], str] = {}
    for env, templates in by_env.items():
        for key, kind in security_resources(templates).items():
            out[(env, key)] = kind
    return out


def build_bridge(
    comparison: Comparison,
    *,
    organisation_fees: float = 0.0,
    include: Callable[[LineItem], bool] | None = None,
) -> Bridge:
    """The bridge of a comparison (or of the items ``include`` keeps: one environment, a system)."""
    security_of = _environment_security(comparison)
    lever_sum: dict[str, float] = defaultdict(float)
    lever_rows: dict[str, list[ResourceDelta]] = defaultdict(list)
    sec_sum: dict[str, float] = defaultdict(float)
    sec_count: dict[str, int] = defaultdict(int)
    sec_found: set[str] = set()
    legacy = optimised = 0.0
    for row in comparison.resources():
        before = row.before if row.before and (include is None or include(row.before)) else None
        after = row.after if row.after and (include is None or include(row.after)) else None
        if before is None and after is None:
            continue
        ref = after or before
        assert ref is not None
        b_cost = before.monthly_cost if before else 0.0
        a_cost = after.monthly_cost if after else 0.0
        legacy += b_cost
        optimised += a_cost
        lever = lever_of(ref.resource) if ref.resource is not None else "other"
        lever_sum[lever] += a_cost - b_cost
        if abs(a_cost - b_cost) >= 0.005:
            lever_rows[lever].append(row)
        if before is not None and before.resource is not None:
            tpl_name = before.resource.template.name
            kind = security_of.get((before.environment, f"{tpl_name}/{before.logical_id}"))
            if kind is not None:
                sec_found.add(kind)
                sec_sum[kind] += b_cost
                sec_count[kind] += 1
    duration_after = sum(
        c.monthly_cost or 0.0
        for item in comparison.after.items
        if include is None or include(item)
        for c in item.components
        if c.price_key.startswith(DURATION_KEYS)
    )
    levers = [
        Bar(
            "lever",
            key,
            label,
            lever_sum[key],
            count=len(lever_rows[key]),
            drivers=tuple(group_drivers(lever_rows[key])),
        )
        for key, label in LEVERS
        if key in lever_sum and (abs(lever_sum[key]) >= 0.005 or lever_rows[key])
    ]
    security = [
        Bar("security", key, label, sec_sum[key], count=sec_count[key])
        for key, label in SECURITY
        if key in sec_found
    ]
    return Bridge(
        legacy=legacy,
        optimised=optimised,
        levers=levers,
        security=security,
        organisation_fees=organisation_fees,
        duration_cost_after=duration_after,
    )
