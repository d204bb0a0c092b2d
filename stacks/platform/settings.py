"""Typed settings of the hardened platform: ``environments.<env>.platform`` read once, frozen.

The cost-relevant values (NAT placement, instance sizes, function memory and architecture, API
consolidation, storage lifecycle, log retention) all live here, so that the legacy baseline
(``-c profile=legacy``) is nothing but a configuration overlay in ``cdk.json``
(``platform_profiles.legacy``) over the same code. Every reader method raises
:class:`stacks.config.ConfigError` naming the key that is missing or wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from stacks.config import ConfigError, ConfigReader, EnvironmentConfig
from stacks.constructs.function import FunctionSettings as LambdaSettings

INSTANCE_TYPE = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")
DETECTOR_ID = re.compile(r"^[0-9a-f]{32}$")
DOMAIN_NAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
ACM_CERTIFICATE_ARN = re.compile(
    r"^arn:aws[a-z-]*:acm:(?P<region>[a-z]{2}(-[a-z]+)+-\d):\d{12}:certificate/[0-9a-f-]{36}$"
)
REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
PRICE_CLASSES = ("PriceClass_100", "PriceClass_200", "PriceClass_All")
#: A custom header CloudFront may add to origin requests: ``x-`` and lower case.
ORIGIN_HEADER = re.compile(r"^x-[a-z0-9]+(-[a-z0-9]+)*$")
#: Headers CloudFront refuses as custom origin headers, or that the API reads from the viewer.
RESERVED_ORIGIN_HEADERS = ("x-amz-", "x-edge-", "x-forwarded-", "x-real-ip", "x-api-key", "x-amzn-")
ORIGIN_VERIFY_ACTIONS = ("block", "count")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$")
TOPICS = ("cost", "security", "operations")
#: "Never expire" in configuration; null works in process, but the CDK CLI drops null context values.
NEVER_EXPIRE = "never"
#: CloudWatch Logs accepts only these retention periods (days).
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)  # fmt: skip


@dataclass(frozen=True)
class NatSettings:
    """How private subnets reach the internet: a NAT instance, or ``gateways`` NAT Gateways."""

    mode: str  # "instance" | "gateway"
    gateways: int
    instance_type: str


@dataclass(frozen=True)
class NetworkSettings:
    cidr: str
    max_azs: int
    nat: NatSettings
    flow_log_traffic: str  # "ALL" | "ACCEPT" | "REJECT"


@dataclass(frozen=True)
class ComputeSettings:
    """The worker Auto Scaling group: size and target-tracking targets."""

    instance_type: str
    min_capacity: int
    max_capacity: int
    volume_gb: int
    cpu_target_percent: int
    memory_target_percent: int


@dataclass(frozen=True)
class FunctionSettings:
    """The platform's own functions (status endpoint, responder, rotation)."""

    runtime: str
    memory_mb: int
    architecture: str  # "arm64" | "x86_64"
    timeout_s: int
    reserved_concurrency: int


@dataclass(frozen=True)
class GuardDutySettings:
    """GuardDuty allows one detector per account and region: create it, or use the existing one."""

    mode: str  # "create" | "existing"
    detector_id: str | None


@dataclass(frozen=True)
class SecuritySettings:
    """Shield, GuardDuty and rotation; the WAF rules come with each API (``payments.api``)."""

    shield_advanced: bool
    guardduty: GuardDutySettings
    secret_rotation_days: int


@dataclass(frozen=True)
class OriginVerifySettings:
    """The secret header CloudFront adds to every origin request (``edge.origin_verify``).

    ``action`` is what the API's regional web ACL does with a request that lacks the header
    or carries a wrong value: ``block`` (the steady state), or ``count`` for the one
    deployment that introduces the check, while the distribution does not yet send it.
    """

    header: str
    action: str  # "block" | "count"


@dataclass(frozen=True)
class EdgeSettings:
    """The CloudFront distribution in front of the REST API (``platform.edge``).

    ``region`` is where CloudFront-scope resources must live (the WAF web ACL, the viewer
    certificate): ``us-east-1`` in the ``aws`` partition. The stack is deployed to the
    environment's region, so the two must be the same. The other values are None when
    ``enabled`` is false.
    """

    enabled: bool
    region: str | None
    domain_name: str | None
    certificate_arn: str | None
    price_class: str | None
    origin_verify: OriginVerifySettings | None


@dataclass(frozen=True)
class AlertSettings:
    alarms: bool
    function_error_rate_percent: float
    api_4xx_percent: float
    api_5xx_percent: float
    ec2_cpu_percent: float
    dynamodb_throttle_events: int
    subscriptions: dict[str, tuple[str, ...]]


@dataclass(frozen=True)
class CostSettings:
    """Budget and anomaly thresholds; ``billing_metrics_region`` is where AWS/Billing lives."""

    cost_center: str
    billing_metrics_region: str
    service_monitor: bool
    monthly_budget_usd: int
    budget_alert_percent: int
    anomaly_threshold_usd: int
    anomaly_threshold_percent: int


