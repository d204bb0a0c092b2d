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
from reports.cost.usage import Usage, UsageKey

GB_PER_KB = 1.0 / (1024.0 * 1024.0)
LOG_GROUP = "AWS::Logs::LogGroup"


def log_storage_components(
    ctx: Context,
    ingest_gb: float,
    retention_days: float | None,
    log_class: str,
    *,
    prefix: str = "",
    ingestion: bool = True,
) -> Iterator[CostComponent]:
    """Ingestion and steady-state storage of ``ingest_gb`` a month kept ``retention_days``.

    The horizon and compression come from the log group's usage: the group priced, or for a
    group Lambda creates itself, any log group's (``ctx.usage_of_type``).
    """
    if ingestion:
        key = (
            "logs.ingestion.infrequent_access"
            if log_class == "INFREQUENT_ACCESS"
            else "logs.ingestion.standard"
        )
        yield from ctx.charge(f"{prefix}Ingestion", key, ingest_gb, service="AmazonCloudWatch")
    settings = _log_group_usage(ctx)
    horizon = settings.get("retention_horizon_days")
    ratio = settings.get("storage_compression_ratio")
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


def _log_group_usage(ctx: Context) -> Usage:
    if ctx.resource.type == LOG_GROUP:
        return ctx.usage
    return ctx.usage_of_type(LOG_GROUP)


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
        kb = ctx.usage_of(fn).get("log_kb_per_request")
        total += invocations(fn, ctx) * kb * GB_PER_KB
        sources.append(f"function {fn.logical_id}")
    for stage in tpl.referrers(res.logical_id, "AWS::ApiGateway::Stage"):
        api = ctx.target(stage.prop("RestApiId"))
        requests = api_requests(api, ctx) if api is not None else 0.0
        kb = ctx.usage_of(stage).get("access_log_kb_per_request")
        total += requests * kb * GB_PER_KB
        sources.append(f"access logs of stage {stage.logical_id}")
    for flow in tpl.referrers(res.logical_id, "AWS::EC2::FlowLog"):
        total += ctx.usage_of(flow).get("monthly_data_gb")
        sources.append(f"flow log {flow.logical_id}")
    for logging in tpl.referrers(res.logical_id, "AWS::WAFv2::LoggingConfiguration"):
        acl = ctx.target(logging.prop("ResourceArn"))
        if acl is None or acl.type != "AWS::WAFv2::WebACL":
            continue
        share = 1.0
        if (logging.prop("LoggingFilter", "DefaultBehavior") or "KEEP") == "DROP":
            share = ctx.usage.get("waf_filtered_log_share")
        kb = ctx.usage.get("waf_log_kb_per_request")
        total += web_acl_requests(acl, ctx) * share * kb * GB_PER_KB
        sources.append(
            f"WAF logs of {acl.logical_id}"
            + (f" ({share:.0%} kept by its filter)" if share < 1 else "")
        )
    return total, sources


@prices(
    LOG_GROUP,
    service="AmazonCloudWatch",
    usage=(
        UsageKey(
            "monthly_data_ingested_gb",
            1,
            "GB",
            "data ingested a month by a group no function, stage, flow log or web ACL of the"
            " template writes to; set for a group, it replaces the volume derived from its writers",
        ),
        UsageKey(
            "monthly_data_scanned_gb", 0, "GB", "data scanned by Logs Insights queries a month"
        ),
        UsageKey(
            "retention_horizon_days",
            365,
            "days",
            "age the data of a group that never expires has reached (also for the groups Lambda"
            " creates itself)",
        ),
        UsageKey(
            "storage_compression_ratio",
            1.0,
            "ratio",
            "stored size over ingested size (1.0: no compression, an upper bound for storage)",
        ),
        UsageKey(
            "waf_log_kb_per_request",
            1.0,
            "KB",
            "WAF log record of one inspected request (request line, headers, rule matches)",
        ),
        UsageKey(
            "waf_filtered_log_share",
            0.01,
            "share",
            "share of WAF records a logging filter that drops by default keeps (blocked requests)",
        ),
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


@prices(
    "AWS::EC2::FlowLog",
    service="AmazonCloudWatch",
    usage=(
        UsageKey(
            "monthly_data_gb",
            5,
            "GB",
            "flow-log records a month, priced on the destination log group (or as vended delivery"
            " to S3)",
        ),
    ),
)
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
