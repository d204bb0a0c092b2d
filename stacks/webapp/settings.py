"""The web application's settings (seed 003): the ``webapp`` section of an environment.

Every environment-specific value of the highly available web application - task size and
scaling, the Fargate Spot share, the database class and storage type, backup retention, the
certificates and domain names, the sessions table, the validation function, alarm thresholds and
who is e-mailed - is read here from ``cdk.json`` (``defaults.webapp``, ``environments.<env>.webapp``,
``platform_profiles.<profile>.*.webapp``). The legacy profile (Fargate on demand only,
previous-generation database instances, no lifecycle, logs never expire) is an overlay of these
keys, never code. Nothing here imports the CDK.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Literal

import annotated_types

from stacks.constructs.settings import FunctionSettings, QueueSettings
from stacks.platform.settings import CertificateArn, DomainName
from stacks.validation import ConfigError, Invalid, Percent, Retention, matching, settings, whole

#: A container image reference from a public registry (no image is built here).
Image = matching(r"[a-z0-9.-]+(/[a-z0-9._-]+)+(:[A-Za-z0-9._-]+|@sha256:[0-9a-f]{64})", "an image reference such as public.ecr.aws/nginx/nginx-unprivileged:stable-alpine")  # fmt: skip
#: An RDS DB instance class such as db.r6g.large.
DbInstanceClass = matching(r"db\.[a-z][a-z0-9-]*\.[a-z0-9]+", "an RDS instance class such as db.r6g.large")  # fmt: skip
PrefixListId = matching(r"pl-[0-9a-f]{8,17}", "a managed prefix list id such as pl-3b927c52")
#: A numeric ``uid:gid`` other than root's.
User = matching(r"[1-9][0-9]{0,9}:[0-9]{1,10}", "a numeric uid:gid other than 0 (root)")
Path = matching(r"/[A-Za-z0-9._~/-]*", "an absolute URL path such as /health")
AttributeName = matching(r"[A-Za-z_][A-Za-z0-9_]{0,254}", "a DynamoDB attribute name")
#: A number of seconds above 0 and at most 60.
Seconds = Annotated[float, annotated_types.Interval(gt=0, le=60)]
Header = matching(r"x-[a-z0-9]+(-[a-z0-9]+)*", "a lower-case header name starting with x-")
#: Fargate task sizes: CPU units and the memory (MB) each allows (AWS ECS developer guide).
FARGATE_MEMORY_MB = {
    256: (512, 2048),
    512: (1024, 4096),
    1024: (2048, 8192),
    2048: (4096, 16384),
    4096: (8192, 30720),
}


@settings
class ServiceSettings:
    """The ECS Fargate service of the web application."""

    #: the container image (a public placeholder; no image is built here)
    image: Image
    #: port the container listens on (the target group's port)
    container_port: whole(1024, 65535)
    #: numeric uid:gid the container runs as (never root)
    user: User
    #: task CPU units (256 = 0.25 vCPU)
    cpu: Literal[256, 512, 1024, 2048, 4096]
    #: task memory (MB), within what the CPU size allows
    memory_mb: whole(512, 30720)
    #: CPU architecture of the tasks; Fargate Spot runs x86_64 Linux tasks only
    architecture: Literal["x86_64", "arm64"]
    #: fewest running tasks
    min_tasks: whole(1, 1000)
    #: most running tasks
    max_tasks: whole(1, 1000)
    #: target-tracking average CPU
    cpu_target_percent: whole(10, 95)
    #: target-tracking average memory
    memory_target_percent: whole(10, 95)
    #: tasks always placed on FARGATE (on demand) before weights apply
    on_demand_base: whole(0, 100000)
    #: FARGATE (on demand) weight of the capacity provider strategy
    on_demand_weight: whole(0, 1000)
    #: FARGATE_SPOT weight of the capacity provider strategy (0: on demand only)
    spot_weight: whole(0, 1000)
    #: seconds the load balancer's health checks are ignored after a task starts
    health_check_grace_s: whole(0, 7200)
    #: retention of the container logs
    log_retention_days: Retention

    def __post_init__(self) -> None:
        low, high = FARGATE_MEMORY_MB[self.cpu]
        if not low <= self.memory_mb <= high:
            raise Invalid(f"must be between {low} and {high} for cpu {self.cpu}", key="memory_mb")
        if self.max_tasks < self.min_tasks:
            raise Invalid(f"must be >= min_tasks ({self.min_tasks})", key="max_tasks")
        if self.on_demand_weight + self.spot_weight == 0:
            raise Invalid("on_demand_weight and spot_weight cannot both be 0", key="spot_weight")
        if self.spot_weight and self.architecture != "x86_64":
            raise Invalid(
                "must be x86_64 while spot_weight > 0: Fargate Spot supports only Linux tasks on "
                "x86_64 (AWS ECS developer guide, Fargate capacity providers)",
                key="architecture",
            )

    @property
    def spot_share(self) -> float:
        """FARGATE_SPOT's share of the weights (the base placed on demand first)."""
        return self.spot_weight / (self.spot_weight + self.on_demand_weight)


