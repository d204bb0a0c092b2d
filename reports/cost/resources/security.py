"""Security services: KMS keys, Secrets Manager secrets, WAF web ACLs, Shield Advanced,
GuardDuty detectors and CloudTrail trails."""

from __future__ import annotations

from collections.abc import Iterator

from governance.template import Resource
from reports.cost.model import CostComponent
from reports.cost.resources.base import Context, prices, refs_in
from reports.cost.traffic import associated_requests
from reports.cost.usage import UsageKey, per_transaction

#: AWS managed rule groups that carry a fee of their own beyond the $1 a month of a rule group.
PAID_MANAGED_GROUPS = {
    "AWSManagedRulesBotControlRuleSet": "waf.bot_control",
    "AWSManagedRulesATPRuleSet": "waf.fraud_control_atp",
    "AWSManagedRulesACFPRuleSet": "waf.fraud_control_acfp",
}


@prices(
    "AWS::KMS::Key",
    service="AWS Key Management Service",
    usage=(
        UsageKey(
            "monthly_requests",
            100_000,
            "requests",
            "requests a month (services cache data keys: DynamoDB, the SQS reuse period, S3"
            " bucket keys)",
        ),
    ),
)
def kms_key(res: Resource, ctx: Context) -> Iterator[CostComponent]:
    spec = ctx.text(res.prop("KeySpec"), "SYMMETRIC_DEFAULT", "KeySpec")
    if spec != "SYMMETRIC_DEFAULT":
        ctx.attr("key spec", spec)
    yield from ctx.charge("Customer managed key", "kms.key", 1, usage_based=False)
    key = "kms.requests.symmetric" if spec == "SYMMETRIC_DEFAULT" else "kms.requests.asymmetric"
    yield from ctx.charge("Requests", key, ctx.usage.get("monthly_requests"))


@prices(
    "AWS::KMS::ReplicaKey",
    service="AWS Key Management Service",
    usage=(
        UsageKey(
            "monthly_requests", 10_000, "requests", "requests a month in the replica's region"
        ),
    ),
)
def kms_replica_key(res: Resource, ctx: Context) -> Iterator[CostComponent]:
    yield from ctx.charge("Replica key", "kms.key", 1, usage_based=False)
    yield from ctx.charge("Requests", "kms.requests.symmetric", ctx.usage.get("monthly_requests"))


@prices(
    "AWS::SecretsManager::Secret",
    service="AWS Secrets Manager",
    usage=(
        UsageKey(
            "monthly_requests",
            50_000,
            "requests",
            "API calls a month (functions fetch the secret at cold start and cache it)",
        ),
    ),
)
def secret(res: Resource, ctx: Context) -> Iterator[CostComponent]:
    replicas = res.prop("ReplicaRegions")
    count = 1 + (len(replicas) if isinstance(replicas, list) else 0)
    if count > 1:
        ctx.attr("replicas", str(count - 1))
    yield from ctx.charge(
        "Secret" + (f" and {count - 1} replica(s)" if count > 1 else ""),
        "secretsmanager.secret",
        count,
        usage_based=False,
    )
    yield from ctx.charge(
        "API requests", "secretsmanager.requests", ctx.usage.get("monthly_requests")
    )


def _protected(ctx: Context) -> set[str]:
    out: set[str] = set()
    for protection in ctx.environment.of_type("AWS::Shield::Protection"):
        out |= refs_in(protection.prop("ResourceArn"))
    return out


