"""Amazon RDS and Aurora: cluster storage, I/O and backups; instances by class (Serverless v2
in ACU-hours)."""

from __future__ import annotations

from collections.abc import Iterator

from governance.template import Resource
from reports.cost.model import CostComponent
from reports.cost.resources.base import Context, prices
from reports.cost.usage import UsageKey


@prices(
    "AWS::RDS::DBCluster",
    service="Amazon Relational Database Service",
    usage=(
        UsageKey("storage_gb", 20, "GB", "data stored in the cluster volume"),
        UsageKey(
            "monthly_io_requests", 10_000_000, "requests", "I/O requests a month (Aurora Standard)"
        ),
        UsageKey(
            "backup_storage_gb", 0, "GB", "backup storage billed beyond the cluster's free share"
        ),
    ),
)
def db_cluster(res: Resource, ctx: Context) -> Iterator[CostComponent]:
    engine = ctx.text(res.prop("Engine"), "aurora-postgresql", "Engine")
    storage_type = ctx.text(res.prop("StorageType"), "aurora", "StorageType")
    ctx.attr("engine", engine)
    if storage_type == "aurora-iopt1":
        ctx.attr("storage", "I/O-Optimized")
        yield from ctx.charge(
            "Storage (I/O-Optimized)", "rds.aurora.iopt.storage", ctx.usage.get("storage_gb")
        )
    else:
        yield from ctx.charge("Storage", "rds.aurora.storage", ctx.usage.get("storage_gb"))
        yield from ctx.charge("I/O requests", "rds.aurora.io", ctx.usage.get("monthly_io_requests"))
    backup = ctx.usage.get("backup_storage_gb")
    if backup:
        yield from ctx.charge("Backup storage", "rds.aurora.backup", backup)


@prices(
    "AWS::RDS::DBInstance",
    service="Amazon Relational Database Service",
    usage=(
        UsageKey(
            "average_acu",
            0.5,
            "ACU",
            "average Serverless v2 capacity; unless set for the instance, the cluster's"
            " MinCapacity when it states one",
        ),
        UsageKey("monthly_hours", 730, "hours", "hours a month the instance runs"),
    ),
)
def db_instance(res: Resource, ctx: Context) -> Iterator[CostComponent]:
    cluster = ctx.target(res.prop("DBClusterIdentifier"))
    engine_raw = res.prop("Engine") or (cluster.prop("Engine") if cluster else None)
    engine = ctx.text(engine_raw, "unknown", "Engine")
    klass = ctx.text(res.prop("DBInstanceClass"), "unknown", "DBInstanceClass")
    ctx.attr("instance class", klass)
    hours = ctx.usage.get("monthly_hours")
    if klass == "db.serverless":
        acu = ctx.usage.get("average_acu")
        if not ctx.usage.is_explicit("average_acu") and cluster is not None:
            low = cluster.prop("ServerlessV2ScalingConfiguration", "MinCapacity")
            acu = ctx.number(low, acu, "MinCapacity")
        ctx.attr("capacity", f"{acu:g} ACU average")
        yield from ctx.charge("Serverless v2 capacity", "rds.aurora.serverless_v2", acu * hours)
        return
    multi_az = ctx.flag(res.prop("MultiAZ"), False, "MultiAZ") and cluster is None
    count = 2 if multi_az else 1
    yield from ctx.charge(
        f"Instance hours ({klass}{', Multi-AZ' if multi_az else ''})",
        f"rds.{engine}.{klass}",
        hours * count,
        usage_based=False,
    )
    if cluster is None:
        storage = ctx.number(res.prop("AllocatedStorage"), 20, "AllocatedStorage")
        kind = ctx.text(res.prop("StorageType"), "gp2", "StorageType")
        yield from ctx.charge(
            f"Storage ({kind})", f"rds.storage.{kind}", storage * count, usage_based=False
        )
