"""The ``WebAppObservability`` stack: the critical-alerts topic, one dashboard and the alarms.

* ``webapp-critical-alerts-<suffix>``: SNS, encrypted with the environment's key (which the
  platform's alerts stack already lets CloudWatch use), TLS only, CloudWatch alarms of this
  account allowed to publish, e-mail subscriptions for ``alarms.subscriptions`` (contacts).
* The ``webapp-<suffix>`` dashboard: ECS CPU and memory and running tasks (Container Insights),
  ALB requests, target response time p50/p99, 4XX/5XX; Aurora CPU, connections, replica lag and
  free local storage; the validation function's invocations, errors and duration; the sessions
  table's consumed capacity and throttles; the queues' depth.
* With ``alarms.enabled`` (staging and production): 5XX rate, p99 latency, unhealthy hosts,
  Aurora CPU, replica lag, function errors and dead-letter queue depth, each to the topic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_rds as rds
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.base import BaseStack
from stacks.webapp.settings import AlarmSettings


@dataclass(frozen=True)
class Watched:
    """What the dashboard and the alarms watch (from the data and service stacks)."""

    cluster: ecs.ICluster
    service: ecs.FargateService
    load_balancer: elbv2.ApplicationLoadBalancer
    target_group: elbv2.ApplicationTargetGroup
    database: rds.DatabaseCluster
    reader_identifier: str
    function: lambda_.IFunction
    sessions: dynamodb.ITable
    queue: sqs.IQueue
    dead_letter_queue: sqs.IQueue


class ObservabilityStack(BaseStack):
    """Topic, dashboard, alarms. Attributes: ``topic``, ``dashboard``, ``alarms`` (by name)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: AlarmSettings,
        addresses: Sequence[str],
        key: kms.IKey,
        watched: Watched,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.settings = settings
        self.topic = sns.Topic(
            self,
            "CriticalAlerts",
            topic_name=self.name("webapp-critical-alerts"),
            display_name=f"Web application critical alerts ({self.deployment.environment})",
            master_key=key,
            enforce_ssl=True,
        )
        for address in addresses:
            self.topic.add_subscription(subs.EmailSubscription(address))
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudwatchPublish",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={"StringEquals": {"aws:SourceAccount": self.account}},
            )
        )
        period = Duration.minutes(settings.period_minutes)
        w = watched
        alb = w.load_balancer.metrics
        tg = w.target_group.metrics
        requests = alb.request_count(period=period, statistic="Sum")
        elb_5xx = alb.http_code_elb(elbv2.HttpCodeElb.ELB_5XX_COUNT, period=period)
        target_5xx = alb.http_code_target(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, period=period)
        target_4xx = alb.http_code_target(elbv2.HttpCodeTarget.TARGET_4XX_COUNT, period=period)
        p50 = tg.target_response_time(period=period, statistic="p50")
        p99 = tg.target_response_time(period=period, statistic="p99")
        unhealthy = tg.unhealthy_host_count(period=period, statistic="Maximum")
        running = cloudwatch.Metric(
            namespace="ECS/ContainerInsights",
            metric_name="RunningTaskCount",
            dimensions_map={
                "ClusterName": w.cluster.cluster_name,
                "ServiceName": w.service.service_name,
            },
            period=period,
            statistic="Average",
        )
        db_cpu = w.database.metric_cpu_utilization(period=period)
        connections = w.database.metric_database_connections(period=period)
        replica_lag = cloudwatch.Metric(
            namespace="AWS/RDS",
            metric_name="AuroraReplicaLag",
            dimensions_map={"DBInstanceIdentifier": w.reader_identifier},
            period=period,
            statistic="Maximum",
        )
        free_storage = w.database.metric_free_local_storage(period=period)
        fn_errors = w.function.metric_errors(period=period, statistic="Sum")
        dlq_depth = w.dead_letter_queue.metric_approximate_number_of_messages_visible(
            period=period, statistic="Maximum"
        )
        table = w.sessions.table_name

        def ddb(name: str) -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace="AWS/DynamoDB",
                metric_name=name,
                dimensions_map={"TableName": table},
                period=period,
                statistic="Sum",
            )

        error_rate = cloudwatch.MathExpression(
            expression="100 * (elb5 + tgt5) / MAX([req, 1])",
            using_metrics={"elb5": elb_5xx, "tgt5": target_5xx, "req": requests},
            label="5XX share of requests (%)",
            period=period,
        )
        self.dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=self.name("webapp"),
            widgets=[
                [
                    cloudwatch.GraphWidget(
                        title="ECS CPU and memory (%)",
                        left=[
                            w.service.metric_cpu_utilization(period=period),
                            w.service.metric_memory_utilization(period=period),
                        ],
                    ),
                    cloudwatch.GraphWidget(title="Running tasks", left=[running]),
                    cloudwatch.GraphWidget(title="ALB requests", left=[requests]),
                ],
                [
                    cloudwatch.GraphWidget(title="Target response time p50 / p99", left=[p50, p99]),
                    cloudwatch.GraphWidget(
                        title="4XX / 5XX", left=[target_4xx, target_5xx, elb_5xx]
                    ),
                    cloudwatch.GraphWidget(title="Unhealthy hosts", left=[unhealthy]),
                ],
                [
                    cloudwatch.GraphWidget(title="Aurora CPU (%)", left=[db_cpu]),
                    cloudwatch.GraphWidget(title="Aurora connections", left=[connections]),
                    cloudwatch.GraphWidget(title="Aurora replica lag (ms)", left=[replica_lag]),
                    cloudwatch.GraphWidget(title="Aurora free local storage", left=[free_storage]),
                ],
                [
                    cloudwatch.GraphWidget(
                        title="Validation function",
                        left=[
                            w.function.metric_invocations(period=period),
                            fn_errors,
                        ],
                        right=[w.function.metric_duration(period=period, statistic="p99")],
                    ),
                    cloudwatch.GraphWidget(
                        title="Sessions: consumed capacity",
                        left=[ddb("ConsumedReadCapacityUnits"), ddb("ConsumedWriteCapacityUnits")],
                    ),
                    cloudwatch.GraphWidget(
                        title="Sessions: throttles",
                        left=[ddb("ReadThrottleEvents"), ddb("WriteThrottleEvents")],
                    ),
                    cloudwatch.GraphWidget(
                        title="Queue depth",
                        left=[
                            w.queue.metric_approximate_number_of_messages_visible(period=period),
                            dlq_depth,
                        ],
                    ),
                ],
            ],
        )
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        if not settings.enabled:
            return
        s = settings
        for name, metric, threshold, description in (
            ("http-5xx-rate", error_rate, s.http_5xx_percent, "5XX responses above threshold (%)"),
            ("p99-latency", p99, s.p99_latency_s, "p99 target response time above threshold (s)"),
            ("unhealthy-hosts", unhealthy, 0, "a target is unhealthy"),
            ("db-cpu", db_cpu, s.db_cpu_percent, "Aurora CPU above threshold (%)"),
            ("replica-lag", replica_lag, s.replica_lag_ms, "reader lags the writer (ms)"),
            ("function-errors", fn_errors, s.function_errors - 1, "validation function errors"),
            ("dlq-depth", dlq_depth, s.dlq_messages - 1, "messages in the dead-letter queue"),
        ):
            alarm = cloudwatch.Alarm(
                self,
                "".join(part.title() for part in name.split("-")),
                alarm_name=self.name(f"webapp-{name}"),
                alarm_description=description,
                metric=metric,
                threshold=threshold,
                evaluation_periods=s.evaluation_periods,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            alarm.add_alarm_action(actions.SnsAction(self.topic))
            self.alarms[name] = alarm
