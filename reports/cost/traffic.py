"""Traffic estimates that several pricers share: how often a function runs, how many requests a
REST API or a web ACL sees.

A log group's ingestion follows from the functions, stages and web ACLs that write to it, and a
web ACL's requests from the APIs and distributions it protects; these estimates live here, apart
from any one pricer, so pricer modules never import one another. Each reads the usage of the
resource it estimates (``ctx.usage`` when that is the resource being priced, else
``ctx.usage_of``), through the keys that resource's pricer declares.
"""

from __future__ import annotations

import re

from governance.template import Resource
from reports.cost.resources.base import Context, refs_in

#: Construct-path segments and logical-id stems of the handlers CDK adds for deploy-time work
#: (log retention, bucket notifications, AwsCustomResource, CustomResourceProvider handlers).
_CDK_HANDLER = re.compile(
    r"(?:Custom::[A-Za-z0-9]+CustomResourceProvider|LogRetentionaae0aa3c5b4d4f87b02d85b201efdd8a"
    r"|BucketNotificationsHandler050a0587b7544547bf325f094a3db834|AWS679f53fac002430cb0da5b7982bd2287"
    r"|Custom[A-Za-z0-9]+CustomResourceProviderHandler)"
)
_DEFAULT_BATCH = {"sqs": 10, "kinesis": 100, "dynamodb": 100}


def is_deploy_time_handler(fn: Resource) -> bool:
    """A function that only runs while CloudFormation deploys (it backs a custom resource)."""
    if any(str(k).startswith("aws:cdk:is-custom-resource-handler") for k in fn.metadata):
        return True
    if _CDK_HANDLER.search(fn.construct_path or fn.logical_id):
        return True
    for other in fn.template.referrers(fn.logical_id):
        if other.type.startswith("Custom::") or other.type == "AWS::CloudFormation::CustomResource":
            return True
    return False


def batch_size(fn: Resource, ctx: Context) -> float | None:
    """Records per invocation from the function's event source mapping (full batches assumed)."""
    for esm in fn.template.referrers(fn.logical_id, "AWS::Lambda::EventSourceMapping"):
        source = str(esm.prop("EventSourceArn") or "")
        target = ctx.target(esm.prop("EventSourceArn"))
        kind = "sqs"
        if target is not None and target.type == "AWS::DynamoDB::Table":
            kind = "dynamodb"
        elif "kinesis" in source:
            kind = "kinesis"
        return ctx.number(esm.prop("BatchSize"), _DEFAULT_BATCH[kind], "BatchSize")
    return None


def invocations(fn: Resource, ctx: Context) -> float:
    """Monthly invocations of ``fn``: its usage, batches of its event source, or deploy-time."""
    usage = ctx.usage_of(fn) if fn is not ctx.resource else ctx.usage
    if is_deploy_time_handler(fn) and not usage.is_explicit("monthly_requests"):
        return usage.get("deploy_time_requests")
    if usage.has("monthly_events") and not usage.is_explicit("monthly_requests"):
        events = usage.get("monthly_events")
        size = batch_size(fn, ctx)
        return events / size if size else events
    return usage.get("monthly_requests")


def api_requests(api: Resource, ctx: Context) -> float:
    """Monthly requests of a REST API, from its usage (shared when several APIs exist)."""
    usage = ctx.usage if api is ctx.resource else ctx.usage_of(api)
    return usage.get("monthly_requests")


def associated_requests(acl: Resource, ctx: Context) -> tuple[float, list[str], set[str]]:
    """Requests of the resources this web ACL is associated with, their names and ids."""
    tpl = acl.template
    apis: dict[str, Resource] = {}
    names: list[str] = []
    ids: set[str] = set()
    requests = 0.0
    for assoc in tpl.referrers(acl.logical_id, "AWS::WAFv2::WebACLAssociation"):
        for rid in refs_in(assoc.prop("ResourceArn")):
            target = tpl.resources.get(rid)
            if target is None:
                continue
            ids.add(rid)
            if target.type == "AWS::ApiGateway::Stage":
                api = ctx.target(target.prop("RestApiId"))
                if api is not None:
                    apis[api.logical_id] = api
            elif target.type == "AWS::ApiGateway::RestApi":
                apis[rid] = target
            elif target.type == "AWS::ElasticLoadBalancingV2::LoadBalancer":
                requests += ctx.usage_of(target).get("monthly_requests")
                names.append(rid)
    for api in apis.values():
        requests += api_requests(api, ctx)
        names.append(api.logical_id)
    for dist in tpl.referrers(acl.logical_id, "AWS::CloudFront::Distribution"):
        requests += ctx.usage_of(dist).get("monthly_https_requests")
        names.append(dist.logical_id)
        ids.add(dist.logical_id)
    return requests, names, ids


def web_acl_requests(acl: Resource, ctx: Context) -> float:
    """Requests a web ACL inspects: those of its associated resources, else its usage value."""
    requests, names, _ = associated_requests(acl, ctx)
    if names:
        return requests
    usage = ctx.usage if acl is ctx.resource else ctx.usage_of(acl)
    return usage.get("monthly_requests")


#: X-Ray's default sampling rule: the first request each second (the reservoir), then 5 %.
XRAY_RESERVOIR_PER_SECOND = 1.0


def sampled_traces(monthly_calls: float, rate: float, ctx: Context) -> float:
    """Traces recorded a month under a reservoir-and-rate rule, hour by hour of the daily shape:
    each second the first request is traced, then ``rate`` of the rest."""
    seconds_per_hour_month = ctx.days * 3600.0
    traces = 0.0
    for fraction in ctx.profile.workload.hourly_fractions():
        per_second = monthly_calls * fraction / seconds_per_hour_month
        reservoir = min(per_second, XRAY_RESERVOIR_PER_SECOND)
        traces += (reservoir + rate * (per_second - reservoir)) * seconds_per_hour_month
    return traces
