"""The cost report's data: one dictionary, the JSON output, from which HTML and CSV are drawn.

Everything a reader sees is computed here: totals, savings, shares, drivers, the assumptions
(workload, usage files, price sources, dates and grades, assumed regions). Renderers format.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from reports.cost.bridge import build_bridge
from reports.cost.catalogue import Catalogue, Price
from reports.cost.cost_explorer import Actuals
from reports.cost.model import Comparison, Delta, Estimate, LineItem, Status
from reports.cost.usage import UsageProfile

#: How the report names resource types: (one, several).
TYPE_LABELS = {
    "AWS::Lambda::Function": ("Lambda function", "Lambda functions"),
    "AWS::Logs::LogGroup": ("log group", "log groups"),
    "AWS::EC2::NatGateway": ("NAT Gateway", "NAT Gateways"),
    "AWS::EC2::EIP": ("public IPv4 address", "public IPv4 addresses"),
    "AWS::EC2::Instance": ("EC2 instance", "EC2 instances"),
    "AWS::AutoScaling::AutoScalingGroup": ("Auto Scaling group", "Auto Scaling groups"),
    "AWS::DynamoDB::Table": ("DynamoDB table", "DynamoDB tables"),
    "AWS::DynamoDB::GlobalTable": ("DynamoDB global table", "DynamoDB global tables"),
    "AWS::S3::Bucket": ("S3 bucket", "S3 buckets"),
    "AWS::ApiGateway::RestApi": ("REST API", "REST APIs"),
    "AWS::ApiGateway::Stage": ("API stage", "API stages"),
    "AWS::WAFv2::WebACL": ("WAF web ACL", "WAF web ACLs"),
    "AWS::SQS::Queue": ("SQS queue", "SQS queues"),
    "AWS::SNS::Topic": ("SNS topic", "SNS topics"),
    "AWS::KMS::Key": ("KMS key", "KMS keys"),
    "AWS::ECS::Service": ("Fargate service", "Fargate services"),
    "AWS::EC2::VPCEndpoint": ("VPC endpoint", "VPC endpoints"),
    "AWS::CloudWatch::Alarm": ("CloudWatch alarm", "CloudWatch alarms"),
    "AWS::CloudWatch::Dashboard": ("CloudWatch dashboard", "CloudWatch dashboards"),
    "AWS::RDS::DBInstance": ("database instance", "database instances"),
    "AWS::RDS::DBCluster": ("database cluster", "database clusters"),
    "AWS::EC2::Volume": ("EBS volume", "EBS volumes"),
    "AWS::SecretsManager::Secret": ("secret", "secrets"),
    "AWS::GuardDuty::Detector": ("GuardDuty detector", "GuardDuty detectors"),
    "AWS::Shield::Protection": ("Shield protection", "Shield protections"),
}
#: Price keys billed once per AWS Organization rather than per platform.
ORGANISATION_FEES = {"shield.advanced"}

METHOD = [
    "Each resource of the synthesized CloudFormation templates is priced by a pricer for its "
    "type; quantities come from the template (memory, architecture, billing mode, instance "
    "type, desired capacity, retention, lifecycle rules) and from the usage profile.",
    "Volume tiers apply to the account's monthly total in a region, so resources of the same "
    "account share them in the order they are priced.",
    "Lambda duration per invocation is the usage profile's, stated for one full vCPU (1,769 MB "
    "or more); below that its CPU-bound share (cpu_bound_share, 25 % by default) stretches by "
    "1,769 MB over the memory. The bridge shows the saving if the optimised functions ran 50 % "
    "or 100 % longer still; measure with AWS Lambda Power Tuning before relying on it.",
    "S3 lifecycle rules are modelled as shares of time: data moving to Glacier after N days is "
    "priced in Standard for N days and in Glacier for the rest of its life.",
    "Log groups hold their retention period of data; a group that never expires holds the "
    "usage profile's horizon (one year by default).",
    "Organisation-wide fees (the Shield Advanced subscription) are charged once per side of "
    "the comparison, on the first protected environment.",
    "Resource types with no charge of their own are listed as free with the reason; a type "
    "the model does not know is listed as not priced and never counted as $0.",
    "Free tiers are excluded by design (Lambda's 1M requests and 400,000 GB-seconds, SQS's and "
    "SNS's first 1M requests, X-Ray's 100,000 traces, CloudFront's 1 TB, the first two budgets): "
    "the estimate is the list price of every unit, so it can be reconciled with Cost Explorer "
    "line by line; a small account pays less.",
    "Log storage is billed on the compressed size: stored GB = ingested GB × retention × "
    "storage_compression_ratio (1.0 by default, an upper bound until a measured ratio is set).",
    "S3 volumes follow from what writes to each bucket (server access logs: 0.4 KB per request "
    "to the logged bucket; CloudTrail: 1 KB per event; flow logs: their monthly_data_gb; "
    "CloudFront: 0.5 KB per request); a bucket the application writes to takes the profile's "
    "monthly_ingest_gb, else 10 GB.",
    "NAT traffic is the outbound traffic of what runs in VPC subnets (functions with a "
    "VpcConfig: 2 KB per invocation; instances: 5 GB a month each), shared by the environment's "
    "NAT Gateways; with nothing in a subnet, only the gateway hours are charged.",
    "X-Ray records the first request each second and 5 % of the rest (the default sampling "
    "rule), hour by hour of the daily shape; API Gateway detailed metrics are 7 custom metrics "
    "per method; responses of an API not behind CloudFront leave at the EC2 internet rate.",
    "Demand above a ceiling of the template (auto-scaling MaxCapacity, provisioned capacity, "
    "reserved concurrency) is priced at the ceiling and listed as a warning: throttling "
    "expected.",
]


def type_label(resource_type: str, count: int = 2) -> str:
    one, many = TYPE_LABELS.get(resource_type, (resource_type, resource_type))
    return one if count == 1 else many


def organisation_fees(est: Estimate) -> float:
    return sum(
        c.monthly_cost or 0.0
        for i in est.items
        for c in i.components
        if c.price_key in ORGANISATION_FEES
    )


def _line(item: LineItem | None) -> dict[str, Any] | None:
    return item.to_dict() if item is not None else None


def _prices_used(estimates: list[Estimate], catalogue: Catalogue) -> list[Price]:
    seen: dict[tuple[str, str], Price] = {}
    for est in estimates:
        for item in est.items:
            for comp in item.components:
                if comp.unit_price is None or not comp.price_key:
                    continue
                key = (comp.price_key, item.region)
                if key in seen:
                    continue
                price = catalogue.price(comp.price_key, item.region)
                if price is None:  # a component priced in another region (replicas, CloudFront)
                    continue
                seen[key] = price
    return sorted(seen.values(), key=lambda p: (p.region, p.key))


def _price_dict(p: Price) -> dict[str, Any]:
    return {
        "key": p.key,
        "region": p.region,
        "service": p.service,
        "description": p.description,
        "unit": p.unit,
        "tiers": [[size, rate] for size, rate in p.tiers],
        "source": p.source,
        "as_of": p.as_of,
        "grade": p.grade,
        "assumed_from": p.assumed_from,
    }


def build_report(
    comparison: Comparison,
    *,
    catalogue: Catalogue,
    profile: UsageProfile,
    has_before: bool,
    actuals: Actuals | None = None,
    actuals_status: str = "not requested",
    generated_at: dt.datetime | None = None,
    title: str = "Monthly AWS cost: before and after optimisation",
) -> dict[str, Any]:
    """The whole report as plain data (money in USD per month, floats)."""
    generated_at = generated_at or dt.datetime.now(dt.UTC).replace(microsecond=0)
    before, after = comparison.before, comparison.after
    total = comparison.total.to_dict()
    total["annual_saving"] = round(comparison.total.saving * 12, 2)
    org_before, org_after = (
        organisation_fees(comparison.before),
        organisation_fees(comparison.after),
    )
    total["organisation_fees"] = {"before": round(org_before, 6), "after": round(org_after, 6)}
    total["excluding_organisation_fees"] = Delta(
        "excluding organisation-wide fees",
        comparison.before.total - org_before,
        comparison.after.total - org_after,
    ).to_dict()
    saving = comparison.total.saving
    drivers = []
    for d in comparison.drivers():
        row = d.to_dict()
        row["label"] = type_label(d.resource_type, d.count)
        row["share_of_saving"] = None if saving <= 0 else round(100 * d.saving / saving, 2)
        drivers.append(row)
    resources = []
    for r in comparison.resources():
        resources.append(
            {
                "environment": r.environment,
                "name": r.name,
                "resource_type": r.resource_type,
                "service": r.service,
                "change": r.change,
                "before": round(r.before_cost, 6),
                "after": round(r.after_cost, 6),
                "saving": round(r.saving, 6),
                "attribute_changes": [list(c) for c in r.attribute_changes()],
                "status": str((r.after or r.before).status),  # type: ignore[union-attr]
                "before_item": _line(r.before),
                "after_item": _line(r.after),
            }
        )
    not_priced = []
    for side, est in (("before", before), ("after", after)):
        for item in est.items:
            if item.status in (Status.NOT_PRICED, Status.PARTIAL):
                reasons = list(item.notes) + [c.note for c in item.unpriced_components]
                not_priced.append(
                    {
                        "side": side,
                        "environment": item.environment,
                        "name": item.name,
                        "resource_type": item.resource_type,
                        "status": str(item.status),
                        "reasons": [r for r in reasons if r],
                    }
                )
    depends = [
        (side, item, c)
        for side, est in (("before", before), ("after", after))
        for item in est.items
        for c in item.usage_components
    ]
    warnings = [
        {
            "side": side,
            "environment": item.environment,
            "name": item.name,
            "resource_type": item.resource_type,
            "warning": text,
        }
        for side, est in (("before", before), ("after", after))
        for item in est.items
        for text in item.warnings
    ]
    envs = list(dict.fromkeys([*before.environments, *after.environments]))
    regions: dict[str, set[str]] = {}
    for est in (before, after):
        for item in est.items:
            regions.setdefault(item.region, set()).add(item.environment)
    prices = _prices_used([before, after], catalogue)
    dates = sorted({p.as_of for p in prices if p.as_of})
    grades: dict[str, int] = {}
    for p in prices:
        grades[p.grade] = grades.get(p.grade, 0) + 1
    workload = profile.workload
    counts = {
        "before": _counts(before),
        "after": _counts(after),
    }
    bridge = _bridge(comparison, org_before) if has_before else None
    return {
        "title": title,
        "generated_at": generated_at.isoformat(),
        "currency": catalogue.currency,
        "has_before": has_before,
        "totals": total,
        "environments": [d.to_dict() for d in comparison.environments()],
        "systems": [d.to_dict() for d in comparison.systems()],
        "services": [d.to_dict() for d in comparison.services()],
        "env_services": {
            env: [d.to_dict() for d in rows] for env, rows in comparison.env_services().items()
        },
        "drivers": drivers,
        "bridge": bridge,
        "resources": resources,
        "not_priced": not_priced,
        "warnings": warnings,
        "depends_on_usage": {
            "usage_stated": profile.usage_stated,
            "components": len(depends),
            "resources": len({(side, item.environment, item.name) for side, item, _ in depends}),
        },
        "counts": counts,
        "inputs": {"before": before.sources, "after": after.sources, "not_read": []},
        "assumptions": {
            "workload": {
                "peak_transactions_per_minute": workload.peak_transactions_per_minute,
                "hourly_shape": list(workload.hourly_shape),
                "peak_hour_equivalents": round(workload.peak_hour_equivalents, 4),
                "days_per_month": workload.days_per_month,
                "environment_share": {e: workload.share(e) for e in envs},
                "monthly_transactions": {e: round(workload.monthly_transactions(e)) for e in envs},
            },
            "usage_files": profile.files,
            "pricing_rule": catalogue.pricing_rule,
            "hours_per_month": catalogue.hours_per_month,
            "catalogue": catalogue.path,
            "regions": [
                {
                    "region": region,
                    "environments": sorted(envs_in),
                    "name": (catalogue.regions.get(region) or {}).get("name", region),
                    "in_catalogue": region in catalogue.regions,
                    "assumed_from": (catalogue.regions.get(region) or {}).get("assumed_from"),
                    "assumption": catalogue.region_assumption(region),
                }
                for region, envs_in in sorted(regions.items())
            ],
            "price_dates": {
                "earliest": dates[0] if dates else None,
                "latest": dates[-1] if dates else None,
            },
            "grades": dict(sorted(grades.items())),
            "sources": catalogue.used_sources(prices),
            "prices": [_price_dict(p) for p in prices],
            "method": METHOD,
        },
        "cost_explorer": {
            "status": actuals_status,
            "data": actuals.to_dict() if actuals is not None else None,
        },
    }


def _bridge(comparison: Comparison, org_fees: float) -> dict[str, Any]:
    """The bridge of the whole report, and one per environment (each adds up on its own)."""
    whole = build_bridge(comparison, organisation_fees=org_fees).to_dict()
    for bar in whole["bars"]:
        for d in bar["drivers"]:
            d["label"] = type_label(d["resource_type"], d["count"])
    whole["environments"] = {}
    for env in comparison.environments():
        part = build_bridge(
            comparison,
            organisation_fees=0.0,
            include=lambda item, name=env.label: item.environment == name,
        ).to_dict()
        for bar in part["bars"]:
            bar.pop("drivers")
        whole["environments"][env.label] = part
    whole["systems"] = {}
    for system in comparison.systems():
        part = build_bridge(
            comparison,
            organisation_fees=0.0,
            include=lambda item, name=system.label: (item.system or item.stack) == name,
        ).to_dict()
        for bar in part["bars"]:
            bar.pop("drivers")
        whole["systems"][system.label] = part
    return whole


def _counts(est: Estimate) -> dict[str, int]:
    out = {str(s): 0 for s in Status}
    for item in est.items:
        out[str(item.status)] += 1
    return out
