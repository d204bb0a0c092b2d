"""Networking and edge: NAT Gateways, public IPv4 addresses, VPC endpoints, load balancers,
CloudFront distributions and Route 53 health checks and hosted zones."""

from __future__ import annotations

from collections.abc import Iterator

from governance.template import Resource
from reports.cost.model import CostComponent
from reports.cost.resources.base import Context, prices
from reports.cost.resources.lambda_ import sam_function_view
from reports.cost.traffic import invocations
from reports.cost.usage import UsageKey, derived, kb_per_transaction, per_transaction


@prices(
    "AWS::EC2::NatGateway",
    service="EC2 - Other",
    usage=(
        UsageKey(
            "monthly_data_processed_gb",
            derived(
                "the outbound traffic of what runs in the environment's subnets (functions with"
                " a VpcConfig, instances and Auto Scaling groups), shared by its NAT Gateways"
            ),
            "GB",
            "data through the gateway a month",
        ),
    ),
)
def nat_gateway(res: Resource, ctx: Context) -> Iterator[CostComponent]:
    count = ctx.environment.count(res.type)
    ctx.attr("NAT", "gateway")
    if ctx.usage.has("monthly_data_processed_gb"):
        data = ctx.usage.get("monthly_data_processed_gb")
        if count > 1 and ctx.usage.is_shared("monthly_data_processed_gb"):
            ctx.note(f"the environment's NAT traffic is shared by its {count} NAT Gateways")
    else:
        total, sources = private_outbound_gb(ctx)
        data = total / max(count, 1)
        if sources:
            ctx.note(
                f"traffic from {', '.join(sources)}"
                + (f", shared by the environment's {count} NAT Gateways" if count > 1 else "")
            )
        else:
            ctx.note("nothing in the templates runs in a VPC subnet: no traffic through NAT")
    yield from ctx.charge("NAT Gateway hours", "nat.hours", ctx.hours, usage_based=False)
    yield from ctx.charge("Data processed", "nat.data", data)


def private_outbound_gb(ctx: Context) -> tuple[float, list[str]]:
    """Monthly GB the environment's VPC-placed workloads send out (through NAT), worked out once
    per environment."""
    cached = ctx.environment.cache.get("nat-outbound")
    if cached is None:
        cached = ctx.environment.cache["nat-outbound"] = _private_outbound_gb(ctx)
    return cached


def _private_outbound_gb(ctx: Context) -> tuple[float, list[str]]:
    total, sources = 0.0, []
    kb_gb = 1024.0 * 1024.0
    functions = [
        *ctx.environment.of_type("AWS::Lambda::Function"),
        *(sam_function_view(f) for f in ctx.environment.of_type("AWS::Serverless::Function")),
    ]
    for fn in functions:
        if fn.prop("VpcConfig", "SubnetIds"):
            usage = ctx.usage_of(fn)
            total += invocations(fn, ctx) * usage.get("outbound_kb_per_request") / kb_gb
            sources.append(f"function {fn.logical_id}")
    for group in ctx.environment.of_type("AWS::AutoScaling::AutoScalingGroup"):
        if group.prop("VPCZoneIdentifier"):
            usage = ctx.usage_of(group)
            count = group_instances(group, ctx)
            total += count * usage.get("monthly_outbound_gb")
            sources.append(f"{count:g} instance(s) of {group.logical_id}")
    for inst in ctx.environment.of_type("AWS::EC2::Instance"):
        nat = str(inst.prop("SourceDestCheck")).lower() == "false"
        if not nat and (inst.prop("SubnetId") or inst.prop("NetworkInterfaces")):
            total += ctx.usage_of(inst).get("monthly_outbound_gb")
            sources.append(f"instance {inst.logical_id}")
    return total, sources


def group_instances(group: Resource, ctx: Context) -> float:
    usage = ctx.usage_of(group)
    if usage.has("average_instances"):
        return usage.get("average_instances")
    minimum = ctx.number(group.prop("MinSize"), 0, "MinSize")
    return ctx.number(group.prop("DesiredCapacity"), minimum, "DesiredCapacity")


@prices("AWS::EC2::EIP", service="Amazon Virtual Private Cloud")
def elastic_ip(res: Resource, ctx: Context) -> Iterator[CostComponent]:
    yield from ctx.charge("Public IPv4 address", "vpc.public_ipv4", ctx.hours, usage_based=False)


@prices(
    "AWS::EC2::VPCEndpoint",
    service="Amazon Virtual Private Cloud",
    usage=(
        UsageKey(
            "monthly_data_processed_gb",
            10,
            "GB",
            "data processed a month by an interface or Gateway Load Balancer endpoint",
        ),
    ),
)
def vpc_endpoint(res: Resource, ctx: Context) -> Iterator[CostComponent]:
    kind = ctx.text(res.prop("VpcEndpointType"), "Gateway", "VpcEndpointType")
    service = res.prop("ServiceName")
    name = service if isinstance(service, str) else "endpoint"
    ctx.attr("endpoint", kind)
    if kind == "Gateway":
        ctx.free("gateway endpoints (S3, DynamoDB) have no charge")
        return
    subnets = res.prop("SubnetIds")
    azs = len(subnets) if isinstance(subnets, list) and subnets else 1
    data = ctx.usage.get("monthly_data_processed_gb")
    if kind == "GatewayLoadBalancer":
        yield from ctx.charge(
            "Endpoint hours", "vpc.endpoint.gwlb.hours", ctx.hours, usage_based=False
        )
        yield from ctx.charge("Data processed", "vpc.endpoint.gwlb.data", data)
        return
    ctx.attr("endpoint", f"interface in {azs} AZ(s)")
    ctx.note(f"service {name.split('.')[-1] if isinstance(name, str) else name}")
    yield from ctx.charge(
        f"Endpoint hours ({azs} AZ)",
        "vpc.endpoint.interface.hours",
        azs * ctx.hours,
        usage_based=False,
    )
    yield from ctx.charge("Data processed", "vpc.endpoint.interface.data", data)


