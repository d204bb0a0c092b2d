"""FinOps rules for compute: Lambda sizing, instance generations, volume types, Fargate Spot.

Every ceiling and allow-list comes from ``policy.thresholds``. The Lambda rules skip functions
that only back a CloudFormation custom resource (CDK's auto-delete-objects, log-retention,
bucket-notification and ``AwsCustomResource`` handlers, the ``Provider`` framework, or any
function whose ARN is a custom resource's ``ServiceToken``): they run a few times per
deployment, so their size and architecture cost nothing measurable, and their settings are
CDK's, not ours (auto-deleting a large bucket legitimately needs CDK's 15-minute timeout).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from governance.intrinsics import Unresolved, as_int, as_str, ref_target, resolve
from governance.model import Category, Issue, Severity, undecidable, violation
from governance.policy import Policy
from governance.registry import rule
from governance.template import Resource
from rules._cost_support import is_deploy_time_handler

LAMBDA = ("AWS::Lambda::Function",)


@rule(
    id="COST-LAMBDA-001",
    slug="function-memory-above-ceiling",
    title="Lambda memory within the environment's ceiling",
    severity=Severity.ERROR,
    resource_types=LAMBDA,
    category=Category.COST,
)
def function_memory_above_ceiling(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """The function's `MemorySize` is at most `thresholds.lambda_memory_max_mb`.

    Why:
        Lambda bills GB-seconds: a 3,008 MB function costs about three times a 1,024 MB one
        for the same duration, and most handlers do not get faster beyond ~1 GB. Size from
        measurements (Lambda Power Tuning), not by default to the maximum. CDK's deploy-time
        handlers are exempt (see the module docstring).

    Fix:
        Set `memory_size` to the measured need, at most the ceiling; raise the ceiling in
        `cdk.json` (`governance.thresholds.lambda_memory_max_mb`) only with a measurement.

    Example:
        lambda_.Function(self, "ProcessPayment", memory_size=512, architecture=lambda_.Architecture.ARM_64, ...)
    """
    if is_deploy_time_handler(resource):
        return
    ceiling = policy.thresholds.lambda_memory_max_mb
    memory = as_int(resource.prop("MemorySize"), resource.template)
    if isinstance(memory, Unresolved):
        yield undecidable(f"MemorySize cannot be read: {memory.reason}", "Properties/MemorySize")
    elif memory is not None and memory > ceiling:
        yield violation(
            f"function has {memory} MB of memory; the ceiling is {ceiling} MB",
            "Properties/MemorySize",
        )


@rule(
    id="COST-LAMBDA-002",
    slug="function-not-on-allowed-architecture",
    title="Lambda runs on an allowed architecture (Graviton)",
    severity=Severity.ERROR,
    resource_types=LAMBDA,
    category=Category.COST,
)
def function_not_on_allowed_architecture(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """Every entry of `Architectures` is in `thresholds.lambda_architectures` (default arm64).

    Why:
        Lambda's arm64 (Graviton2) duration price is 80 % of x86_64's for the same memory and
        duration, with the same request price; without `Architectures` a function runs on
        x86_64. CDK's deploy-time handlers are exempt (see the module docstring).

    Fix:
        `architecture=lambda_.Architecture.ARM_64`, and build native dependencies (layers,
        wheels) for `manylinux2014_aarch64`.

    Example:
        lambda_.Function(self, "Responder", architecture=lambda_.Architecture.ARM_64, ...)
    """
    if is_deploy_time_handler(resource):
        return
    allowed = policy.thresholds.lambda_architectures
    where = "Properties/Architectures"
    raw = resource.prop("Architectures")
    value = resolve(raw, resource.template) if raw is not None else ["x86_64"]
    if isinstance(value, Unresolved):
        yield undecidable(f"Architectures cannot be read: {value.reason}", where)
        return
    if not isinstance(value, list):
        yield undecidable("Architectures is not a list", where)
        return
    for item in value:
        if isinstance(item, (Unresolved, dict, list)):
            yield undecidable("an architecture is only known at deploy time", where)
        elif str(item) not in allowed:
            implicit = "" if raw is not None else " (Architectures is not set)"
            yield violation(
                f"function runs on {item}{implicit}; allowed: {', '.join(allowed)}", where
            )


@rule(
    id="COST-LAMBDA-003",
    slug="function-without-reserved-concurrency",
    title="Lambda has reserved concurrency",
    severity=Severity.ERROR,
    resource_types=LAMBDA,
    category=Category.COST,
    checkov=("CKV_AWS_115",),
)
def function_without_reserved_concurrency(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """The function sets `ReservedConcurrentExecutions`.

    Why:
        Without a reservation a retry storm or a looping trigger (a function writing to the
        queue it reads) scales to the account's whole concurrency and bills every copy;
        reserved concurrency caps that spend and protects the other functions' share. CDK's
        deploy-time handlers are exempt (see the module docstring).

    Fix:
        `reserved_concurrent_executions=<peak need plus headroom>` from configuration.

    Example:
        lambda_.Function(self, "ProcessPayment", reserved_concurrent_executions=50, ...)
    """
    if is_deploy_time_handler(resource):
        return
    where = "Properties/ReservedConcurrentExecutions"
    raw = resource.prop("ReservedConcurrentExecutions")
    if raw is None:
        yield violation("function has no reserved concurrency: its spend is uncapped", where)
        return
    value = as_int(raw, resource.template)
    if isinstance(value, Unresolved):
        yield undecidable(f"ReservedConcurrentExecutions cannot be read: {value.reason}", where)


@rule(
    id="COST-LAMBDA-004",
    slug="function-timeout-above-ceiling",
    title="Lambda timeout within the environment's ceiling",
    severity=Severity.ERROR,
    resource_types=LAMBDA,
    category=Category.COST,
)
def function_timeout_above_ceiling(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """The function's `Timeout` is at most `thresholds.lambda_timeout_max_s` seconds.

    Why:
        A hung call to a dependency is billed until the timeout: a 900-second timeout turns a
        stalled downstream into 15 minutes of billed duration per invocation. A short timeout
        fails fast and lets the retry policy act. CDK's deploy-time handlers are exempt (see
        the module docstring).

    Fix:
        Set `timeout` to the measured p99 plus a margin, at most the ceiling; give SDK clients
        their own shorter timeouts.

    Example:
        lambda_.Function(self, "ProcessPayment", timeout=Duration.seconds(10), ...)
    """
    if is_deploy_time_handler(resource):
        return
    ceiling = policy.thresholds.lambda_timeout_max_s
    timeout = as_int(resource.prop("Timeout"), resource.template)
    if isinstance(timeout, Unresolved):
        yield undecidable(f"Timeout cannot be read: {timeout.reason}", "Properties/Timeout")
    elif timeout is not None and timeout > ceiling:
        yield violation(
            f"function timeout is {timeout} s; the ceiling is {ceiling} s", "Properties/Timeout"
        )


#: type -> property paths that hold an instance type or class.
INSTANCE_TYPE_PATHS: dict[str, tuple[tuple[str, ...], ...]] = {
    "AWS::EC2::Instance": (("InstanceType",),),
    "AWS::EC2::LaunchTemplate": (("LaunchTemplateData", "InstanceType"),),
    "AWS::AutoScaling::LaunchConfiguration": (("InstanceType",),),
    "AWS::RDS::DBInstance": (("DBInstanceClass",),),
    "AWS::RDS::DBCluster": (("DBClusterInstanceClass",),),
    "AWS::ElastiCache::CacheCluster": (("CacheNodeType",),),
    "AWS::ElastiCache::ReplicationGroup": (("CacheNodeType",),),
}


def _instance_types(resource: Resource) -> Iterator[tuple[str, Any]]:
    for path in INSTANCE_TYPE_PATHS.get(resource.type, ()):
        value = resource.prop(*path)
        if value is not None:
            yield "Properties/" + "/".join(path), value
        elif resource.type == "AWS::EC2::Instance" and resource.prop("LaunchTemplate") is None:
            yield "Properties/InstanceType", "m1.small"  # EC2's documented default
    if resource.type == "AWS::AutoScaling::AutoScalingGroup":
        overrides = resource.prop("MixedInstancesPolicy", "LaunchTemplate", "Overrides")
        for i, item in enumerate(overrides if isinstance(overrides, list) else []):
            if isinstance(item, dict) and item.get("InstanceType") is not None:
                where = f"Properties/MixedInstancesPolicy/LaunchTemplate/Overrides/{i}/InstanceType"
                yield where, item["InstanceType"]


def _family(instance_type: str) -> str:
    """``db.m4.large`` -> ``m4``; ``cache.t2.micro`` -> ``t2``; ``t3.nano`` -> ``t3``."""
    parts = instance_type.lower().split(".")
    if parts and parts[0] in ("db", "cache") and len(parts) > 1:
        parts = parts[1:]
    return parts[0]


@rule(
    id="COST-EC2-001",
    slug="previous-generation-instance",
    title="No previous-generation instance families",
    severity=Severity.WARNING,
    resource_types=(*INSTANCE_TYPE_PATHS, "AWS::AutoScaling::AutoScalingGroup"),
    category=Category.COST,
)
def previous_generation_instance(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """EC2, RDS and ElastiCache instance types are not in a previous-generation family.

    Why:
        Previous-generation families (t2, m4, c4, r4, db.t2, cache.m4, ...) cost the same or
        more per hour than their successors and deliver less; a t4g or m7g (Graviton) is
        cheaper still. The family list is `thresholds.previous_generation_instance_families`.
        An `AWS::EC2::Instance` with neither `InstanceType` nor a launch template gets EC2's
        default, m1.small.

    Fix:
        Move to the current family of the same size (t2 → t3/t4g, m4 → m6i/m7g, db.t2 →
        db.t4g), from configuration.

    Example:
        ec2.LaunchTemplate(self, "Lt", instance_type=ec2.InstanceType("t4g.small"), ...)
    """
    old = {f.lower() for f in policy.thresholds.previous_generation_instance_families}
    for where, raw in _instance_types(resource):
        value = as_str(raw, resource.template)
        if isinstance(value, Unresolved):
            yield undecidable(f"instance type cannot be read: {value.reason}", where)
        elif value and _family(value) in old:
            yield violation(
                f"{value} is a previous-generation instance type ({_family(value)})", where
            )


def _block_device_volume_types(resource: Resource) -> Iterator[tuple[str, Any]]:
    if resource.type == "AWS::EC2::LaunchTemplate":
        mappings = resource.prop("LaunchTemplateData", "BlockDeviceMappings")
        base = "Properties/LaunchTemplateData/BlockDeviceMappings"
    else:
        mappings = resource.prop("BlockDeviceMappings")
        base = "Properties/BlockDeviceMappings"
    for i, item in enumerate(mappings if isinstance(mappings, list) else []):
        ebs = item.get("Ebs") if isinstance(item, dict) else None
        if isinstance(ebs, dict) and ebs.get("VolumeType") is not None:
            yield f"{base}/{i}/Ebs/VolumeType", ebs["VolumeType"]


@rule(
    id="COST-EBS-001",
    slug="gp2-volume",
    title="Block storage uses gp3, not gp2",
    severity=Severity.WARNING,
    resource_types=(
        "AWS::EC2::Volume",
        "AWS::EC2::Instance",
        "AWS::EC2::LaunchTemplate",
        "AWS::AutoScaling::LaunchConfiguration",
        "AWS::RDS::DBInstance",
    ),
    category=Category.COST,
)
def gp2_volume(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """EBS volumes, block-device mappings and RDS storage are not gp2.

    Why:
        gp3 costs about 20 % less per GB-month than gp2 and gives 3,000 IOPS and 125 MB/s
        regardless of size, where gp2 ties IOPS to volume size. `AWS::EC2::Volume` without
        `VolumeType` is gp2 (EC2's default). Block devices without a type take the AMI's
        default and RDS without `StorageType` the engine's, which the template does not show,
        so only an explicit gp2 is reported for those.

    Fix:
        `volume_type=ec2.EbsDeviceVolumeType.GP3` on volumes and block devices;
        `storage_type=rds.StorageType.GP3` on RDS instances.

    Example:
        ec2.BlockDevice(device_name="/dev/xvda", volume=ec2.BlockDeviceVolume.ebs(20, volume_type=ec2.EbsDeviceVolumeType.GP3))
    """
    t = resource.template
    if resource.type == "AWS::EC2::Volume":
        found: list[tuple[str, Any]] = [("Properties/VolumeType", resource.prop("VolumeType"))]
    elif resource.type == "AWS::RDS::DBInstance":
        found = [("Properties/StorageType", resource.prop("StorageType"))]
    else:
        found = list(_block_device_volume_types(resource))
    for where, raw in found:
        if raw is None:
            if resource.type == "AWS::EC2::Volume":
                yield violation("volume has no VolumeType, so EC2 creates gp2", where)
            continue
        value = as_str(raw, t)
        if isinstance(value, Unresolved):
            yield undecidable(f"volume type cannot be read: {value.reason}", where)
        elif value.lower() == "gp2":
            yield violation("storage is gp2; gp3 is cheaper per GB", where)


SPOT = "FARGATE_SPOT"
FARGATE = "FARGATE"


def _strategy(items: Any, where: str, resource: Resource) -> tuple[float, float] | Issue | None:
    """(spot weight, all Fargate weight) of a capacity provider strategy; an Issue if unreadable."""
    spot = total = 0.0
    for i, item in enumerate(items if isinstance(items, list) else []):
        if not isinstance(item, dict):
            continue
        if ref_target(item.get("CapacityProvider")) in resource.template.resources:
            continue  # an AWS::ECS::CapacityProvider of the stack: EC2 capacity, not Fargate
        name = as_str(item.get("CapacityProvider"), resource.template)
        weight = as_int(item.get("Weight", 0), resource.template)
        if isinstance(name, Unresolved):
            return undecidable(f"capacity provider cannot be read: {name.reason}", f"{where}/{i}")
        if name not in (SPOT, FARGATE):
            continue  # an EC2 (Auto Scaling group) capacity provider
        if isinstance(weight, Unresolved):
            return undecidable(f"weight cannot be read: {weight.reason}", f"{where}/{i}/Weight")
        total += weight or 0
        spot += (weight or 0) if name == SPOT else 0
    return (spot, total) if total else None


def _cluster_default(resource: Resource) -> tuple[Any, str] | None:
    """The default strategy of the service's cluster, when the cluster is in the template."""
    cluster = resource.template.get(resource.prop("Cluster"))
    if cluster is None or cluster.type != "AWS::ECS::Cluster":
        return None
    associations = "AWS::ECS::ClusterCapacityProviderAssociations"
    for assoc in resource.template.referrers(cluster.logical_id, associations):
        default = assoc.prop("DefaultCapacityProviderStrategy")
        if default:
            return default, f"the default strategy of {assoc.logical_id}"
    default = cluster.prop("DefaultCapacityProviderStrategy")
    if default:
        return default, f"the default strategy of cluster {cluster.logical_id}"
    return None


@rule(
    id="COST-ECS-001",
    slug="fargate-service-below-spot-share",
    title="Fargate services run the configured share of tasks on Fargate Spot",
    severity=Severity.WARNING,
    resource_types=("AWS::ECS::Service",),
    category=Category.COST,
)
def fargate_service_below_spot_share(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """FARGATE_SPOT holds at least `thresholds.fargate_spot_min_share` of the Fargate weight.

    Why:
        Fargate Spot runs the same tasks at up to 70 % off; stateless, interruption-tolerant
        services should put most of their tasks there and keep a `base` on FARGATE for
        availability. The share is FARGATE_SPOT's weight over the FARGATE + FARGATE_SPOT
        weights of the service's strategy (or its cluster's default strategy); a service with
        `LaunchType: FARGATE` and no strategy has 0 %. EC2 services are not judged.

    Fix:
        Give the service a capacity provider strategy, e.g. FARGATE base 1 weight 1 and
        FARGATE_SPOT weight 2 or more, and enable the Fargate capacity providers on the cluster.

    Example:
        ecs.FargateService(self, "Svc", capacity_provider_strategies=[ecs.CapacityProviderStrategy(capacity_provider="FARGATE", base=1, weight=1), ecs.CapacityProviderStrategy(capacity_provider="FARGATE_SPOT", weight=2)], ...)
    """
    minimum = policy.thresholds.fargate_spot_min_share
    where = "Properties/CapacityProviderStrategy"
    source = "the service's strategy"
    items = resource.prop("CapacityProviderStrategy")
    if not items:
        launch_type = as_str(resource.prop("LaunchType"), resource.template)
        if isinstance(launch_type, Unresolved):
            yield undecidable(
                f"LaunchType cannot be read: {launch_type.reason}", "Properties/LaunchType"
            )
            return
        if launch_type == FARGATE:
            if minimum > 0:
                yield violation(
                    f"service runs on FARGATE only (0% Spot); at least {minimum:.0%} is asked",
                    "Properties/LaunchType",
                )
            return
        if launch_type is not None:
            return  # EC2 or EXTERNAL
        default = _cluster_default(resource)
        if default is None:
            return  # no strategy anywhere: ECS uses the EC2 launch type
        (items, source), where = default, "Properties/Cluster"
    shares = _strategy(items, where, resource)
    if isinstance(shares, Issue):
        yield shares
    elif shares is not None and shares[0] / shares[1] < minimum:
        spot, total = shares
        yield violation(
            f"FARGATE_SPOT has {spot / total:.0%} of the Fargate weight in {source}; at least "
            f"{minimum:.0%} is asked",
            where,
        )