@settings
class DatabaseSettings:
    """The Aurora PostgreSQL cluster: one writer and one reader in different zones."""

    #: Aurora PostgreSQL engine version (major.minor)
    engine_version: matching(r"\d{2}\.\d{1,2}", "an Aurora PostgreSQL version such as 17.6")
    #: instance class of the writer and the reader
    instance_class: DbInstanceClass
    #: Aurora Standard (aurora) or I/O-Optimized (aurora-iopt1)
    storage_type: Literal["aurora", "aurora-iopt1"]
    #: days of automated backups and point-in-time recovery (7+)
    backup_retention_days: whole(7, 35)
    #: retention of the exported PostgreSQL logs
    log_retention_days: Retention
    #: the database created in the cluster
    database_name: matching(r"[a-z][a-z0-9_]{0,62}", "a lower-case PostgreSQL identifier")
    #: the master user (its password is generated into Secrets Manager)
    master_username: matching(r"[a-z][a-z0-9_]{0,15}", "a lower-case user name of 1-16 characters")  # fmt: skip
    #: the database user the web tasks connect as, with IAM authentication (rds-db:connect)
    app_user: matching(r"[a-z][a-z0-9_]{0,15}", "a lower-case user name of 1-16 characters")
    #: rotation interval of the master password
    rotation_days: whole(1, 365)
    #: prefix length of the isolated database subnets carved from the top of the VPC range
    subnet_mask: whole(24, 28)


@settings
class LoadBalancerSettings:
    """The internet-facing ALB behind CloudFront."""

    #: ACM certificate of origin_domain_name, issued in the environment's region
    certificate_arn: CertificateArn
    #: the name CloudFront connects to (a DNS record for the ALB; its certificate's name)
    origin_domain_name: DomainName
    #: ELBv2 security policy of the HTTPS listener (TLS 1.2 or newer)
    ssl_policy: Literal[
        "ELBSecurityPolicy-TLS13-1-2-2021-06",
        "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
        "ELBSecurityPolicy-TLS13-1-3-2021-06",
        "ELBSecurityPolicy-TLS-1-2-Ext-2018-06",
    ]
    #: the target group's health-check path
    health_check_path: Path
    #: AWS's com.amazonaws.global.cloudfront.origin-facing prefix list in the region
    cloudfront_prefix_list_id: PrefixListId
    #: the header CloudFront adds with the origin secret; the listener forwards only with it
    origin_header: Header
    #: seconds an idle connection is kept
    idle_timeout_s: whole(1, 4000)
    #: days the ALB and CloudFront access logs are kept (audit logs, PCI DSS 10.5.1: 365+)
    access_log_retention_days: whole(365, 3650)


@settings
class WafSettings:
    """The regional web ACL of the ALB: its rate limit and logs. The AWS managed rule groups are
    the environment's one list, ``payments.api.waf_managed_rule_groups`` (written once)."""

    #: requests per client IP per window before the WAF blocks
    waf_rate_limit: whole(10, 2_000_000_000)
    #: the rate rule's window
    waf_rate_window_s: Literal[60, 120, 300, 600]
    #: retention of the WAF logs (an audit log: 365+)
    access_log_retention_days: Retention


#: The managed rule groups the web application's web ACL must include.
REQUIRED_RULE_GROUPS = ("AWSManagedRulesCommonRuleSet", "AWSManagedRulesSQLiRuleSet")


