"""Amazon DynamoDB: tables (on-demand or provisioned capacity, auto-scaling followed through the
daily shape, global secondary indexes, storage, point-in-time recovery, backups, streams) and
global tables (replicated writes and storage in every replica region)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from governance.template import Resource
from reports.cost.model import CostComponent
from reports.cost.resources.base import Context, prices
from reports.cost.usage import UsageKey, derived

#: Keys of tables and global tables alike.
USAGE = (
    UsageKey(
        "monthly_write_request_units",
        100_000,
        "WRU",
        "write request units a month (one per 1 KB written); capacity follows them when"
        " provisioned",
    ),
    UsageKey(
        "monthly_read_request_units",
        500_000,
        "RRU",
        "read request units a month (one per strongly consistent 4 KB read)",
    ),
    UsageKey("storage_gb", 1, "GB", "data stored in the table"),
    UsageKey(
        "pitr_backup_storage_gb",
        derived("the table's storage_gb"),
        "GB",
        "point-in-time recovery storage, when recovery is on",
    ),
    UsageKey("on_demand_backup_storage_gb", 0, "GB", "on-demand backups held"),
)
STREAMS_READS = UsageKey(
    "monthly_streams_read_request_units",
    0,
    "RRU",
    "stream read request units a month by readers other than Lambda triggers (those are free)",
)


def _scaling(table: Resource, dimension: str, ctx: Context) -> tuple[float, float, float] | None:
    """(min, max, target %) of the auto-scaling target on this table's dimension, if any."""
    tpl = table.template
    for target in tpl.referrers(table.logical_id, "AWS::ApplicationAutoScaling::ScalableTarget"):
        if target.prop("ScalableDimension") != dimension:
            continue
        low = ctx.number(target.prop("MinCapacity"), 1, "MinCapacity")
        high = ctx.number(target.prop("MaxCapacity"), low, "MaxCapacity")
        goal = 70.0
        for policy in tpl.referrers(
            target.logical_id, "AWS::ApplicationAutoScaling::ScalingPolicy"
        ):
            value = policy.prop("TargetTrackingScalingPolicyConfiguration", "TargetValue")
            if value is not None:
                goal = ctx.number(value, 70, "TargetValue")
        return low, high, goal
    return None


def average_capacity(
    monthly_units: float, low: float, high: float, target_percent: float, ctx: Context
) -> float:
    """Mean provisioned capacity when auto-scaling tracks the daily shape of the traffic."""
    per_day = monthly_units / ctx.days
    levels = []
    for fraction in ctx.profile.workload.hourly_fractions():
        consumed = per_day * fraction / 3600.0
        needed = consumed / (target_percent / 100.0)
        levels.append(min(max(needed, low), high))
    return sum(levels) / len(levels)


def _peak_units_per_second(monthly_units: float, ctx: Context) -> float:
    return monthly_units / ctx.days * max(ctx.profile.workload.hourly_fractions()) / 3600.0


def _capacity(
    res: Resource,
    ctx: Context,
    throughput: Any,
    monthly: float,
    field: str,
    dimension: str,
) -> tuple[float, str]:
    fixed = ctx.number((throughput or {}).get(field), 0, field) if throughput else 0.0
    scaling = _scaling(res, dimension, ctx)
    peak = _peak_units_per_second(monthly, ctx)
    if scaling is None:
        if fixed and peak > fixed:
            ctx.warn(
                f"demand above provisioned capacity: {field} {fixed:g} against a peak need of"
                f" {peak:,.0f}/s; throttling expected (the provisioned capacity is priced)"
            )
        return fixed, f"{fixed:,.0f}"
    low, high, goal = scaling
    needed = peak / (goal / 100.0)
    if needed > high:
        ctx.warn(
            f"demand above max capacity: {field.replace('CapacityUnits', '')} peaks at"
            f" {peak:,.0f}/s (auto-scaling at {goal:g}% would want {needed:,.0f}) against"
            f" MaxCapacity {high:,.0f}; throttling expected, the ceiling is priced"
        )
    avg = average_capacity(monthly, low, high, goal, ctx)
    return avg, f"{low:,.0f}–{high:,.0f} auto-scaled at {goal:g}%"


