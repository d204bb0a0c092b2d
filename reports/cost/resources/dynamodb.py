"""Amazon DynamoDB: tables (on-demand or provisioned capacity, auto-scaling followed through the
daily shape, global secondary indexes, storage, point-in-time recovery, backups, streams) and
global tables (replicated writes and storage in every replica region).

Global tables follow AWS's "Understanding Amazon DynamoDB billing for global tables" (DynamoDB
Developer Guide, read 2026-12-03): with two or more replicas every write is charged one
replicated write unit (rWRU, or rWCU when provisioned) in *each* replica's region, the writing
region included; updates to global secondary indexes are charged standard write units in every
region that holds the index (all replica regions); reads and storage are billed as for a
single-region table; and replication's cross-region traffic is data transfer out of the writing
region. The stream replication needs is part of the rWRU price (AWS Prescriptive Guidance,
"Global tables FAQ"), so only other readers' stream reads are priced."""

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


GLOBAL_USAGE = (
    UsageKey(
        "monthly_index_write_request_units",
        derived("monthly_write_request_units × the number of global secondary indexes"),
        "WRU",
        "index updates a month in each replica region (one per 1 KB an item writes to an index;"
        " an item without an index's key attributes is not written to it)",
    ),
    UsageKey(
        "monthly_replicated_data_gb",
        derived("monthly_write_request_units × 1 KB (a write unit covers up to 1 KB)"),
        "GB",
        "data replication sends to each other replica region a month (inter-region transfer)",
    ),
)


@prices(
    "AWS::DynamoDB::GlobalTable",
    service="Amazon DynamoDB",
    usage=(*USAGE, STREAMS_READS, *GLOBAL_USAGE),
)
def dynamodb_global_table(res: Resource, ctx: Context) -> Iterator[CostComponent]:
    mode = ctx.text(res.prop("BillingMode"), "PROVISIONED", "BillingMode")
    replicas = [r for r in (res.prop("Replicas") or []) if isinstance(r, dict)]
    regions = [ctx.text(r.get("Region"), ctx.region, "Replicas.Region") for r in replicas]
    regions = regions or [ctx.region]
    # the template's region first: it is where the report places the table's own line
    regions = sorted(regions, key=lambda r: r != ctx.region)
    others = [r for r in regions if r != ctx.region]
    replicated = len(regions) > 1
    indexes = res.prop("GlobalSecondaryIndexes") or []
    indexes = indexes if isinstance(indexes, list) else []
    ctx.attr("replicas", ", ".join(regions))
    writes = ctx.usage.get("monthly_write_request_units")
    reads = ctx.usage.get("monthly_read_request_units")
    if mode == "PAY_PER_REQUEST":
        ctx.attr("billing", "on-demand")
        if replicated:
            ctx.note(
                f"every write is charged one replicated write unit in each of the {len(regions)}"
                " replica regions, the writing one included"
            )
        for region in regions:
            if replicated:
                yield from ctx.charge(
                    f"Replicated write request units ({region})",
                    "dynamodb.replicated.write",
                    writes,
                    region=region,
                )
            else:
                yield from ctx.charge("Write request units", "dynamodb.ondemand.write", writes)
        if indexes:
            index_writes = (
                ctx.usage.get("monthly_index_write_request_units")
                if ctx.usage.has("monthly_index_write_request_units")
                else writes * len(indexes)
            )
            ctx.note(
                f"{len(indexes)} global secondary index(es): their updates are standard write"
                " units in every replica region"
            )
            for region in regions:
                where = f" ({region})" if replicated else ""
                yield from ctx.charge(
                    f"Index write request units{where}",
                    "dynamodb.ondemand.write",
                    index_writes,
                    region=region,
                )
        yield from ctx.charge("Read request units", "dynamodb.ondemand.read", reads)
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
        if indexes:
            ctx.note("the write capacity of provisioned global secondary indexes is not modelled")
        for region in regions:
            if replicated:
                yield from ctx.charge(
                    f"Replicated write capacity ({region})",
                    "dynamodb.replicated.wcu",
                    wcu * ctx.hours,
                    region=region,
                )
            else:
                yield from ctx.charge("Write capacity", "dynamodb.provisioned.wcu", wcu * ctx.hours)
    if others:
        data = (
            ctx.usage.get("monthly_replicated_data_gb")
            if ctx.usage.has("monthly_replicated_data_gb")
            else writes / (1024.0 * 1024.0)
        )
        for region in others:
            yield from ctx.charge(
                f"Replication data transfer to {region}",
                "data_transfer.inter_region",
                data,
                service="Amazon DynamoDB",
            )
        ctx.note(
            "replication traffic is priced out of the template's region at its inter-region"
            " rate; adding a replica to a table that holds data is a one-time restore and"
            " transfer charge, not priced monthly"
        )
    if res.prop("StreamSpecification"):
        stream_reads = ctx.usage.get("monthly_streams_read_request_units")
        if stream_reads:
            yield from ctx.charge(
                "Streams read request units", "dynamodb.streams.read", stream_reads
            )
        elif replicated:
            ctx.note("replication's reads of the stream are included in the replicated write price")
    by_region = {ctx.text(r.get("Region"), ctx.region, "Replicas.Region"): r for r in replicas}
    for region in regions:
        spec = by_region.get(region, {}).get("PointInTimeRecoverySpecification")
        yield from _storage_and_backups(res, ctx, spec, region=region)
