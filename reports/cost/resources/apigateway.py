"""Amazon API Gateway: REST APIs (tiered requests), their stages (cache, X-Ray) and HTTP or
WebSocket APIs."""

from __future__ import annotations

from collections.abc import Iterator

from governance.template import Resource
from reports.cost.model import CostComponent
from reports.cost.resources.base import Context, prices
from reports.cost.traffic import api_requests, sampled_traces
from reports.cost.usage import UsageKey, per_transaction

#: Metrics API Gateway publishes per method when a stage turns detailed metrics on.
DETAILED_METRICS_PER_METHOD = 7
_CACHE_SIZES = ("0.5", "1.6", "6.1", "13.5", "28.4", "58.2", "118", "237")


@prices(
    "AWS::ApiGateway::RestApi",
    service="Amazon API Gateway",
    usage=(
        UsageKey(
            "monthly_requests",
            per_transaction(1, split_by_type=True),
            "requests",
            "requests a month: every transaction is one webhook request, and the environment's"
            " REST APIs share them",
        ),
        UsageKey(
            "response_kb_per_request",
            1.0,
            "KB",
            "response size sent to the internet per request (not counted when a CloudFront"
            " distribution in front of the API serves it)",
        ),
    ),
)
def rest_api(res: Resource, ctx: Context) -> Iterator[CostComponent]:
    requests = api_requests(res, ctx)
    share = ctx.environment.count(res.type)
    if share > 1 and ctx.usage.is_shared("monthly_requests"):
        ctx.note(f"the environment's API traffic is shared by its {share} REST APIs")
    yield from ctx.charge("Requests", "apigateway.rest.requests", requests)
    if _behind_cloudfront(res, ctx):
        ctx.note("responses leave through CloudFront (priced there); origin fetches are free")
        return
    gb = requests * ctx.usage.get("response_kb_per_request") / (1024.0 * 1024.0)
    if gb:
        yield from ctx.charge(
            "Data transfer out to the internet",
            "ec2.data_transfer.internet",
            gb,
            note="responses, at the EC2 data-transfer-out rate API Gateway bills",
        )


def _behind_cloudfront(api: Resource, ctx: Context) -> bool:
    """Whether a CloudFront distribution of the environment has this API as an origin."""
    for dist in ctx.environment.of_type("AWS::CloudFront::Distribution"):
        origins = dist.prop("DistributionConfig", "Origins") or []
        text = str(origins)
        if api.logical_id in text or (
            "execute-api" in text and ctx.environment.count(api.type) == 1
        ):
            return True
    return False


def _detailed_metric_methods(stage: Resource, ctx: Context) -> int:
    """Methods of the stage's API that publish detailed metrics (MethodSettings MetricsEnabled)."""
    settings = stage.prop("MethodSettings") or []
    if not any(
        isinstance(m, dict) and ctx.flag(m.get("MetricsEnabled"), False, "MetricsEnabled")
        for m in (settings if isinstance(settings, list) else [])
    ):
        return 0
    api = ctx.target(stage.prop("RestApiId"))
    if api is None:
        return 1
    methods = [
        m
        for m in stage.template.referrers(api.logical_id, "AWS::ApiGateway::Method")
        if m.prop("HttpMethod") != "OPTIONS"
    ]
    return max(len(methods), 1)


@prices(
    "AWS::ApiGateway::Stage",
    service="Amazon API Gateway",
    usage=(
        UsageKey(
            "access_log_kb_per_request",
            0.5,
            "KB",
            "access-log record of one request, ingested by the log group the stage writes to",
        ),
        UsageKey(
            "xray_sampling_rate",
            0.05,
            "share",
            "share of requests traced when tracing is on (X-Ray's default rule: one a second,"
            " then 5 %)",
        ),
    ),
)
def rest_stage(res: Resource, ctx: Context) -> Iterator[CostComponent]:
    charged = False
    if ctx.flag(res.prop("CacheClusterEnabled"), False, "CacheClusterEnabled"):
        size = ctx.text(res.prop("CacheClusterSize"), "0.5", "CacheClusterSize")
        if size not in _CACHE_SIZES:
            ctx.note(f"cache size {size} GB is not a size API Gateway offers")
        ctx.attr("cache", f"{size} GB")
        yield from ctx.charge(
            f"Cache ({size} GB)", f"apigateway.cache.{size}", ctx.hours, usage_based=False
        )
        charged = True
    if ctx.flag(res.prop("TracingEnabled"), False, "TracingEnabled"):
        api = ctx.target(res.prop("RestApiId"))
        requests = api_requests(api, ctx) if api is not None else 0.0
        rate = ctx.usage.get("xray_sampling_rate")
        yield from ctx.charge(
            "X-Ray traces recorded",
            "xray.traces_recorded",
            sampled_traces(requests, rate, ctx),
            note=f"the first request each second, then {rate:.0%}",
        )
        charged = True
    methods = _detailed_metric_methods(res, ctx)
    if methods:
        ctx.attr("detailed metrics", f"{methods} methods")
        yield from ctx.charge(
            "Detailed CloudWatch metrics",
            "cloudwatch.metrics",
            methods * DETAILED_METRICS_PER_METHOD,
            usage_based=False,
            note=f"{DETAILED_METRICS_PER_METHOD} metrics per method: Count, 4XXError, 5XXError,"
            " Latency, IntegrationLatency, CacheHitCount, CacheMissCount",
            service="AmazonCloudWatch",
        )
        charged = True
    if not charged:
        ctx.free("a stage without a cache or X-Ray tracing has no charge of its own")


@prices(
    "AWS::ApiGatewayV2::Api",
    service="Amazon API Gateway",
    usage=(
        UsageKey("monthly_requests", 1_000_000, "requests", "requests a month of an HTTP API"),
        UsageKey("monthly_messages", 0, "messages", "messages a month of a WebSocket API"),
        UsageKey(
            "monthly_connection_minutes",
            0,
            "minutes",
            "connection minutes a month of a WebSocket API",
        ),
    ),
)
def http_api(res: Resource, ctx: Context) -> Iterator[CostComponent]:
    protocol = ctx.text(res.prop("ProtocolType"), "HTTP", "ProtocolType")
    ctx.attr("protocol", protocol)
    if protocol == "WEBSOCKET":
        yield from ctx.charge(
            "Messages", "apigateway.websocket.messages", ctx.usage.get("monthly_messages")
        )
        yield from ctx.charge(
            "Connection minutes",
            "apigateway.websocket.minutes",
            ctx.usage.get("monthly_connection_minutes"),
        )
    else:
        yield from ctx.charge(
            "Requests", "apigateway.http.requests", ctx.usage.get("monthly_requests")
        )
