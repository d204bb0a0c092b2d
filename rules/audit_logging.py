"""Audit logging (PCI DSS 10.2.x): every entry point and network records who did what, when.

API Gateway stages keep access logs and execution logs (and traces), load balancers and
CloudFront keep access logs, every VPC has flow logs, CloudTrail records every region with
log-file validation, and ECS containers ship their logs. AWS maps API Gateway access logs and
X-Ray, CloudFront access logs, CloudTrail, ECS log configuration and flow logs to 10.2.1 (and
related); the execution-logging and load-balancer access-log mappings to 10.2.1/10.2.2 are ours,
since those are the only per-request records those services keep.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from governance.intrinsics import Unresolved, as_bool, as_str, resolve
from governance.model import Category, Issue, Severity, undecidable, violation
from governance.policy import Policy
from governance.registry import rule
from governance.template import Resource
from rules._support import as_list, pick_branch, referrers_anywhere, require_true


def _present(value: Any, resource: Resource, where: str, missing: str) -> Iterator[Issue]:
    """A destination that must be set: absent is a violation, a deploy-time ``Fn::If`` undecidable."""
    value = pick_branch(value, resource.template)
    if isinstance(value, Unresolved):
        yield undecidable(f"log destination cannot be read: {value.reason}", where)
    elif value is None or value == "":
        yield violation(missing, where)


@rule(
    id="PCI-LOG-001",
    slug="api-stage-without-access-logs",
    title="API Gateway stages write access logs",
    severity=Severity.ERROR,
    resource_types=(
        "AWS::ApiGateway::Stage",
        "AWS::ApiGatewayV2::Stage",
        "AWS::ApiGateway::Deployment",
    ),
    category=Category.PCI_LOGGING,
    pci=("10.2.1", "10.2.2"),
    checkov=("CKV_AWS_76", "CKV_AWS_95"),
    cdk_nag=("AwsSolutions-APIG1",),
)
def api_stage_without_access_logs(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """The stage's access-log setting names a destination.

    Why:
        Access logs are the API's record of every request: caller, time, method, path and
        status (PCI DSS 10.2.1, 10.2.2; AWS maps api-gwv2-access-logs-enabled here). A
        deployment that creates its own stage (`StageName`) needs the setting in
        `StageDescription`.

    Fix:
        `deploy_options=apigateway.StageOptions(access_log_destination=apigateway.LogGroupLogDestination(group),
        access_log_format=apigateway.AccessLogFormat.json_with_standard_fields(...))`.

    Example:
        apigateway.RestApi(self, "Api", deploy_options=apigateway.StageOptions(access_log_destination=apigateway.LogGroupLogDestination(access_logs)))
    """
    if resource.type == "AWS::ApiGateway::Deployment":
        if resource.prop("StageName") is None:
            return
        where = "Properties/StageDescription/AccessLogSetting/DestinationArn"
        value = resource.prop("StageDescription", "AccessLogSetting", "DestinationArn")
    elif resource.type == "AWS::ApiGateway::Stage":
        where = "Properties/AccessLogSetting/DestinationArn"
        value = resource.prop("AccessLogSetting", "DestinationArn")
    else:
        where = "Properties/AccessLogSettings/DestinationArn"
        value = resource.prop("AccessLogSettings", "DestinationArn")
    yield from _present(value, resource, where, "stage writes no access logs")


def _logging_level(value: Any, resource: Resource, where: str) -> Iterator[Issue]:
    level = as_str(value, resource.template)
    if isinstance(level, Unresolved):
        yield undecidable(f"LoggingLevel cannot be read: {level.reason}", where)
    elif level not in ("INFO", "ERROR"):
        yield violation(f"execution logging is {level or 'off'}", where)


@rule(
    id="PCI-LOG-002",
    slug="api-stage-without-execution-logging",
    title="API Gateway REST and WebSocket stages log execution",
    severity=Severity.ERROR,
    resource_types=("AWS::ApiGateway::Stage", "AWS::ApiGatewayV2::Stage"),
    category=Category.PCI_LOGGING,
    pci=("10.2.1", "10.2.2"),
    cdk_nag=("AwsSolutions-APIG6", "PCI.DSS.321-APIGWExecutionLoggingEnabled"),
)
def api_stage_without_execution_logging(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """A method setting for every resource and method (`/*`, `*`) sets `LoggingLevel` INFO or ERROR.

    Why:
        Execution logs record authorizer decisions, throttling and integration errors: the
        security events that access logs do not explain (PCI DSS 10.2.1, 10.2.2). AWS maps this
        check only to 3.2.1 (10.1, 10.3.x); the v4.0.1 mapping is ours. HTTP APIs (v2, protocol
        HTTP) have no execution logs and are not judged.

    Fix:
        `deploy_options=apigateway.StageOptions(logging_level=apigateway.MethodLoggingLevel.INFO)`
        (and `data_trace_enabled=False`, so payloads stay out of the logs).

    Example:
        apigateway.StageOptions(logging_level=apigateway.MethodLoggingLevel.ERROR, ...)
    """
    if resource.type == "AWS::ApiGatewayV2::Stage":
        api = resource.template.get(resource.prop("ApiId"))
        protocol = as_str(api.prop("ProtocolType"), api.template) if api else None
        if protocol != "WEBSOCKET":
            return
        where = "Properties/DefaultRouteSettings/LoggingLevel"
        yield from _logging_level(
            resource.prop("DefaultRouteSettings", "LoggingLevel"), resource, where
        )
        return
    settings = resolve(resource.prop("MethodSettings"), resource.template)
    if isinstance(settings, Unresolved):
        yield undecidable(
            f"MethodSettings cannot be read: {settings.reason}", "Properties/MethodSettings"
        )
        return
    for i, setting in enumerate(as_list(settings)):
        if (
            isinstance(setting, dict)
            and setting.get("HttpMethod") == "*"
            and setting.get("ResourcePath") in ("/*", "/*/*")
        ):
            yield from _logging_level(
                setting.get("LoggingLevel"), resource, f"Properties/MethodSettings/{i}/LoggingLevel"
            )
            return
    yield violation(
        "no method setting turns on execution logging for all methods", "Properties/MethodSettings"
    )


@rule(
    id="PCI-LOG-003",
    slug="api-stage-without-tracing",
    title="API Gateway REST stages have X-Ray tracing",
    severity=Severity.WARNING,
    resource_types=("AWS::ApiGateway::Stage",),
    category=Category.PCI_LOGGING,
    pci=("10.2.1",),
    checkov=("CKV_AWS_73",),
)
def api_stage_without_tracing(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """`TracingEnabled` is true.

    Why:
        Traces tie one request's path through API, functions and tables together, which helps
        reconstruct an event (AWS maps api-gw-xray-enabled to 10.2.1). A warning: the access
        and execution logs already hold the events PCI DSS asks for.

    Fix:
        `deploy_options=apigateway.StageOptions(tracing_enabled=True)`.

    Example:
        apigateway.StageOptions(tracing_enabled=True, ...)
    """
    yield from require_true(resource, "TracingEnabled", "X-Ray tracing is off")


@rule(
    id="PCI-LOG-004",
    slug="load-balancer-without-access-logs",
    title="Application load balancers write access logs",
    severity=Severity.ERROR,
    resource_types=("AWS::ElasticLoadBalancingV2::LoadBalancer",),
    category=Category.PCI_LOGGING,
    pci=("10.2.1", "10.2.2"),
    checkov=("CKV_AWS_91",),
    cdk_nag=("AwsSolutions-ELB2", "PCI.DSS.321-ELBLoggingEnabled"),
)
def load_balancer_without_access_logs(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """The attribute `access_logs.s3.enabled` is `true`.

    Why:
        The load balancer's access log is the only record of requests it answered itself
        (redirects, 4xx/5xx before the target) and of client addresses (PCI DSS 10.2.1, 10.2.2;
        our mapping: AWS's elb-logging-enabled is mapped only in 3.2.1). Only application load
        balancers are judged: a network load balancer logs TLS listeners only, and VPC flow
        logs cover its TCP traffic; gateway load balancers have no access logs.

    Fix:
        `alb.log_access_logs(bucket, prefix="alb")` with a bucket that keeps logs 365 days.

    Example:
        alb.log_access_logs(access_log_bucket, "payments-alb")
    """
    template = resource.template
    kind = as_str(resource.prop("Type"), template)
    if isinstance(kind, Unresolved):
        yield undecidable(f"load balancer type cannot be read: {kind.reason}", "Properties/Type")
        return
    if kind not in (None, "application"):
        return
    for i, attr in enumerate(as_list(resource.prop("LoadBalancerAttributes"))):
        if (
            isinstance(attr, dict)
            and resolve(attr.get("Key"), template) == "access_logs.s3.enabled"
        ):
            enabled = as_bool(attr.get("Value"), template)
            where = f"Properties/LoadBalancerAttributes/{i}/Value"
            if isinstance(enabled, Unresolved):
                yield undecidable(f"access_logs.s3.enabled cannot be read: {enabled.reason}", where)
            elif not enabled:
                yield violation("access logs are disabled", where)
            return
    yield violation("access logs are not enabled", "Properties/LoadBalancerAttributes")


@rule(
    id="PCI-LOG-005",
    slug="distribution-without-access-logs",
    title="CloudFront distributions write access logs",
    severity=Severity.ERROR,
    resource_types=("AWS::CloudFront::Distribution",),
    category=Category.PCI_LOGGING,
    pci=("10.2.1", "10.2.2"),
    checkov=("CKV_AWS_86",),
    cdk_nag=("AwsSolutions-CFR3",),
)
def distribution_without_access_logs(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """The distribution has standard logging to S3 (`Logging.Bucket`) or a v2 log delivery source.

    Why:
        CloudFront access logs are the record of every viewer request at the edge (PCI DSS
        10.2.1; AWS maps cloudfront-accesslogs-enabled here).

    Fix:
        `cloudfront.Distribution(..., enable_logging=True, log_bucket=bucket)`, or a
        `logs.CfnDeliverySource` for the distribution (standard logging v2).

    Example:
        cloudfront.Distribution(self, "Cdn", enable_logging=True, log_bucket=access_logs, ...)
    """
    if referrers_anywhere(resource, "AWS::Logs::DeliverySource", "Properties/ResourceArn"):
        return
    where = "Properties/DistributionConfig/Logging"
    logging = pick_branch(resource.prop("DistributionConfig", "Logging"), resource.template)
    if isinstance(logging, Unresolved):
        yield undecidable(f"Logging cannot be read: {logging.reason}", where)
        return
    bucket = logging.get("Bucket") if isinstance(logging, dict) else None
    yield from _present(bucket, resource, f"{where}/Bucket", "distribution writes no access logs")


@rule(
    id="PCI-LOG-006",
    slug="vpc-without-flow-logs",
    title="Every VPC has flow logs",
    severity=Severity.ERROR,
    resource_types=("AWS::EC2::VPC",),
    category=Category.PCI_LOGGING,
    pci=("10.2.1",),
    cdk_nag=("AwsSolutions-VPC7", "PCI.DSS.321-VPCFlowLogsEnabled"),
)
def vpc_without_flow_logs(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """An `AWS::EC2::FlowLog` names the VPC as its resource.

    Why:
        Flow logs record which addresses talked to which, on which ports, accepted or
        rejected: the network half of the audit trail (PCI DSS 10.2.1; AWS maps
        vpc-flow-logs-enabled in 3.2.1 to 10.x).

    Fix:
        `ec2.Vpc(..., flow_logs={"all": ec2.FlowLogOptions(destination=...)})`.

    Example:
        ec2.Vpc(self, "Vpc", flow_logs={"all": ec2.FlowLogOptions(traffic_type=ec2.FlowLogTrafficType.ALL)})
    """
    if not referrers_anywhere(resource, "AWS::EC2::FlowLog", "Properties/ResourceId"):
        yield violation("VPC has no flow log")


@rule(
    id="PCI-LOG-007",
    slug="trail-without-log-validation",
    title="CloudTrail log-file validation is on",
    severity=Severity.ERROR,
    resource_types=("AWS::CloudTrail::Trail",),
    category=Category.PCI_LOGGING,
    pci=("10.3.2", "10.3.4"),
    checkov=("CKV_AWS_36",),
    cdk_nag=("PCI.DSS.321-CloudTrailLogFileValidationEnabled",),
)
def trail_without_log_validation(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """`EnableLogFileValidation` is true.

    Why:
        Digest files let anyone prove a log file was not changed or deleted after delivery:
        change detection on audit logs (PCI DSS 10.3.4; AWS maps
        cloudtrail-security-trail-enabled, which includes it, to 10.3.3/10.3.4).

    Fix:
        `cloudtrail.Trail(self, "Trail", enable_file_validation=True)` (the CDK default).

    Example:
        cloudtrail.Trail(self, "Trail", enable_file_validation=True, is_multi_region_trail=True)
    """
    yield from require_true(resource, "EnableLogFileValidation", "log-file validation is off")


@rule(
    id="PCI-LOG-008",
    slug="trail-single-region",
    title="CloudTrail trails record every region",
    severity=Severity.ERROR,
    resource_types=("AWS::CloudTrail::Trail",),
    category=Category.PCI_LOGGING,
    pci=("10.2.1",),
    checkov=("CKV_AWS_67",),
)
def trail_single_region(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """`IsMultiRegionTrail` is true.

    Why:
        A single-region trail misses API calls made in every other region, where an
        attacker would start resources unnoticed (PCI DSS 10.2.1; AWS maps
        multi-region-cloudtrail-enabled here).

    Fix:
        `cloudtrail.Trail(self, "Trail", is_multi_region_trail=True)` (the CDK default).

    Example:
        cloudtrail.Trail(self, "Trail", is_multi_region_trail=True)
    """
    yield from require_true(resource, "IsMultiRegionTrail", "trail records one region only")


@rule(
    id="PCI-LOG-009",
    slug="trail-not-logging",
    title="CloudTrail trails are logging",
    severity=Severity.ERROR,
    resource_types=("AWS::CloudTrail::Trail",),
    category=Category.PCI_LOGGING,
    pci=("10.2.1",),
)
def trail_not_logging(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """`IsLogging` is true.

    Why:
        A trail created stopped records nothing (PCI DSS 10.2.1).

    Fix:
        Leave `IsLogging` true; stop a trail only through a change that is itself audited.

    Example:
        cloudtrail.Trail(self, "Trail")  # IsLogging is always true in CDK
    """
    enabled = as_bool(resource.prop("IsLogging"), resource.template)
    if isinstance(enabled, Unresolved):
        yield undecidable(f"IsLogging cannot be read: {enabled.reason}", "Properties/IsLogging")
    elif enabled is False:
        yield violation("trail is not logging", "Properties/IsLogging")


@rule(
    id="PCI-LOG-010",
    slug="container-without-log-configuration",
    title="ECS containers ship their logs",
    severity=Severity.ERROR,
    resource_types=("AWS::ECS::TaskDefinition",),
    category=Category.PCI_LOGGING,
    pci=("10.2.1",),
    cdk_nag=("AwsSolutions-ECS7",),
)
def container_without_log_configuration(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """Every container definition has a `LogConfiguration`.

    Why:
        Without a log driver a container's output stays on the task and disappears with it
        (PCI DSS 10.2.1; AWS maps ecs-task-definition-log-configuration here).

    Fix:
        `logging=ecs.LogDrivers.aws_logs(stream_prefix="app", log_group=group)` on each
        container.

    Example:
        task.add_container("app", image=image, logging=ecs.LogDrivers.aws_logs(stream_prefix="payments"))
    """
    for i, container in enumerate(as_list(resource.prop("ContainerDefinitions"))):
        if isinstance(container, dict) and container.get("LogConfiguration") is None:
            name = container.get("Name", i)
            yield violation(
                f"container {name} has no log configuration",
                f"Properties/ContainerDefinitions/{i}/LogConfiguration",
            )