@dataclass(frozen=True)
class StorageSettings:
    """``lifecycle`` off means objects stay in S3 Standard forever (the legacy baseline)."""

    lifecycle: bool
    glacier_after_days: int
    intelligent_tiering: bool
    audit_hot_days: int
    audit_retention_days: int


@dataclass(frozen=True)
class LogSettings:
    """``app_retention_days`` None means "never expire" (``"never"`` in configuration: legacy)."""

    app_retention_days: int | None


@dataclass(frozen=True)
class PlatformSettings:
    network: NetworkSettings
    compute: ComputeSettings
    functions: FunctionSettings
    security: SecuritySettings
    edge: EdgeSettings
    alerts: AlertSettings
    cost: CostSettings
    storage: StorageSettings
    logs: LogSettings
    consolidated_api: bool
    audit_trail: bool


def platform_settings(config: EnvironmentConfig) -> PlatformSettings:
    """Read ``environments.<env>.platform`` (after the profile's overlay) into typed values."""
    p = config.section("platform")
    security = _security(p.section("security"))
    edge = _edge(p.section("edge"), config.region)
    if security.shield_advanced and not edge.enabled:
        raise ConfigError(
            f"{p.where}.security.shield_advanced needs {p.where}.edge.enabled: Shield Advanced "
            "cannot protect a regional API Gateway stage, only the CloudFront distribution "
            "in front of it"
        )
    return PlatformSettings(
        network=_network(p.section("network")),
        compute=_compute(p.section("compute")),
        functions=_functions(p.section("functions")),
        security=security,
        edge=edge,
        alerts=_alerts(p.section("alerts")),
        cost=_cost(p.section("cost")),
        storage=_storage(p.section("storage")),
        logs=_logs(p.section("logs")),
        consolidated_api=p.boolean("consolidated_api"),
        audit_trail=p.boolean("audit_trail"),
    )


def platform_function_settings(settings: PlatformSettings) -> LambdaSettings:
    """The platform functions' sizing in the form :class:`PlatformFunction` takes."""
    f = settings.functions
    return LambdaSettings(
        runtime=f.runtime,
        architecture=f.architecture,
        memory_mb=f.memory_mb,
        timeout_s=f.timeout_s,
        log_retention_days=settings.logs.app_retention_days,
        tracing=True,
    )


def _network(r: ConfigReader) -> NetworkSettings:
    max_azs = r.integer("max_azs", 1, 6)
    nat = r.section("nat")
    mode = nat.choice("mode", ("instance", "gateway"))
    gateways = nat.integer("gateways", 1, max_azs)
    if mode == "instance" and gateways != 1:
        raise ConfigError(f"{nat.where}.gateways must be 1 when mode is instance; got {gateways}")
    return NetworkSettings(
        cidr=r.string("cidr", re.compile(r"^\d+\.\d+\.\d+\.\d+/\d+$"), "a CIDR block"),
        max_azs=max_azs,
        nat=NatSettings(
            mode=mode,
            gateways=gateways,
            instance_type=nat.string("instance_type", INSTANCE_TYPE, "an EC2 instance type"),
        ),
        flow_log_traffic=r.choice("flow_log_traffic", ("ALL", "ACCEPT", "REJECT")),
    )


def _compute(r: ConfigReader) -> ComputeSettings:
    minimum = r.integer("min_capacity", 0, 100)
    maximum = r.integer("max_capacity", 1, 100)
    if maximum < minimum:
        raise ConfigError(f"{r.where}.max_capacity must be >= min_capacity ({minimum})")
    return ComputeSettings(
        instance_type=r.string("instance_type", INSTANCE_TYPE, "an EC2 instance type"),
        min_capacity=minimum,
        max_capacity=maximum,
        volume_gb=r.integer("volume_gb", 8, 16384),
        cpu_target_percent=r.integer("cpu_target_percent", 10, 95),
        memory_target_percent=r.integer("memory_target_percent", 10, 95),
    )


def _functions(r: ConfigReader) -> FunctionSettings:
    return FunctionSettings(
        runtime=r.choice("runtime", ("python3.11", "python3.12", "python3.13")),
        memory_mb=r.integer("memory_mb", 128, 10240),
        architecture=r.choice("architecture", ("arm64", "x86_64")),
        timeout_s=r.integer("timeout_s", 1, 900),
        reserved_concurrency=r.integer("reserved_concurrency", 1, 1000),
    )


def _security(r: ConfigReader) -> SecuritySettings:
    gd = r.section("guardduty")
    mode = gd.choice("mode", ("create", "existing"))
    detector_id = None
    if mode == "existing":
        detector_id = gd.string("detector_id", DETECTOR_ID, "a 32-character GuardDuty detector id")
    elif gd.optional("detector_id") and gd.raw["detector_id"] is not None:
        raise ConfigError(f"{gd.where}.detector_id is only allowed when mode is existing")
    return SecuritySettings(
        shield_advanced=r.boolean("shield_advanced"),
        guardduty=GuardDutySettings(mode=mode, detector_id=detector_id),
        secret_rotation_days=r.integer("secret_rotation_days", 1, 365),
    )


