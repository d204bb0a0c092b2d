"""Settings of the multi-region payment data system (seed 004): the ``global_data`` section.

Typed and frozen like every system's settings (:mod:`stacks.validation`): the defaults in
``cdk.json``'s ``defaults.global_data``, per-environment overrides in
``environments.<env>.global_data``. The regions come from the environment (``region`` is the
primary, ``secondary_region`` the replica); what depends on a region (the certificates) is keyed
by region name and checked against both by :meth:`GlobalDataSettings.check_regions`. Nothing here
imports the CDK.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Literal

from stacks.constructs.settings import ApiSettings, BucketSettings, FunctionSettings
from stacks.validation import Invalid, Region, matching, settings, whole

#: The ``System`` stack tag of this system's stacks (the cost report groups systems by it).
SYSTEM = "global-data"

DomainName = matching(
    r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}",
    "a lower-case DNS name such as payments.example.com",
)
HostedZoneId = matching(r"Z[A-Z0-9]{4,31}", "a Route 53 hosted zone id such as Z0123456789ABC")
CertificateArn = matching(
    r"arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]{36}",
    "an ACM certificate ARN",
)
_ARN_REGION = re.compile(r"arn:[^:]+:acm:([^:]+):")


@settings
class GlobalTableSettings:
    """The global table and its replicas."""

    #: point-in-time recovery on every replica
    point_in_time_recovery: bool
    #: deletion protection on every replica (true blocks cdk destroy)
    deletion_protection: bool


@settings
class KeySettings:
    """The three purpose keys of each region (table, audit bucket, function environment)."""

    #: days KMS waits before deleting a key scheduled for deletion
    pending_window_days: whole(7, 30)
    #: automatic rotation period of every key
    rotation_period_days: whole(90, 2560)


@settings
class ProcessorSettings(FunctionSettings):
    """The payment processor, deployed in both regions."""

    #: reserved concurrent executions of the processor in each region
    reserved_concurrency: whole(1)
    #: ISO 4217 currencies the processor accepts
    currencies: tuple[str, ...]
    #: largest amount the processor accepts (in the currency's major unit)
    max_amount: whole(1)

    def __post_init__(self) -> None:
        if not self.currencies or any(not re.fullmatch(r"[A-Z]{3}", c) for c in self.currencies):
            raise Invalid("must be three-letter upper-case ISO 4217 codes", key="currencies")


@settings
class HealthCheckSettings:
    """The Route 53 health check of each region's ``GET /health``."""

    #: consecutive failed checks before Route 53 marks the region unhealthy
    failure_threshold: whole(1, 10)
    #: seconds between checks (10 is the billed fast interval)
    request_interval_s: Literal[10, 30]
    #: region where Route 53 publishes health-check metrics (the health-check alarms live there)
    metrics_region: Region


@settings
class Certificates:
    """The custom domain's ACM certificate in each region (placeholder ARNs)."""

    #: certificate in the environment's region
    primary: CertificateArn
    #: certificate in the environment's secondary_region
    secondary: CertificateArn


@settings
class GlobalDataApi:
    """What the system's APIs set themselves; the rest (WAF rule groups, log retention, tracing)
    is the environment's API policy, ``payments.api``, written once."""

    #: stage throttle: steady requests per second
    stage_rate_limit_rps: whole(1)
    #: stage throttle: burst
    stage_burst_limit: whole(0, 5000)
    #: usage-plan throttle per API key: requests per second
    key_rate_limit_rps: whole(1)
    #: usage-plan throttle per API key: burst
    key_burst_limit: whole(0, 5000)
    #: one API key per caller, named after it (the same value in both regions)
    api_key_clients: tuple[str, ...]
    #: requests per client IP per window before the WAF blocks
    waf_rate_limit: whole(10, 2_000_000_000)
    #: API Gateway execution logging (OFF: the account-level role is the Payments stack's)
    execution_log_level: Literal["OFF", "ERROR", "INFO"]

    def on(self, shared: ApiSettings) -> ApiSettings:
        """The full API settings: these values over the environment's ``shared`` ones."""
        return dataclasses.replace(
            shared, **{f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        )


@settings
class FailoverSettings:
    """Failover DNS for the API's custom domain, in a hosted zone that already exists."""

    #: the hosted zone's name (placeholder until the zone exists)
    hosted_zone_name: DomainName
    #: the hosted zone's id (placeholder until the zone exists)
    hosted_zone_id: HostedZoneId
    #: the API's custom domain, inside the hosted zone
    domain_name: DomainName
    #: the custom domain's ACM certificate in each region (placeholder ARNs)
    certificate_arns: Certificates
    #: the health checks
    health_check: HealthCheckSettings

    def __post_init__(self) -> None:
        if not self.domain_name.endswith("." + self.hosted_zone_name):
            raise Invalid(
                f"must be inside the hosted zone {self.hosted_zone_name}", key="domain_name"
            )

    def certificate(self, role: str) -> str:
        """The certificate ARN of ``role`` (``primary`` or ``secondary``)."""
        return str(getattr(self.certificate_arns, role))


@settings
class GlobalDataAlarms:
    """Alarms of each region on the region's alarm topic; ``enabled`` false creates none."""

    #: create the alarms
    enabled: bool
    #: processor errors per period that raise the alarm
    function_errors: whole(1)
    #: average processor duration (ms) that raises the alarm
    average_duration_ms: whole(1)
    #: DynamoDB user errors per period that raise the alarm
    dynamodb_user_errors: whole(1)
    #: average replication latency (ms) to the other region that raises the alarm
    replication_latency_ms: whole(1)
    #: period of every alarm
    period_minutes: whole(1, 1440)
    #: periods an alarm must breach
    evaluation_periods: whole(1)
    #: names of the environment's ``contacts`` subscribed by e-mail to each alarm topic
    subscriptions: tuple[str, ...]


@settings
class GlobalDataSettings:
    """Every environment-specific value of the multi-region payment data system."""

    #: the global table
    table: GlobalTableSettings
    #: the purpose keys of each region
    keys: KeySettings
    #: the processor function of each region
    processor: ProcessorSettings
    #: the audit bucket of each region
    bucket: BucketSettings
    #: the regional REST API of each region
    api: GlobalDataApi
    #: DNS failover between the regions
    failover: FailoverSettings
    #: alarms of each region
    alarms: GlobalDataAlarms

    def check_regions(self, primary: str, secondary: str) -> None:
        """Refuse a configuration whose regional values do not match the environment's regions."""
        if primary == secondary:
            raise Invalid(
                f"is {secondary}, the environment's own region: a global table needs a second "
                "region",
                key="secondary_region",
            )
        for role, region in (("primary", primary), ("secondary", secondary)):
            match = _ARN_REGION.match(self.failover.certificate(role))
            if match is None or match.group(1) != region:
                raise Invalid(
                    f"is an ACM certificate of another region: API Gateway needs the regional "
                    f"custom domain's certificate in the domain's own region ({region})",
                    key=f"global_data.failover.certificate_arns.{role}",
                )