@prices(
    "AWS::ElasticLoadBalancingV2::LoadBalancer",
    service="Amazon Elastic Load Balancing",
    usage=(
        UsageKey("average_lcus", 1, "LCU", "load balancer capacity units used on average"),
        UsageKey(
            "monthly_requests",
            1_000_000,
            "requests",
            "requests a month, inspected by a web ACL associated with the load balancer",
        ),
    ),
)
def load_balancer(res: Resource, ctx: Context) -> Iterator[CostComponent]:
    kind = ctx.text(res.prop("Type"), "application", "Type")
    ctx.attr("load balancer", kind)
    if kind not in ("application", "network"):
        yield from ctx.charge(
            "Load balancer hours", f"elb.{kind}.hours", ctx.hours, usage_based=False
        )
        return
    yield from ctx.charge("Load balancer hours", f"elb.{kind}.hours", ctx.hours, usage_based=False)
    yield from ctx.charge(
        "Capacity units", f"elb.{kind}.lcu", ctx.usage.get("average_lcus") * ctx.hours
    )


@prices(
    "AWS::CloudFront::Distribution",
    service="Amazon CloudFront",
    usage=(
        UsageKey(
            "monthly_data_transfer_gb",
            kb_per_transaction(1, split_by_type=True),
            "GB",
            "responses out to viewers a month (a distribution in front of the API carries every"
            " webhook)",
        ),
        UsageKey(
            "monthly_https_requests",
            per_transaction(1, split_by_type=True),
            "requests",
            "HTTPS requests a month, shared by the environment's distributions",
        ),
        UsageKey(
            "monthly_origin_transfer_gb",
            kb_per_transaction(2, split_by_type=True),
            "GB",
            "requests forwarded to the origin a month",
        ),
    ),
)
def distribution(res: Resource, ctx: Context) -> Iterator[CostComponent]:
    price_class = ctx.text(
        res.prop("DistributionConfig", "PriceClass"), "PriceClass_All", "PriceClass"
    )
    ctx.attr("price class", price_class)
    ctx.note("priced at the United States, Mexico and Canada rates; always-free tier not applied")
    yield from ctx.charge(
        "Data transfer out",
        "cloudfront.data_out",
        ctx.usage.get("monthly_data_transfer_gb"),
        region="us-east-1",
    )
    yield from ctx.charge(
        "HTTPS requests",
        "cloudfront.requests.https",
        ctx.usage.get("monthly_https_requests"),
        region="us-east-1",
    )
    origin = ctx.usage.get("monthly_origin_transfer_gb")
    if origin:
        yield from ctx.charge(
            "Data transfer to origin", "cloudfront.data_to_origin", origin, region="us-east-1"
        )


@prices("AWS::Route53::HealthCheck", service="Amazon Route 53")
def health_check(res: Resource, ctx: Context) -> Iterator[CostComponent]:
    config = res.prop("HealthCheckConfig") or {}
    kind = ctx.text(config.get("Type"), "HTTP", "HealthCheckConfig.Type")
    fqdn = config.get("FullyQualifiedDomainName")
    aws_endpoint = not isinstance(fqdn, str) or any(
        s in fqdn for s in (".amazonaws.com", ".cloudfront.net", ".elb.", ".awsglobalaccelerator.")
    )
    where = "aws" if aws_endpoint else "non_aws"
    options = []
    if kind in ("HTTPS", "HTTPS_STR_MATCH"):
        options.append("HTTPS")
    if kind.endswith("STR_MATCH"):
        options.append("string matching")
    if ctx.number(config.get("RequestInterval"), 30, "RequestInterval") == 10:
        options.append("fast interval")
    if ctx.flag(config.get("MeasureLatency"), False, "MeasureLatency"):
        options.append("latency measurement")
    ctx.attr("health check", f"{kind} ({'AWS' if aws_endpoint else 'non-AWS'} endpoint)")
    yield from ctx.charge("Health check", f"route53.health_check.{where}", 1, usage_based=False)
    if options:
        yield from ctx.charge(
            "Optional features: " + ", ".join(options),
            f"route53.health_check.option.{where}",
            len(options),
            usage_based=False,
        )


@prices("AWS::Route53::HostedZone", service="Amazon Route 53")
def hosted_zone(res: Resource, ctx: Context) -> Iterator[CostComponent]:
    ctx.note("queries to alias records of AWS resources are free; other queries are not priced")
    yield from ctx.charge("Hosted zone", "route53.hosted_zone", 1, usage_based=False)
