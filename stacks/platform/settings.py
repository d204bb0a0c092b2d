"""The hardened platform's settings (seed 000): the ``platform`` section of an environment.

The cost-relevant values (NAT placement, instance sizes, function memory and architecture, API
consolidation, storage lifecycle, log retention) all live here, so that the legacy baseline
(``-c profile=legacy``) is nothing but a configuration overlay in ``cdk.json``
(``platform_profiles.legacy``) over the same code. The fields are the reader
(:mod:`stacks.validation`): a missing, unknown or wrong key is refused with one sentence naming
it. Nothing here imports the CDK.
"""

from __future__ import annotations

import re
from typing import Literal

from stacks.constructs.settings import FunctionSettings, OriginVerifySettings
from stacks.validation import (
    Cidr,
    InstanceType,
    Invalid,
    Percent,
    Region,
    matching,
    settings,
    whole,
)

#: The alert topics, as named under ``alerts.subscriptions``.
TOPICS = ("cost", "security", "operations")
#: The CloudTrail trail's base name (the key policy names it in its conditions).
TRAIL_NAME = "payments-audit-trail"
#: CloudFront price classes, by their CloudFormation name.
PriceClass = Literal["PriceClass_100", "PriceClass_200", "PriceClass_All"]
_CERTIFICATE_ARN = re.compile(
    r"arn:aws[a-z-]*:acm:(?P<region>[a-z]{2}(-[a-z]+)+-\d):\d{12}:certificate/[0-9a-f-]{36}"
)
DetectorId = matching(r"[0-9a-f]{32}", "a 32-character GuardDuty detector id")
DomainName = matching(
    r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}", "a lower-case DNS name"
)
CertificateArn = matching(_CERTIFICATE_ARN.pattern, "an ACM certificate ARN")


@settings
class NatSettings:
    """How private subnets reach the internet: a NAT instance, or ``gateways`` NAT Gateways."""

    #: a NAT instance (cheap, single) or NAT Gateways
    mode: Literal["instance", "gateway"]
    #: NAT Gateways (1 for an instance)
    gateways: whole(1, 6)
    #: type of the NAT instance
    instance_type: InstanceType

    def __post_init__(self) -> None:
        if self.mode == "instance" and self.gateways != 1:
            raise Invalid("must be 1 when mode is instance", key="gateways")


@settings
class NetworkSettings:
    """The VPC: address range, zones, NAT and what the flow logs record."""

    #: address range of the VPC
    cidr: Cidr
    #: availability zones (named a, b, c... of the region)
    max_azs: whole(1, 6)
    #: how private subnets reach the internet
    nat: NatSettings
    #: what the VPC flow logs record
    flow_log_traffic: Literal["ALL", "ACCEPT", "REJECT"]

    def __post_init__(self) -> None:
        if self.nat.gateways > self.max_azs:
            raise Invalid(f"must be <= max_azs ({self.max_azs})", key="nat.gateways")


@settings
class ComputeSettings:
    """The worker Auto Scaling group: size and target-tracking targets."""

    #: type of the worker instances
    instance_type: InstanceType
    #: smallest worker group
    min_capacity: whole(0, 100)
    #: largest worker group
    max_capacity: whole(1, 100)
    #: encrypted gp3 root volume (GB)
    volume_gb: whole(8, 16384)
    #: target-tracking CPU
    cpu_target_percent: whole(10, 95)
    #: target-tracking memory (CloudWatch agent)
    memory_target_percent: whole(10, 95)

    def __post_init__(self) -> None:
        if self.max_capacity < self.min_capacity:
            raise Invalid(f"must be >= min_capacity ({self.min_capacity})", key="max_capacity")


@settings
class PlatformFunctions(FunctionSettings):
    """The platform's own functions (status endpoint, responder, rotation), one size for all."""

    #: reserved executions of each platform function (rotation: 1)
    reserved_concurrency: whole(1, 1000)


@settings
class GuardDutySettings:
    """GuardDuty allows one detector per account and region (docs/deploy.md, "GuardDuty").

    ``external``: the detector is managed outside this app (the organisation's delegated
    administrator, or enabled once by hand); nothing is created and its id is not needed.
    ``existing``: the same, with the detector id known (written to Parameter Store).
    ``create``: CloudFormation creates it - only in the environment's own deployment, never in a
    parallel copy, and only where no detector exists yet (checked by hand first).
    """

    #: who owns the account's detector: this app (create) or not (existing, external)
    mode: Literal["create", "existing", "external"]
    #: the existing detector (mode existing only)
    detector_id: DetectorId | None = None

    def __post_init__(self) -> None:
        if self.mode == "existing":
            if self.detector_id is None:
                raise Invalid(
                    "required when mode is existing: a 32-character GuardDuty detector id",
                    key="detector_id",
                    missing=True,
                )
        elif self.detector_id is not None:
            raise Invalid("is only allowed when mode is existing", key="detector_id")


@settings
class SecuritySettings:
    """Shield, GuardDuty and secrets; the WAF rules come with each API (``payments.api``).

    ``secrets``: ``create`` generates the platform's secrets and rotates them every
    ``secret_rotation_days``; ``import`` uses existing Secrets Manager entries of the same names
    (seed 002: fetched, not created), whose rotation their owner configures.
    """

    #: protect the edge distribution with Shield Advanced (needs edge.enabled)
    shield_advanced: bool
    #: the account's GuardDuty detector
    guardduty: GuardDutySettings
    #: create the secrets (with rotation) or import existing entries by name
    secrets: Literal["create", "import"]
    #: rotation interval of every generated secret (secrets create)
    secret_rotation_days: whole(1, 365)