def _edge(r: ConfigReader, stack_region: str) -> EdgeSettings:
    if not r.boolean("enabled"):
        return EdgeSettings(False, None, None, None, None, None)
    region = r.string("region", REGION, "an AWS region")
    if region != stack_region:
        raise ConfigError(
            f"{r.where}.region is {region}, where CloudFront-scope resources (the WAF web ACL, "
            f"the viewer certificate) must be created, but the platform is deployed to "
            f"{stack_region}: deploy the environment to {region} or disable {r.where}.enabled"
        )
    arn = r.string("certificate_arn", ACM_CERTIFICATE_ARN, "an ACM certificate ARN")
    match = ACM_CERTIFICATE_ARN.match(arn)
    if match is not None and match["region"] != region:
        raise ConfigError(
            f"{r.where}.certificate_arn is in {match['region']}; CloudFront only uses "
            f"certificates issued in {region}"
        )
    return EdgeSettings(
        enabled=True,
        region=region,
        domain_name=r.string("domain_name", DOMAIN_NAME, "a lower-case DNS name"),
        certificate_arn=arn,
        price_class=r.choice("price_class", PRICE_CLASSES),
        origin_verify=_origin_verify(r.section("origin_verify")),
    )


def _origin_verify(r: ConfigReader) -> OriginVerifySettings:
    header = r.string("header", ORIGIN_HEADER, "a lower-case header name starting with x-")
    if header.startswith(RESERVED_ORIGIN_HEADERS):
        raise ConfigError(
            f"{r.where}.header {header!r} is reserved: CloudFront refuses it as a custom origin "
            f"header, or the API reads it from the caller ({', '.join(RESERVED_ORIGIN_HEADERS)})"
        )
    return OriginVerifySettings(header=header, action=r.choice("action", ORIGIN_VERIFY_ACTIONS))


def _alerts(r: ConfigReader) -> AlertSettings:
    subs = r.section("subscriptions")
    subscriptions: dict[str, tuple[str, ...]] = {}
    for topic in TOPICS:
        emails = subs.string_list(topic)
        for email in emails:
            if not EMAIL.match(email):
                raise ConfigError(f"{subs.where}.{topic} has an invalid e-mail address {email!r}")
        subscriptions[topic] = emails
    unknown = set(subs.raw) - set(TOPICS)
    if unknown:
        raise ConfigError(
            f"unknown topic(s) {sorted(unknown)} in {subs.where} (allowed: {', '.join(TOPICS)})"
        )
    return AlertSettings(
        alarms=r.boolean("alarms"),
        function_error_rate_percent=r.number("function_error_rate_percent", 0, 100),
        api_4xx_percent=r.number("api_4xx_percent", 0, 100),
        api_5xx_percent=r.number("api_5xx_percent", 0, 100),
        ec2_cpu_percent=r.number("ec2_cpu_percent", 0, 100),
        dynamodb_throttle_events=r.integer("dynamodb_throttle_events", 1),
        subscriptions=subscriptions,
    )


def _cost(r: ConfigReader) -> CostSettings:
    return CostSettings(
        cost_center=r.string("cost_center"),
        billing_metrics_region=r.string(
            "billing_metrics_region", re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$"), "an AWS region"
        ),
        service_monitor=r.boolean("service_monitor"),
        monthly_budget_usd=r.integer("monthly_budget_usd", 1),
        budget_alert_percent=r.integer("budget_alert_percent", 1, 1000),
        anomaly_threshold_usd=r.integer("anomaly_threshold_usd", 1),
        anomaly_threshold_percent=r.integer("anomaly_threshold_percent", 1, 1000),
    )


def _storage(r: ConfigReader) -> StorageSettings:
    retention = r.integer("audit_retention_days", 365)
    hot = r.integer("audit_hot_days", 90, retention)
    return StorageSettings(
        lifecycle=r.boolean("lifecycle"),
        glacier_after_days=r.integer("glacier_after_days", 1, 3650),
        intelligent_tiering=r.boolean("intelligent_tiering"),
        audit_hot_days=hot,
        audit_retention_days=retention,
    )


def _logs(r: ConfigReader) -> LogSettings:
    if not r.optional("app_retention_days"):
        raise ConfigError(f"missing key {r.where}.app_retention_days")
    app = r.raw["app_retention_days"]
    if app in (None, NEVER_EXPIRE):
        app = None
    elif app not in LOG_RETENTION_DAYS or isinstance(app, bool):
        raise ConfigError(
            f'{r.where}.app_retention_days must be "{NEVER_EXPIRE}" (or null) or one of '
            f"{', '.join(map(str, LOG_RETENTION_DAYS))}; got {app!r}"
        )
    return LogSettings(app_retention_days=app)
