"""Networking and edge: NAT Gateways, public IPv4 addresses, VPC endpoints, load balancers,
CloudFront distributions, and Route 53 health checks, hosted zones and record sets."""

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


#: Host names of AWS endpoints a health check may target (Route 53 prices a check of an AWS
#: endpoint at the lower rate; the pricing page defines the term, not verified here).
AWS_ENDPOINT_HOSTS = (".amazonaws.com", ".cloudfront.net", ".elb.", ".awsglobalaccelerator.")


def _literal_text(value: object) -> str:
    """Every literal string inside ``value`` (``Fn::Join`` pieces, ``Fn::Sub`` text), joined."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return " ".join(_literal_text(v) for v in value.values())
    if isinstance(value, list):
        return " ".join(_literal_text(v) for v in value)
    return ""


@prices("AWS::Route53::HealthCheck", service="Amazon Route 53")
def health_check(res: Resource, ctx: Context) -> Iterator[CostComponent]:
    config = res.prop("HealthCheckConfig") or {}
    kind = ctx.text(config.get("Type"), "HTTP", "HealthCheckConfig.Type")
    target = _literal_text(config.get("FullyQualifiedDomainName"))
    if kind in ("CALCULATED", "CLOUDWATCH_METRIC", "RECOVERY_CONTROL") or any(
        s in target for s in AWS_ENDPOINT_HOSTS
    ):
        aws_endpoint = True
    elif target or config.get("IPAddress"):
        aws_endpoint = False
    else:
        aws_endpoint = True
        ctx.note("the health check's endpoint could not be read; priced as an AWS endpoint")
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
    if aws_endpoint:
        ctx.note(
            "list price: the up to 50 health checks of AWS endpoints Route 53 does not charge"
            " an account for are not applied"
        )
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
    ctx.note("queries are priced on the zone's records (AWS::Route53::RecordSet)")
    yield from ctx.charge("Hosted zone", "route53.hosted_zone", 1, usage_based=False)


def _zone_outside(res: Resource, ctx: Context) -> str | None:
    """The zone a record names when no ``AWS::Route53::HostedZone`` of the environment is it."""
    zone_id, zone_name = res.prop("HostedZoneId"), res.prop("HostedZoneName")
    if isinstance(zone_id, dict) or isinstance(zone_name, dict):
        target = ctx.target(zone_id if isinstance(zone_id, dict) else zone_name)
        if target is not None and target.type == "AWS::Route53::HostedZone":
            return None
    names = {
        str(z.prop("Name") or "").rstrip(".")
        for z in ctx.environment.of_type("AWS::Route53::HostedZone")
    }
    if isinstance(zone_name, str) and zone_name.rstrip(".") in names:
        return None
    if isinstance(zone_id, str):
        return zone_id
    if isinstance(zone_name, str):
        return zone_name
    return "a zone named by reference"


@prices(
    "AWS::Route53::RecordSet",
    service="Amazon Route 53",
    usage=(
        UsageKey(
            "monthly_queries",
            0,
            "queries",
            "DNS queries a month answered from a non-alias record (queries to alias records of"
            " AWS resources are free)",
        ),
    ),
)
def record_set(res: Resource, ctx: Context) -> Iterator[CostComponent]:
    zone = _zone_outside(res, ctx)
    if zone is not None:
        price = ctx.catalogue.price("route53.hosted_zone", "us-east-1")
        rate = (
            f" (${price.tiers[0][1]:.2f} a month for each of an account's first 25 zones)"
            if price is not None
            else ""
        )
        ctx.note(
            f"hosted zone {zone} is not created by these templates: its charge{rate} is outside"
            " this estimate"
        )
    queries = ctx.usage.get("monthly_queries")
    if isinstance(res.prop("AliasTarget"), dict):
        # a $0 line rather than a free resource, so the page shows its notes (the zone)
        ctx.attr("record", "alias")
        yield from ctx.charge(
            "Queries to an alias record of an AWS resource (no charge)",
            "route53.queries.alias",
            queries,
            region="us-east-1",
        )
        return
    if res.prop("Region"):
        kind, label = "latency", "Latency-based routing queries"
    elif res.prop("GeoLocation") or res.prop("GeoProximityLocation"):
        kind, label = "geo", "Geo DNS queries"
    else:
        kind, label = "standard", "Standard queries"
    ctx.attr("record", f"{kind} routing")
    if not queries and ctx.profile.usage_stated:
        ctx.note("no queries stated for this record (monthly_queries)")
    yield from ctx.charge(label, f"route53.queries.{kind}", queries, region="us-east-1")