@prices(
    "AWS::WAFv2::WebACL",
    service="AWS WAF",
    usage=(
        UsageKey(
            "monthly_requests",
            per_transaction(1),
            "requests",
            "requests inspected a month, used only when no association to an API, load balancer"
            " or distribution can be followed",
        ),
    ),
)
def web_acl(res: Resource, ctx: Context) -> Iterator[CostComponent]:
    rules = res.prop("Rules") or []
    rules = rules if isinstance(rules, list) else []
    managed = [
        r["Statement"]["ManagedRuleGroupStatement"]
        for r in rules
        if isinstance(r, dict)
        and isinstance(r.get("Statement"), dict)
        and isinstance(r["Statement"].get("ManagedRuleGroupStatement"), dict)
    ]
    ctx.attr("rules", f"{len(rules)} ({len(managed)} managed rule groups)")
    requests, names, ids = associated_requests(res, ctx)
    if names:
        ctx.note("requests are those of " + ", ".join(sorted(names)))
    else:
        requests = ctx.usage.get("monthly_requests")
    if ids and ids <= _protected(ctx):
        ctx.free("WAF fees on resources protected by Shield Advanced are included in Shield")
        return
    yield from ctx.charge("Web ACL", "waf.web_acl", 1, usage_based=False)
    yield from ctx.charge("Rules and rule groups", "waf.rule", len(rules), usage_based=False)
    yield from ctx.charge("Requests", "waf.requests", requests)
    for group in managed:
        name = group.get("Name")
        if name in PAID_MANAGED_GROUPS:
            yield from ctx.charge(f"{name} subscription", PAID_MANAGED_GROUPS[name], 1)


@prices("AWS::Shield::Protection", service="AWS Shield")
def shield_protection(res: Resource, ctx: Context) -> Iterator[CostComponent]:
    ctx.attr("Shield Advanced", "on")
    holder = ctx.once(
        "shield-advanced", f"{ctx.environment.name}: {res.construct_path or res.logical_id}"
    )
    if holder is not None:
        ctx.free(f"the Shield Advanced subscription is charged once per organisation ({holder})")
        return
    ctx.note("one subscription per AWS Organization (1-year commitment), whatever the protections")
    yield from ctx.charge("Shield Advanced subscription", "shield.advanced", 1, usage_based=False)


@prices(
    "AWS::GuardDuty::Detector",
    service="Amazon GuardDuty",
    usage=(
        UsageKey(
            "monthly_management_events",
            2_000_000,
            "events",
            "CloudTrail management events analysed a month",
        ),
        UsageKey("monthly_flow_dns_logs_gb", 20, "GB", "VPC flow and DNS logs analysed a month"),
    ),
)
def guardduty_detector(res: Resource, ctx: Context) -> Iterator[CostComponent]:
    if not ctx.flag(res.prop("Enable"), True, "Enable"):
        ctx.free("detector disabled")
        return
    ctx.note("free trial, S3, EKS, malware and runtime protection are not modelled")
    yield from ctx.charge(
        "CloudTrail management events analysed",
        "guardduty.cloudtrail_events",
        ctx.usage.get("monthly_management_events"),
    )
    yield from ctx.charge(
        "VPC flow and DNS logs analysed",
        "guardduty.flow_dns_logs",
        ctx.usage.get("monthly_flow_dns_logs_gb"),
    )


@prices(
    "AWS::CloudTrail::Trail",
    service="AWS CloudTrail",
    usage=(
        UsageKey(
            "monthly_data_events",
            per_transaction(2),
            "events",
            "data events a month, charged when the trail selects data events",
        ),
        UsageKey(
            "monthly_management_events",
            2_000_000,
            "events",
            "management events a month, charged only for an additional copy",
        ),
        UsageKey(
            "additional_copy",
            0,
            "flag",
            "1 (or true) when another trail already records management events: this copy is"
            " charged",
        ),
    ),
)
def cloudtrail_trail(res: Resource, ctx: Context) -> Iterator[CostComponent]:
    data_events = False
    for selector in res.prop("EventSelectors") or []:
        if isinstance(selector, dict) and selector.get("DataResources"):
            data_events = True
    for selector in res.prop("AdvancedEventSelectors") or []:
        if isinstance(selector, dict) and "Data" in str(selector.get("FieldSelectors")):
            data_events = True
    ctx.attr("data events", "on" if data_events else "off")
    charged = False
    if ctx.usage.get("additional_copy"):
        yield from ctx.charge(
            "Management events (additional copy)",
            "cloudtrail.management_copy",
            ctx.usage.get("monthly_management_events"),
        )
        charged = True
    else:
        ctx.note("the first copy of management events is free")
    if data_events:
        yield from ctx.charge(
            "Data events", "cloudtrail.data_events", ctx.usage.get("monthly_data_events")
        )
        charged = True
    if res.prop("InsightSelectors"):
        yield from ctx.charge("CloudTrail Insights events", "cloudtrail.insights", 0)
        charged = True
    if not charged:
        ctx.free("a single trail of management events is free (its bucket and logs are priced)")
