"""Compute: EC2 instances (NAT instances included), Auto Scaling groups (desired capacity × the
launch template's instance type), EBS volumes and ECS services on Fargate (Spot share)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from governance.template import Resource
from reports.cost.model import CostComponent
from reports.cost.resources.base import Context, prices
from reports.cost.usage import UsageKey, derived

DETAILED_MONITORING_METRICS = 7
OUTBOUND_GB = UsageKey(
    "monthly_outbound_gb",
    5,
    "GB",
    "traffic one instance in a private subnet sends out through NAT a month (package and OS"
    " updates, agents calling AWS APIs without a VPC endpoint)",
)
ROOT_VOLUME_GB = UsageKey(
    "root_volume_gb",
    8,
    "GB",
    "root volume (gp3) assumed for the AMI when the template maps no block device",
)
CPU_CREDIT_HOURS = UsageKey(
    "monthly_cpu_credit_hours",
    0,
    "vCPU-hours",
    "surplus CPU credits a month of burstable (t) instances in unlimited mode",
)


@dataclass(frozen=True)
class Volume:
    size_gb: float
    kind: str
    iops: float = 0.0
    throughput: float = 0.0


def _launch_template_data(ref: Any, ctx: Context) -> dict[str, Any]:
    if not isinstance(ref, dict):
        return {}
    target = ctx.target(ref.get("LaunchTemplateId") or ref.get("LaunchTemplateName"))
    if target is None or target.type != "AWS::EC2::LaunchTemplate":
        return {}
    data = target.prop("LaunchTemplateData")
    return data if isinstance(data, dict) else {}


def _volumes(mappings: Any, ctx: Context) -> list[Volume]:
    out = []
    for mapping in mappings if isinstance(mappings, list) else []:
        ebs = mapping.get("Ebs") if isinstance(mapping, dict) else None
        if not isinstance(ebs, dict):
            continue
        out.append(
            Volume(
                size_gb=ctx.number(ebs.get("VolumeSize"), 8, "VolumeSize"),
                kind=ctx.text(ebs.get("VolumeType"), "gp2", "VolumeType"),
                iops=ctx.number(ebs.get("Iops"), 0, "Iops"),
                throughput=ctx.number(ebs.get("Throughput"), 0, "Throughput"),
            )
        )
    return out


def volume_components(
    ctx: Context, volumes: list[Volume], count: float, label: str = ""
) -> Iterator[CostComponent]:
    for i, vol in enumerate(volumes):
        name = f"{label}EBS {vol.kind} volume {i + 1} ({vol.size_gb:g} GB)"
        yield from ctx.charge(
            name, f"ebs.{vol.kind}.storage", vol.size_gb * count, usage_based=False
        )
        if vol.kind == "gp3" and vol.iops > 3000:
            yield from ctx.charge(
                f"{name}: IOPS above 3,000",
                "ebs.gp3.iops",
                (vol.iops - 3000) * count,
                usage_based=False,
            )
        if vol.kind == "gp3" and vol.throughput > 125:
            yield from ctx.charge(
                f"{name}: throughput above 125 MB/s",
                "ebs.gp3.throughput",
                (vol.throughput - 125) * count,
                usage_based=False,
            )


def _root_volume(ctx: Context) -> list[Volume]:
    size = ctx.usage.get("root_volume_gb")
    ctx.note(f"no block device mapping: the AMI's root volume is assumed {size:g} GB gp3")
    return [Volume(size, "gp3")]


@prices(
    "AWS::EC2::Instance",
    service="Amazon Elastic Compute Cloud - Compute",
    usage=(
        UsageKey("monthly_hours", 730, "hours", "hours a month the instance runs"),
        OUTBOUND_GB,
        ROOT_VOLUME_GB,
        CPU_CREDIT_HOURS,
    ),
)
def ec2_instance(res: Resource, ctx: Context) -> Iterator[CostComponent]:
    data = _launch_template_data(res.prop("LaunchTemplate"), ctx)
    itype = ctx.text(
        res.prop("InstanceType") or data.get("InstanceType"), "m1.small", "InstanceType"
    )
    nat = (
        res.prop("SourceDestCheck") is False or str(res.prop("SourceDestCheck")).lower() == "false"
    )
    ctx.attr("instance type", itype)
    if nat:
        ctx.attr("NAT", f"instance ({itype})")
    hours = ctx.usage.get("monthly_hours")
    yield from ctx.charge(
        f"Instance hours ({itype})", f"ec2.instance.{itype}", hours, usage_based=False
    )
    volumes = _volumes(res.prop("BlockDeviceMappings") or data.get("BlockDeviceMappings"), ctx)
    yield from volume_components(ctx, volumes or _root_volume(ctx), 1)
    monitoring = ctx.flag(res.prop("Monitoring"), False, "Monitoring") or bool(
        (data.get("Monitoring") or {}).get("Enabled")
    )
    if monitoring:
        yield from ctx.charge(
            "Detailed monitoring metrics",
            "cloudwatch.metrics",
            DETAILED_MONITORING_METRICS,
            usage_based=False,
            service="AmazonCloudWatch",
        )
    credits = ctx.usage.get("monthly_cpu_credit_hours")
    if credits and itype.startswith("t"):
        yield from ctx.charge("Unlimited CPU credits", "ec2.cpu_credits", credits)
    if _own_public_ipv4(res):
        ctx.attr("public IPv4", "auto-assigned")
        yield from ctx.charge(
            "Public IPv4 address",
            "vpc.public_ipv4",
            hours,
            usage_based=False,
            service="Amazon Virtual Private Cloud",
            note="assigned at launch (AssociatePublicIpAddress); an Elastic IP is priced on itself",
        )


def _own_public_ipv4(res: Resource) -> bool:
    """The instance gets a public address at launch and no Elastic IP of the template is its."""
    interfaces = res.prop("NetworkInterfaces") or []
    public = any(
        isinstance(i, dict) and str(i.get("AssociatePublicIpAddress")).lower() == "true"
        for i in (interfaces if isinstance(interfaces, list) else [])
    )
    if not public:
        return False
    for kind in ("AWS::EC2::EIP", "AWS::EC2::EIPAssociation"):
        if res.template.referrers(res.logical_id, kind):
            return False
    return True


@prices(
    "AWS::AutoScaling::AutoScalingGroup",
    service="Amazon Elastic Compute Cloud - Compute",
    usage=(
        UsageKey(
            "average_instances",
            derived("the group's DesiredCapacity, else its MinSize"),
            "instances",
            "instances running on average all month",
        ),
        OUTBOUND_GB,
        ROOT_VOLUME_GB,
        CPU_CREDIT_HOURS,
    ),
)
def autoscaling_group(res: Resource, ctx: Context) -> Iterator[CostComponent]:
    ref = res.prop("LaunchTemplate") or res.prop(
        "MixedInstancesPolicy", "LaunchTemplate", "LaunchTemplateSpecification"
    )
    data = _launch_template_data(ref, ctx)
    itype_raw = data.get("InstanceType")
    mappings = data.get("BlockDeviceMappings")
    config = ctx.target(res.prop("LaunchConfigurationName"))
    if config is not None and config.type == "AWS::AutoScaling::LaunchConfiguration":
        itype_raw = config.prop("InstanceType")
        mappings = config.prop("BlockDeviceMappings")
    itype = ctx.text(itype_raw, "unknown", "InstanceType")
    if res.prop("MixedInstancesPolicy", "InstancesDistribution"):
        ctx.note("mixed instances: priced as on-demand instances of the launch template's type")
    minimum = ctx.number(res.prop("MinSize"), 0, "MinSize")
    maximum = ctx.number(res.prop("MaxSize"), minimum, "MaxSize")
    desired = res.prop("DesiredCapacity")
    if ctx.usage.has("average_instances"):
        count = ctx.usage.get("average_instances")
        basis = "usage profile"
    elif desired is not None:
        count = ctx.number(desired, minimum, "DesiredCapacity")
        basis = "desired capacity"
    else:
        count = minimum
        basis = "minimum size"
    ctx.attr("capacity", f"{count:g} × {itype}")
    ctx.note(f"{count:g} instance(s) all month ({basis}; the group scales {minimum:g}–{maximum:g})")
    yield from ctx.charge(
        f"Instance hours ({count:g} × {itype})",
        f"ec2.instance.{itype}",
        count * ctx.hours,
        usage_based=False,
    )
    volumes = _volumes(mappings, ctx)
    yield from volume_components(ctx, volumes or _root_volume(ctx), count)
    if (data.get("Monitoring") or {}).get("Enabled") is True:
        yield from ctx.charge(
            "Detailed monitoring metrics",
            "cloudwatch.metrics",
            DETAILED_MONITORING_METRICS * count,
            usage_based=False,
            service="AmazonCloudWatch",
        )
    credits = ctx.usage.get("monthly_cpu_credit_hours")
    if credits and itype.startswith("t"):
        yield from ctx.charge("Unlimited CPU credits", "ec2.cpu_credits", credits)


@prices("AWS::EC2::Volume", service="EC2 - Other")
def ebs_volume(res: Resource, ctx: Context) -> Iterator[CostComponent]:
    vol = Volume(
        size_gb=ctx.number(res.prop("Size"), 8, "Size"),
        kind=ctx.text(res.prop("VolumeType"), "gp2", "VolumeType"),
        iops=ctx.number(res.prop("Iops"), 0, "Iops"),
        throughput=ctx.number(res.prop("Throughput"), 0, "Throughput"),
    )
    ctx.attr("volume", f"{vol.kind} {vol.size_gb:g} GB")
    yield from volume_components(ctx, [vol], 1)


def _launch_type(service: Resource, task: Resource | None, ctx: Context) -> str:
    """FARGATE or EC2. ECS uses the launch type given, else the capacity provider strategy (the
    service's, else the cluster's default); with none of them it launches on EC2."""
    given = service.prop("LaunchType")
    if given is not None:
        return "EC2" if ctx.text(given, "FARGATE", "LaunchType") == "EC2" else "FARGATE"
    strategy = _strategy(service, ctx)
    if strategy:
        providers = {name for name, _, _ in strategy}
        if providers <= {"FARGATE", "FARGATE_SPOT"}:
            return "FARGATE"
        ctx.note("capacity providers other than Fargate: the tasks run on EC2 instances")
        return "EC2"
    needs = task.prop("RequiresCompatibilities") if task is not None else None
    if isinstance(needs, list) and needs == ["FARGATE"]:
        ctx.note("no launch type or capacity provider: the task definition asks for Fargate")
        return "FARGATE"
    ctx.note("no launch type or capacity provider strategy: ECS launches the tasks on EC2")
    return "EC2"


def _strategy(res: Resource, ctx: Context) -> list[tuple[str, float, float]]:
    raw = res.prop("CapacityProviderStrategy")
    if not raw:
        cluster = ctx.target(res.prop("Cluster"))
        if cluster is not None:
            for assoc in res.template.referrers(
                cluster.logical_id, "AWS::ECS::ClusterCapacityProviderAssociations"
            ):
                raw = assoc.prop("DefaultCapacityProviderStrategy")
            raw = raw or cluster.prop("DefaultCapacityProviderStrategy")
    out = []
    for item in raw if isinstance(raw, list) else []:
        if isinstance(item, dict):
            out.append(
                (
                    ctx.text(item.get("CapacityProvider"), "FARGATE", "CapacityProvider"),
                    ctx.number(item.get("Base"), 0, "Base"),
                    ctx.number(item.get("Weight"), 0, "Weight"),
                )
            )
    return out


def spot_split(strategy: list[tuple[str, float, float]], tasks: float) -> tuple[float, float]:
    """(on-demand tasks, Spot tasks): bases first, the rest by weight."""
    if not strategy:
        return tasks, 0.0
    on_demand = spot = 0.0
    remaining = tasks
    for provider, base, _ in strategy:
        take = min(base, remaining)
        remaining -= take
        if provider == "FARGATE_SPOT":
            spot += take
        else:
            on_demand += take
    weights = sum(w for _, _, w in strategy) or 1.0
    for provider, _, weight in strategy:
        share = remaining * weight / weights
        if provider == "FARGATE_SPOT":
            spot += share
        else:
            on_demand += share
    return on_demand, spot


@prices(
    "AWS::ECS::Service",
    service="Amazon Elastic Container Service",
    usage=(
        UsageKey(
            "average_tasks",
            derived("the service's DesiredCount, else its scalable target's MinCapacity, else 1"),
            "tasks",
            "Fargate tasks running on average all month",
        ),
    ),
)
def ecs_service(res: Resource, ctx: Context) -> Iterator[CostComponent]:
    task = ctx.target(res.prop("TaskDefinition"))
    launch = _launch_type(res, task, ctx)
    if launch == "EC2":
        ctx.attr("launch type", "EC2")
        ctx.free("tasks on EC2 capacity: the instances are priced on their Auto Scaling group")
        return
    cpu_units = ctx.number(task.prop("Cpu") if task else None, 256, "Cpu")
    memory_mb = ctx.number(task.prop("Memory") if task else None, 512, "Memory")
    arch_raw = task.prop("RuntimePlatform", "CpuArchitecture") if task else None
    arch = "arm64" if ctx.text(arch_raw, "X86_64", "CpuArchitecture") == "ARM64" else "x86_64"
    if ctx.usage.has("average_tasks"):
        tasks = ctx.usage.get("average_tasks")
    elif res.prop("DesiredCount") is not None:
        tasks = ctx.number(res.prop("DesiredCount"), 1, "DesiredCount")
    else:
        tasks = 1.0
        for target in res.template.referrers(
            res.logical_id, "AWS::ApplicationAutoScaling::ScalableTarget"
        ):
            tasks = ctx.number(target.prop("MinCapacity"), 1, "MinCapacity")
    on_demand, spot = spot_split(_strategy(res, ctx), tasks)
    vcpu, gb = cpu_units / 1024.0, memory_mb / 1024.0
    share = spot / tasks if tasks else 0.0
    ctx.attr("tasks", f"{tasks:g} × {vcpu:g} vCPU / {gb:g} GB {arch}, {share:.0%} Spot")
    if on_demand:
        yield from ctx.charge(
            f"vCPU ({on_demand:g} on-demand task(s))",
            f"fargate.vcpu.{arch}",
            on_demand * vcpu * ctx.hours,
            usage_based=False,
        )
        yield from ctx.charge(
            f"Memory ({on_demand:g} on-demand task(s))",
            f"fargate.memory.{arch}",
            on_demand * gb * ctx.hours,
            usage_based=False,
        )
    if spot:
        yield from ctx.charge(
            f"vCPU ({spot:g} Spot task(s))",
            f"fargate_spot.vcpu.{arch}",
            spot * vcpu * ctx.hours,
            usage_based=False,
        )
        yield from ctx.charge(
            f"Memory ({spot:g} Spot task(s))",
            f"fargate_spot.memory.{arch}",
            spot * gb * ctx.hours,
            usage_based=False,
        )
    storage = ctx.number(
        task.prop("EphemeralStorage", "SizeInGiB") if task else None, 20, "EphemeralStorage"
    )
    if storage > 20:
        yield from ctx.charge(
            "Ephemeral storage above 20 GB",
            "fargate.ephemeral_storage",
            (storage - 20) * tasks * ctx.hours,
            usage_based=False,
        )
