"""Amazon CloudWatch Logs: log groups (ingestion, storage under their retention), metric filters
(custom metrics) and VPC flow logs.

Storage is modelled as a steady state: a group that keeps ``r`` days holds ``r`` days of
ingested data (compressed by ``storage_compression_ratio``); a group that never expires holds
``retention_horizon_days`` of it, the age the estimate assumes the group has reached.
"""

from __future__ import annotations

from collections.abc import Iterator

from governance.template import Resource
from reports.cost.model import CostComponent
from reports.cost.resources.base import Context, prices, refs_in
from reports.cost.traffic import api_requests, invocations, web_acl_requests

GB_PER_KB = 1.0 / (1024.0 * 1024.0)


def log_storage_components(
    ctx: Context,
    ingest_gb: float,
    retention_days: float | None,
    log_class: str,
    *,
    prefix: str = "",
    ingestion: bool = True,
) -> Iterator[CostComponent]:
    """Ingestion and steady-state storage of ``ingest_gb`` a month kept ``retention_days``."""
    if ingestion:
        key = (
            "logs.ingestion.infrequent_access"
            if log_class == "INFREQUENT_ACCESS"
            else "logs.ingestion.standard"
        )
        yield from ctx.charge(f"{prefix}Ingestion", key, ingest_gb, service="AmazonCloudWatch")
    horizon = _log_setting(ctx, "retention_horizon_days", 365.0)
    ratio = _log_setting(ctx, "storage_compression_ratio", 1.0)
    days_kept = horizon if retention_days is None else min(retention_days, horizon)
    stored_gb = ingest_gb / ctx.days * days_kept * ratio
    label = "never expires" if retention_days is None else f"{retention_days:g}-day retention"
    yield from ctx.charge(
        f"{prefix}Storage ({label})",
        "logs.storage",
        stored_gb,
        note="" if retention_days is not None else f"{horizon:g} days of data held (never expires)",
        service="AmazonCloudWatch",
    )


def _log_setting(ctx: Context, key: str, fallback: float) -> float:
    """A log-group usage value; for a function's implicit group, the log-group type default."""
    if ctx.usage.has(key):
        return ctx.usage.get(key)
    value = ctx.profile.defaults.get("AWS::Logs::LogGroup", {}).get(key)
    return float(value) if isinstance(value, (int, float)) else fallback


def derived_ingest_gb(res: Resource, ctx: Context) -> tuple[float, list[str]]:
    """Monthly GB sent to this group by the template's functions, stages and flow logs."""
    tpl = res.template
    total = 0.0
    sources: list[str] = []
    writers = {r.logical_id: r for r in tpl.referrers(res.logical_id, "AWS::Lambda::Function")}
    for fid in refs_in(res.prop("LogGroupName")):
        fn = tpl.resources.get(fid)
        if fn is not None and fn.type == "AWS::Lambda::Function":
            writers[fid] = fn
    for fn in writers.values():
        kb = ctx.usage_of(fn).get("log_kb_per_request", 1.0)
        total += invocations(fn, ctx) * kb * GB_PER_KB
        sources.append(f"function {fn.logical_id}")
    for stage in tpl.referrers(res.logical_id, "AWS::ApiGateway::Stage"):
        api = ctx.target(stage.prop("RestApiId"))
        requests = api_requests(api, ctx) if api is not None else 0.0
        kb = ctx.usage_of(stage).get("access_log_kb_per_request", 0.5)
        total += requests * kb * GB_PER_KB
        sources.append(f"access logs of stage {stage.logical_id}")
    for flow in tpl.referrers(res.logical_id, "AWS::EC2::FlowLog"):
        total += ctx.usage_of(flow).get("monthly_data_gb", 0.0)
        sources.append(f"flow log {flow.logical_id}")
    for logging in tpl.referrers(res.logical_id, "AWS::WAFv2::LoggingConfiguration"):
        acl = ctx.target(logging.prop("ResourceArn"))
        if acl is None or acl.type != "AWS::WAFv2::WebACL":
            continue
        share = 1.0
        if (logging.prop("LoggingFilter", "DefaultBehavior") or "KEEP") == "DROP":
            share = _log_setting(ctx, "waf_filtered_log_share", 0.01)
        kb = _log_setting(ctx, "waf_log_kb_per_request", 1.0)
        total += web_acl_requests(acl, ctx) * share * kb * GB_PER_KB
        sources.append(
            f"WAF logs of {acl.logical_id}"
            + (f" ({share:.0%} kept by its filter)" if share < 1 else "")
        )
    return total, sources


@prices(
    "AWS::Logs::LogGroup",
    service="AmazonCloudWatch",
    usage=(
        "monthly_data_ingested_gb",
        "monthly_data_scanned_gb",
        "retention_horizon_days",
        "storage_compression_ratio",
        "waf_log_kb_per_request",
        "waf_filtered_log_share",
    ),
)
def log_group(res: Resource, ctx: Context) -> Iterator[CostComponent]:
    retention_raw = res.prop("RetentionInDays")
    retention = None if retention_raw is None else ctx.number(retention_raw, 0, "RetentionInDays")
    if retention is not None and retention <= 0:
        retention = None
    log_class = ctx.text(res.prop("LogGroupClass"), "STANDARD", "LogGroupClass")
    ctx.attr("retention", "never expires" if retention is None else f"{retention:g} days")
    if log_class != "STANDARD":
        ctx.attr("class", log_class.replace("_", " ").lower())
    if ctx.usage.is_explicit("monthly_data_ingested_gb"):
        ingest = ctx.usage.get("monthly_data_ingested_gb")
    else:
        ingest, sources = derived_ingest_gb(res, ctx)
        if sources:
            ctx.note("ingestion follows from " + ", ".join(sorted(sources)))
        else:
            ingest = ctx.usage.get("monthly_data_ingested_gb")
    yield from log_storage_components(ctx, ingest, retention, log_class)
    scanned = ctx.usage.get("monthly_data_scanned_gb")
    if scanned:
        yield from ctx.charge("Logs Insights queries", "logs.insights", scanned)


@prices("AWS::Logs::MetricFilter", service="AmazonCloudWatch")
def metric_filter(res: Resource, ctx: Context) -> Iterator[CostComponent]:
    transforms = res.prop("MetricTransformations")
    count = len(transforms) if isinstance(transforms, list) else 1
    yield from ctx.charge("Custom metrics", "cloudwatch.metrics", count, usage_based=False)


@prices("AWS::EC2::FlowLog", service="AmazonCloudWatch", usage=("monthly_data_gb",))
def flow_log(res: Resource, ctx: Context) -> Iterator[CostComponent]:
    destination = ctx.text(res.prop("LogDestinationType"), "cloud-watch-logs", "LogDestinationType")
    traffic = ctx.text(res.prop("TrafficType"), "ALL", "TrafficType")
    ctx.attr("flow log", f"{traffic} to {destination}")
    if destination == "s3":
        yield from ctx.charge(
            "Vended log delivery to S3", "logs.vended.s3", ctx.usage.get("monthly_data_gb")
        )
    else:
        ctx.free("ingestion and storage are priced on the destination log group")