@prices("AWS::DynamoDB::Table", service="Amazon DynamoDB", usage=(*USAGE, STREAMS_READS))
def dynamodb_table(res: Resource, ctx: Context) -> Iterator[CostComponent]:
    mode = ctx.text(res.prop("BillingMode"), "PROVISIONED", "BillingMode")
    indexes = res.prop("GlobalSecondaryIndexes") or []
    indexes = indexes if isinstance(indexes, list) else []
    writes = ctx.usage.get("monthly_write_request_units")
    reads = ctx.usage.get("monthly_read_request_units")
    if mode == "PAY_PER_REQUEST":
        ctx.attr("billing", "on-demand")
        index_writes = writes * len(indexes)
        if indexes:
            ctx.note(
                f"every write is also written to its {len(indexes)} global secondary index(es)"
            )
        yield from ctx.charge(
            "Write request units", "dynamodb.ondemand.write", writes + index_writes
        )
        yield from ctx.charge("Read request units", "dynamodb.ondemand.read", reads)
    else:
        throughput = res.prop("ProvisionedThroughput")
        wcu, wtext = _capacity(
            res, ctx, throughput, writes, "WriteCapacityUnits", "dynamodb:table:WriteCapacityUnits"
        )
        rcu, rtext = _capacity(
            res, ctx, throughput, reads, "ReadCapacityUnits", "dynamodb:table:ReadCapacityUnits"
        )
        for index in indexes:
            t = index.get("ProvisionedThroughput") if isinstance(index, dict) else None
            if isinstance(t, dict):
                wcu += ctx.number(t.get("WriteCapacityUnits"), 0, "index WriteCapacityUnits")
                rcu += ctx.number(t.get("ReadCapacityUnits"), 0, "index ReadCapacityUnits")
        ctx.attr("billing", f"provisioned {wtext} WCU / {rtext} RCU")
        yield from ctx.charge(
            "Write capacity", "dynamodb.provisioned.wcu", wcu * ctx.hours, usage_based=False
        )
        yield from ctx.charge(
            "Read capacity", "dynamodb.provisioned.rcu", rcu * ctx.hours, usage_based=False
        )
    yield from _storage_and_backups(res, ctx, res.prop("PointInTimeRecoverySpecification"))
    if res.prop("StreamSpecification") and ctx.usage.get("monthly_streams_read_request_units"):
        yield from ctx.charge(
            "Streams read request units",
            "dynamodb.streams.read",
            ctx.usage.get("monthly_streams_read_request_units"),
        )


def _storage_and_backups(
    res: Resource, ctx: Context, pitr_spec: Any, region: str | None = None
) -> Iterator[CostComponent]:
    table_class = ctx.text(res.prop("TableClass"), "STANDARD", "TableClass")
    storage = ctx.usage.get("storage_gb")
    key = "dynamodb.storage" if table_class == "STANDARD" else "dynamodb.storage.infrequent_access"
    if table_class != "STANDARD":
        ctx.attr("table class", table_class)
    where = f" ({region})" if region else ""
    yield from ctx.charge(f"Storage{where}", key, storage, region=region)
    pitr = isinstance(pitr_spec, dict) and ctx.flag(
        pitr_spec.get("PointInTimeRecoveryEnabled"), False, "PointInTimeRecoveryEnabled"
    )
    ctx.attr("point-in-time recovery", "on" if pitr else "off")
    if pitr:
        size = (
            ctx.usage.get("pitr_backup_storage_gb")
            if ctx.usage.has("pitr_backup_storage_gb")
            else storage
        )
        yield from ctx.charge(
            f"Point-in-time recovery{where}", "dynamodb.pitr", size, region=region
        )
    backups = ctx.usage.get("on_demand_backup_storage_gb")
    if backups:
        yield from ctx.charge(
            f"On-demand backups{where}", "dynamodb.backup", backups, region=region
        )


@prices("AWS::DynamoDB::GlobalTable", service="Amazon DynamoDB", usage=USAGE)
def dynamodb_global_table(res: Resource, ctx: Context) -> Iterator[CostComponent]:
    mode = ctx.text(res.prop("BillingMode"), "PROVISIONED", "BillingMode")
    replicas = [r for r in (res.prop("Replicas") or []) if isinstance(r, dict)]
    regions = [ctx.text(r.get("Region"), ctx.region, "Replicas.Region") for r in replicas]
    regions = regions or [ctx.region]
    others = [r for r in regions if r != ctx.region]
    ctx.attr("replicas", ", ".join(regions))
    writes = ctx.usage.get("monthly_write_request_units")
    reads = ctx.usage.get("monthly_read_request_units")
    if mode == "PAY_PER_REQUEST":
        ctx.attr("billing", "on-demand")
        yield from ctx.charge("Write request units", "dynamodb.ondemand.write", writes)
        yield from ctx.charge("Read request units", "dynamodb.ondemand.read", reads)
        for region in others:
            yield from ctx.charge(
                f"Replicated writes to {region}", "dynamodb.replicated.write", writes, region=region
            )
    else:
        settings = res.prop(
            "WriteProvisionedThroughputSettings", "WriteCapacityAutoScalingSettings"
        )
        wcu = 0.0
        if isinstance(settings, dict):
            low = ctx.number(settings.get("MinCapacity"), 1, "MinCapacity")
            high = ctx.number(settings.get("MaxCapacity"), low, "MaxCapacity")
            goal = ctx.number(
                (settings.get("TargetTrackingScalingPolicyConfiguration") or {}).get("TargetValue"),
                70,
                "TargetValue",
            )
            wcu = average_capacity(writes, low, high, goal, ctx)
            ctx.attr("billing", f"provisioned {low:,.0f}–{high:,.0f} WCU auto-scaled at {goal:g}%")
        else:
            ctx.attr("billing", "provisioned")
            ctx.note("write capacity settings not readable; write capacity not priced")
        yield from ctx.charge("Write capacity", "dynamodb.provisioned.wcu", wcu * ctx.hours)
        for region in others:
            yield from ctx.charge(
                f"Replicated write capacity in {region}",
                "dynamodb.replicated.wcu",
                wcu * ctx.hours,
                region=region,
            )
    for replica, region in zip(replicas or [{}], regions, strict=False):
        spec = replica.get("PointInTimeRecoverySpecification")
        yield from _storage_and_backups(res, ctx, spec, region=region)