@settings
class EdgeSettings:
    """The CloudFront distribution in front of the REST API (``platform.edge``).

    ``region`` is where CloudFront-scope resources must live (the WAF web ACL, the viewer
    certificate): ``us-east-1`` in the ``aws`` partition. The stack is deployed to the
    environment's region, so the two must be the same (checked with the environment). The
    other keys are required when ``enabled`` is true and unused otherwise.
    """

    #: put a CloudFront distribution in front of the REST API
    enabled: bool
    #: where CloudFront-scope resources live: the environment's region, us-east-1
    region: Region | None = None
    #: the distribution's custom domain
    domain_name: DomainName | None = None
    #: ACM certificate for domain_name, issued in region
    certificate_arn: CertificateArn | None = None
    #: CloudFront price class
    price_class: PriceClass | None = None
    #: the secret header that proves a request came through the distribution
    origin_verify: OriginVerifySettings | None = None

    def __post_init__(self) -> None:
        if not self.enabled:
            return
        for key in ("region", "domain_name", "certificate_arn", "price_class", "origin_verify"):
            if getattr(self, key) is None:
                raise Invalid("required when enabled is true", key=key, missing=True)
        match = _CERTIFICATE_ARN.fullmatch(self.certificate_arn or "")
        if match is not None and match["region"] != self.region:
            raise Invalid(
                f"is in {match['region']}; CloudFront only uses certificates issued in "
                f"{self.region}",
                key="certificate_arn",
                show_value=False,
            )


@settings
class Subscriptions:
    """Who receives each alert topic: names from the environment's ``contacts``."""

    #: contacts e-mailed by the cost topic
    cost: tuple[str, ...]
    #: contacts e-mailed by the security topic
    security: tuple[str, ...]
    #: contacts e-mailed by the operations topic
    operations: tuple[str, ...]
    #: contacts e-mailed by the payments pipeline's payment-notifications topic
    payments: tuple[str, ...]

    def __post_init__(self) -> None:
        for topic in ("cost", "security", "operations", "payments"):
            if not getattr(self, topic):
                raise Invalid(
                    "needs at least one contact: an alarm topic nobody reads reaches no one",
                    key=topic,
                )


@settings
class AlertSettings:
    """Alarm thresholds of the platform (alarms only when ``alarms``) and the topics' readers."""

    #: create the platform's alarms
    alarms: bool
    #: alarm when a function's errors exceed this share of invocations
    function_error_rate_percent: Percent
    #: alarm when an API's 4XX responses exceed this share
    api_4xx_percent: Percent
    #: alarm when an API's 5XX responses exceed this share
    api_5xx_percent: Percent
    #: alarm when the workers' average CPU stays above this for 15 minutes
    ec2_cpu_percent: Percent
    #: alarm at this many throttled table requests in 5 minutes
    dynamodb_throttle_events: whole(1)
    #: who receives each alert topic
    subscriptions: Subscriptions


@settings
class CostSettings:
    """Budget and anomaly thresholds; ``billing_metrics_region`` is where AWS/Billing lives.

    The cost centre the budget and the anomaly monitor filter on is the ``CostCenter`` tag
    value of the governance policy (``governance.tag_values.CostCenter``): the same value the
    tag Aspect writes on every resource, so the filter and the tags cannot drift apart.
    """

    #: region of the AWS/Billing metrics (us-east-1)
    billing_metrics_region: Region
    #: create the account's one AWS-services anomaly monitor
    service_monitor: bool
    #: monthly budget of the cost centre (USD)
    monthly_budget_usd: whole(1)
    #: alert when actual spend passes this share of the budget
    budget_alert_percent: whole(1, 1000)
    #: report an anomaly of at least this impact (USD)...
    anomaly_threshold_usd: whole(1)
    #: ...and at least this share of the expected spend
    anomaly_threshold_percent: whole(1, 1000)


@settings
class StorageSettings:
    """``lifecycle`` off means objects stay in S3 Standard forever (the legacy baseline)."""

    #: lifecycle rules on the audit, archive and log buckets (off: legacy)
    lifecycle: bool
    #: age at which archives and audit logs move to Glacier classes
    glacier_after_days: whole(1, 3650)
    #: exports/ in S3 Intelligent-Tiering from day 0
    intelligent_tiering: bool
    #: audit logs stay immediately readable this long (PCI DSS 10.5.1: 90)
    audit_hot_days: whole(90)
    #: audit logs are deleted after this (PCI DSS 10.5.1: 365)
    audit_retention_days: whole(365)

    def __post_init__(self) -> None:
        if self.audit_hot_days > self.audit_retention_days:
            raise Invalid(
                f"must be <= audit_retention_days ({self.audit_retention_days})",
                key="audit_hot_days",
            )


@settings
class PlatformSettings:
    """Every environment-specific value of the hardened platform (``environments.<env>.platform``)."""

    #: the VPC
    network: NetworkSettings
    #: the worker Auto Scaling group
    compute: ComputeSettings
    #: the platform's functions (status endpoint, responder, rotation)
    functions: PlatformFunctions
    #: Shield, GuardDuty, secrets
    security: SecuritySettings
    #: the CloudFront distribution in front of the API
    edge: EdgeSettings
    #: the three alert topics and the platform's alarms
    alerts: AlertSettings
    #: budget and cost anomaly detection
    cost: CostSettings
    #: audit, archive and access-log buckets
    storage: StorageSettings
    #: one REST API for every route (off: one API per service, legacy)
    consolidated_api: bool
    #: a multi-region CloudTrail trail into the audit bucket
    audit_trail: bool

    def __post_init__(self) -> None:
        if self.security.shield_advanced and not self.edge.enabled:
            raise Invalid(
                "needs edge.enabled: Shield Advanced cannot protect a regional API Gateway "
                "stage, only the CloudFront distribution in front of it",
                key="security.shield_advanced",
                show_value=False,
            )