@dataclasses.dataclass(frozen=True, kw_only=True)
class WebAclRules:
    """What :func:`stacks.constructs.platform_api.hardened_web_acl` reads: the web application's
    rate limit and log retention with the environment's managed rule groups."""

    waf_rate_limit: int
    waf_rate_window_s: int
    waf_managed_rule_groups: tuple[str, ...]
    access_log_retention_days: int | None

    @classmethod
    def of(cls, waf: WafSettings, managed_rule_groups: tuple[str, ...]) -> WebAclRules:
        missing = [g for g in REQUIRED_RULE_GROUPS if g not in managed_rule_groups]
        if missing:
            raise ConfigError(
                "payments.api.waf_managed_rule_groups must include "
                f"{', '.join(missing)}: the web application's web ACL uses that list"
            )
        return cls(
            waf_rate_limit=waf.waf_rate_limit,
            waf_rate_window_s=waf.waf_rate_window_s,
            waf_managed_rule_groups=managed_rule_groups,
            access_log_retention_days=waf.access_log_retention_days,
        )


@settings
class EdgeSettings:
    """CloudFront in front of the ALB and the static assets bucket."""

    #: the distribution's custom domain
    domain_name: DomainName
    #: ACM certificate of domain_name (CloudFront uses us-east-1 certificates only)
    certificate_arn: CertificateArn
    #: CloudFront price class
    price_class: Literal["PriceClass_100", "PriceClass_200", "PriceClass_All"]
    #: path pattern served from the static assets bucket
    static_path_pattern: matching(r"/?[A-Za-z0-9._/-]*\*", "a path pattern such as /static/*")
    #: days a replaced or deleted asset version is kept
    noncurrent_version_days: whole(1, 3650)

    def __post_init__(self) -> None:
        if ":acm:us-east-1:" not in self.certificate_arn:
            raise Invalid("must be issued in us-east-1 (CloudFront)", key="certificate_arn")


@settings
class SessionSettings:
    """The sessions table (on demand, point-in-time recovery, TTL)."""

    #: the attribute holding each session's expiry (epoch seconds)
    ttl_attribute: AttributeName
    #: a user_id index, to list and revoke every session of a user
    user_index: bool


@settings
class ValidationSettings:
    """The asynchronous transaction validation: queue, dead-letter queue and function."""

    #: the validation function
    function: FunctionSettings
    #: reserved executions (also the event source's maximum concurrency)
    reserved_concurrency: whole(2, 1000)
    #: the transactions queue and its dead-letter queue
    queue: QueueSettings
    #: days a validation verdict is kept (for idempotency on redelivery)
    verdict_ttl_days: whole(1, 365)
    #: largest accepted amount of one transaction
    max_amount: whole(1)

    def __post_init__(self) -> None:
        if self.queue.visibility_timeout_s < 6 * self.function.timeout_s:
            raise Invalid(
                f"must be at least 6 x function.timeout_s ({6 * self.function.timeout_s}), as "
                "AWS advises for an SQS event source",
                key="queue.visibility_timeout_s",
            )


@settings
class AlarmSettings:
    """Alarm thresholds of the web application; alarms only when ``enabled``."""

    #: create the alarms
    enabled: bool
    #: alarm when 5XX responses exceed this share of requests
    http_5xx_percent: Percent
    #: alarm when the p99 target response time exceeds this (seconds)
    p99_latency_s: Seconds
    #: alarm when Aurora CPU stays above this
    db_cpu_percent: Percent
    #: alarm when the reader lags the writer by more than this (milliseconds)
    replica_lag_ms: whole(1)
    #: alarm at this many validation function errors in a period
    function_errors: whole(1)
    #: alarm at this many messages in the dead-letter queue
    dlq_messages: whole(1)
    #: period of every alarm
    period_minutes: whole(1, 60)
    #: periods an alarm must breach
    evaluation_periods: whole(1, 10)
    #: contacts e-mailed by the critical-alerts topic
    subscriptions: tuple[str, ...]


@settings
class WebAppSettings:
    """Every environment-specific value of the web application (``environments.<env>.webapp``)."""

    #: lifecycle rules on the static assets and log buckets (off: legacy)
    lifecycle: bool
    #: value of the Team tag the seed asks for on this system's resources
    team: matching(r"[A-Za-z0-9][A-Za-z0-9 ._-]{0,62}", "a team name")
    #: the Fargate service
    service: ServiceSettings
    #: the Aurora PostgreSQL cluster
    database: DatabaseSettings
    #: the load balancer
    load_balancer: LoadBalancerSettings
    #: the load balancer's web ACL
    waf: WafSettings
    #: CloudFront and the static assets
    edge: EdgeSettings
    #: the sessions table
    sessions: SessionSettings
    #: the asynchronous validation
    validation: ValidationSettings
    #: alarms and the critical-alerts topic
    alarms: AlarmSettings
