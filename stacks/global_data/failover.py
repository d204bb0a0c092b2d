"""The ``GlobalDataFailover`` stack: health checks, failover records and their alarms.

Route 53 is global, but it publishes health-check metrics in one region only
(``failover.health_check.metrics_region``, us-east-1), so this stack is deployed there, where the
health-check alarms can read them. For each region:

* an HTTPS health check on the region's ``GET /<stage>/health`` at the execute-api host (SNI on),
  failure threshold and interval from configuration - the path needs no API key;
* a failover alias record for the API's custom domain in the configured hosted zone (placeholder
  until the zone exists): ``PRIMARY`` to the primary region's regional domain, ``SECONDARY`` to the
  secondary's, each answered only while its health check passes;
* an alarm when the health check reports unhealthy.

The alarms go to the topic of the region this stack is in when that is one of the service's
regions, otherwise to a topic of its own (with a key of its own): docs/global-data.md.
Every value from a service stack of another region (API ids, domain targets) arrives through
an SSM parameter (:mod:`stacks.global_data.cross_region`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import CfnOutput, Duration, RemovalPolicy, Tags
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subs
from constructs import Construct

from stacks.base import BaseStack
from stacks.global_data.cross_region import handed
from stacks.global_data.keys import key_alias
from stacks.global_data.service import ServiceStack
from stacks.global_data.settings import SYSTEM, GlobalDataSettings


class FailoverStack(BaseStack):
    """``health_checks`` and ``records`` by role (``Primary``, ``Secondary``), ``alarms``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: GlobalDataSettings,
        services: Sequence[ServiceStack],
        alarm_addresses: Sequence[str] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        Tags.of(self).add("System", SYSTEM)
        failover = settings.failover
        check = failover.health_check
        self.topic, self.log_key = self._topic(settings, services, alarm_addresses)
        logs: dict[str, Any] = {
            "suffix": self.deployment.suffix,
            "log_key": self.log_key,
            "log_retention_days": settings.processor.log_retention_days,
        }
        self.health_checks: dict[str, route53.CfnHealthCheck] = {}
        self.records: dict[str, route53.CfnRecordSet] = {}
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        for service in services:
            role = service.role
            api = service.api
            api_id = handed(self, service, "api-id", api.api.rest_api_id, **logs)
            alias_name = handed(
                self,
                service,
                "domain-alias-name",
                service.domain.domain_name_alias_domain_name,
                **logs,
            )
            alias_zone = handed(
                self,
                service,
                "domain-alias-zone-id",
                service.domain.domain_name_alias_hosted_zone_id,
                **logs,
            )
            health = route53.CfnHealthCheck(
                self,
                f"{role}HealthCheck",
                health_check_config=route53.CfnHealthCheck.HealthCheckConfigProperty(
                    type="HTTPS",
                    fully_qualified_domain_name=(
                        f"{api_id}.execute-api.{service.region}.amazonaws.com"
                    ),
                    port=443,
                    resource_path=f"/{api.stage_name}/health",
                    request_interval=check.request_interval_s,
                    failure_threshold=check.failure_threshold,
                    enable_sni=True,
                ),
                health_check_tags=[
                    route53.CfnHealthCheck.HealthCheckTagProperty(
                        key="Name", value=self.name(f"{SYSTEM}-{service.region}-health")
                    )
                ],
            )
            self.health_checks[role] = health
            self.records[role] = route53.CfnRecordSet(
                self,
                f"{role}Record",
                hosted_zone_id=failover.hosted_zone_id,
                name=failover.domain_name,
                type="A",
                set_identifier=f"{SYSTEM}-{service.region}",
                failover=role.upper(),
                health_check_id=health.attr_health_check_id,
                alias_target=route53.CfnRecordSet.AliasTargetProperty(
                    dns_name=alias_name,
                    hosted_zone_id=alias_zone,
                    evaluate_target_health=True,
                ),
            )
            if settings.alarms.enabled:
                alarm = cloudwatch.Metric(
                    namespace="AWS/Route53",
                    metric_name="HealthCheckStatus",
                    dimensions_map={"HealthCheckId": health.attr_health_check_id},
                    period=Duration.minutes(1),
                    statistic="Minimum",
                ).create_alarm(
                    self,
                    f"{role}HealthAlarm",
                    alarm_name=self.name(f"{SYSTEM}-{service.region}-health"),
                    alarm_description=f"The API in {service.region} fails its health check",
                    threshold=1,
                    evaluation_periods=1,
                    comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
                    treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
                )
                alarm.add_alarm_action(cw_actions.SnsAction(self.topic))
                self.alarms[role] = alarm
            CfnOutput(self, f"{role}HealthCheckId", value=health.attr_health_check_id)
        CfnOutput(self, "FailoverDomainName", value=failover.domain_name)

    def _topic(
        self,
        settings: GlobalDataSettings,
        services: Sequence[ServiceStack],
        addresses: Sequence[str],
    ) -> tuple[sns.ITopic, kms.IKey]:
        """The alarm topic and the key of this region's logs (a service's, or this stack's own)."""
        for service in services:
            if service.region == self.region:
                return service.topic, service.keys["audit"]
        key = kms.Key(
            self,
            "AlarmsKey",
            alias=key_alias("failover-alarms", self.deployment.suffix),
            description=f"Global data health-check alarm topic key ({self.region})",
            enable_key_rotation=True,
            rotation_period=Duration.days(settings.keys.rotation_period_days),
            pending_window=Duration.days(settings.keys.pending_window_days),
            removal_policy=RemovalPolicy.DESTROY,
        )
        key.grant(
            iam.ServicePrincipal("cloudwatch.amazonaws.com"), "kms:Decrypt", "kms:GenerateDataKey*"
        )
        key.grant_encrypt_decrypt(iam.ServicePrincipal(f"logs.{self.region}.amazonaws.com"))
        topic = sns.Topic(
            self,
            "Alarms",
            topic_name=self.name(f"{SYSTEM}-failover-alarms"),
            master_key=key,
            enforce_ssl=True,
        )
        for address in addresses:  # a service's topic has them already
            topic.add_subscription(subs.EmailSubscription(address))
        return topic, key
