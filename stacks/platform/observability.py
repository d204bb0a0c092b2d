"""The ``PaymentsObservability`` stack: the responder, event routing, alarms and four dashboards.

Late in the order, so that it can watch everything: the responder function; EventBridge rules
routing GuardDuty findings, WAF changes, AWS Health events and cost anomalies to their topic
(the ``PaymentsAlerts`` stack, :mod:`stacks.platform.alerts`) and to the responder; the alarms
(staging and production: ``alerts.alarms``) and the dashboards for cost by service, security
posture, operational health and resource utilisation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_autoscaling as autoscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

import governance
from stacks.base import BaseStack
from stacks.constructs.function import PlatformFunction
from stacks.platform.alerts import AlertsStack
from stacks.platform.compute import MEMORY_METRIC, MEMORY_NAMESPACE
from stacks.platform.lambdas import platform_function
from stacks.platform.settings import PlatformSettings


@dataclass
class Watched:
    """What the alarms and dashboards look at (all optional, from the other stacks)."""

    functions: dict[str, lambda_.IFunction] = field(default_factory=dict)
    tables: dict[str, dynamodb.ITable] = field(default_factory=dict)
    apis: dict[str, apigw.RestApi] = field(default_factory=dict)
    web_acls: dict[str, str] = field(default_factory=dict)  # WebACL name -> metric name
    edge_web_acls: dict[str, str] = field(default_factory=dict)  # CLOUDFRONT scope, same shape
    queues: dict[str, sqs.IQueue] = field(default_factory=dict)
    auto_scaling_group: autoscaling.AutoScalingGroup | None = None
    nat_gateways: int = 0


class ObservabilityStack(BaseStack):
    """Responder, EventBridge rules, alarms and dashboards."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        key: kms.IKey,
        settings: PlatformSettings,
        alerts: AlertsStack,
        watched: Watched,
        layer: lambda_.ILayerVersion,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.settings = settings
        self.alerts = alerts
        self.watched = watched
        self.responder = self._responder(key, layer)
        self.rules = self._rules()
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        if settings.alerts.alarms:
            self._alarms()
        self.dashboards = self._dashboards()

    # ---------------------------------------------------------------- responder and rules
    def _responder(self, key: kms.IKey, layer: lambda_.ILayerVersion) -> PlatformFunction:
        self.responder_failures = sqs.Queue(
            self,
            "ResponderFailures",
            queue_name=self.name("payments-responder-failures"),
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        governance.acknowledge(
            self.responder_failures,
            "AwsSolutions-SQS3",
            "This queue is itself the dead-letter destination of the responder's failed "
            "asynchronous invocations (events it could not publish); nothing consumes it "
            "automatically, so it needs no dead-letter queue of its own.",
            plugin=None,
        )
        fn = platform_function(
            self,
            "Responder",
            self.settings.functions,
            apis="SNS, SQS, KMS, X-Ray, CloudWatch Logs",
            function_name=self.name("payments-responder"),
            code="responder",
            key=key,
            layers=[layer],
            environment={
                "SECURITY_TOPIC_ARN": self.alerts.security.topic_arn,
                "OPERATIONS_TOPIC_ARN": self.alerts.operations.topic_arn,
                "COST_TOPIC_ARN": self.alerts.cost.topic_arn,
            },
            description="Routes GuardDuty, WAF, Health, alarm and cost-anomaly events to SNS",
        )
        fn.allow(["sns:Publish"], [t.topic_arn for t in self.alerts.topics.values()], sid="Publish")
        fn.allow(["sqs:SendMessage"], [self.responder_failures.queue_arn], sid="OnFailure")
        fn.allow_key("kms:GenerateDataKey", "kms:Decrypt")
        lambda_.EventInvokeConfig(
            self,
            "ResponderAsync",
            function=fn.function,
            max_event_age=Duration.hours(6),
            retry_attempts=2,
            on_failure=destinations.SqsDestination(self.responder_failures),
        )
        return fn

    def _rules(self) -> dict[str, events.Rule]:
        specs = {
            "guardduty-findings": (
                events.EventPattern(source=["aws.guardduty"], detail_type=["GuardDuty Finding"]),
                self.alerts.security,
                "GuardDuty findings to the security topic and the responder",
            ),
            "waf-changes": (
                events.EventPattern(
                    source=["aws.wafv2"],
                    detail_type=["AWS API Call via CloudTrail"],
                    detail={"eventSource": ["wafv2.amazonaws.com"]},
                ),
                self.alerts.security,
                "Changes to WAF WebACLs, rules and logging (CloudTrail) to the security topic",
            ),
            "health-events": (
                events.EventPattern(source=["aws.health"], detail_type=["AWS Health Event"]),
                self.alerts.operations,
                "AWS Health events to the operations topic and the responder",
            ),
            "cost-anomalies": (
                events.EventPattern(source=["aws.ce"], detail_type=["Anomaly Detected"]),
                self.alerts.cost,
                "Cost Anomaly Detection events to the cost topic and the responder",
            ),
        }
        rules: dict[str, events.Rule] = {}
        for name, (pattern, topic, description) in specs.items():
            rule = events.Rule(
                self,
                "".join(part.capitalize() for part in name.split("-")),
                rule_name=self.name(f"payments-{name}"),
                description=description,
                event_pattern=pattern,
            )
            rule.add_target(targets.SnsTopic(topic, retry_attempts=3))
            rule.add_target(
                targets.LambdaFunction(
                    self.responder.function, retry_attempts=3, max_event_age=Duration.hours(6)
                )
            )
            rules[name] = rule
        return rules

    # ---------------------------------------------------------------------------- alarms
    def _alarm(
        self,
        construct_id: str,
        name: str,
        metric: cloudwatch.IMetric,
        threshold: float,
        topic: sns.ITopic,
        description: str,
        comparison: cloudwatch.ComparisonOperator = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluation_periods: int = 1,
    ) -> cloudwatch.Alarm:
        alarm = cloudwatch.Alarm(
            self,
            construct_id,
            alarm_name=self.name(f"payments-{name}"),
            alarm_description=description,
            metric=metric,
            threshold=threshold,
            comparison_operator=comparison,
            evaluation_periods=evaluation_periods,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        action = cw_actions.SnsAction(topic)
        alarm.add_alarm_action(action)
        alarm.add_ok_action(action)
        self.alarms[name] = alarm
        return alarm

    def _alarms(self) -> None:
        a = self.settings.alerts
        ops = self.alerts.operations
        five = Duration.minutes(5)
        for label, fn in self._own_functions().items():
            rate = cloudwatch.MathExpression(
                expression="IF(invocations > 0, 100 * errors / invocations, 0)",
                using_metrics={
                    "errors": fn.metric_errors(period=five, statistic="Sum"),
                    "invocations": fn.metric_invocations(period=five, statistic="Sum"),
                },
                label=f"{label} error rate (%)",
                period=five,
            )
            self._alarm(
                f"{_cid(label)}ErrorRate",
                f"{label}-error-rate",
                rate,
                a.function_error_rate_percent,
                ops,
                f"{label}: more than {a.function_error_rate_percent:g} % of invocations failed in 5 minutes",
            )
        for label, table in self.watched.tables.items():
            throttles = cloudwatch.MathExpression(
                expression="reads + writes",
                using_metrics={
                    "reads": _table_metric(table, "ReadThrottleEvents"),
                    "writes": _table_metric(table, "WriteThrottleEvents"),
                },
                label=f"{label} throttle events",
                period=five,
            )
            self._alarm(
                f"{_cid(label)}Throttles",
                f"{label}-throttling",
                throttles,
                a.dynamodb_throttle_events,
                ops,
                f"{label}: DynamoDB read or write requests were throttled",
                comparison=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            )
        for label, api in self.watched.apis.items():
            for code, limit in (("4XX", a.api_4xx_percent), ("5XX", a.api_5xx_percent)):
                rate = cloudwatch.MathExpression(
                    expression="IF(requests > 0, 100 * errors / requests, 0)",
                    using_metrics={
                        "errors": _api_metric(api, f"{code}Error"),
                        "requests": _api_metric(api, "Count"),
                    },
                    label=f"{label} {code} rate (%)",
                    period=five,
                )
                self._alarm(
                    f"{_cid(label)}{code}Rate",
                    f"{label}-{code.lower()}-rate",
                    rate,
                    limit,
                    ops,
                    f"{label}: more than {limit:g} % of requests answered {code} in 5 minutes",
                )
        group = self.watched.auto_scaling_group
        if group is not None:
            self._alarm(
                "WorkersCpu",
                "workers-cpu-high",
                cloudwatch.Metric(
                    namespace="AWS/EC2",
                    metric_name="CPUUtilization",
                    dimensions_map={"AutoScalingGroupName": group.auto_scaling_group_name},
                    statistic="Average",
                    period=five,
                ),
                a.ec2_cpu_percent,
                ops,
                f"Workers: average CPU above {a.ec2_cpu_percent:g} % for 15 minutes",
                evaluation_periods=3,
            )
        self._alarm(
            "CostAnomaly",
            "cost-anomaly-detected",
            cloudwatch.Metric(
                namespace="AWS/Events",
                metric_name="TriggeredRules",
                dimensions_map={"RuleName": self.rules["cost-anomalies"].rule_name},
                statistic="Sum",
                period=five,
            ),
            0,
            self.alerts.cost,
            "Cost Anomaly Detection reported an anomaly (the cost-anomalies rule matched)",
        )

    def _own_functions(self) -> dict[str, lambda_.IFunction]:
        return {"responder": self.responder.function, **self.watched.functions}

    # ------------------------------------------------------------------------ dashboards
    def _dashboards(self) -> dict[str, cloudwatch.Dashboard]:
        return {
            "cost": self._dashboard("cost", self._cost_widgets()),
            "security": self._dashboard("security", self._security_widgets()),
            "operations": self._dashboard("operations", self._operations_widgets()),
            "utilisation": self._dashboard("utilisation", self._utilisation_widgets()),
        }

    def _dashboard(self, kind: str, rows: list[list[cloudwatch.IWidget]]) -> cloudwatch.Dashboard:
        return cloudwatch.Dashboard(
            self,
            f"{kind.capitalize()}Dashboard",
            dashboard_name=self.name(f"payments-{kind}"),
            default_interval=Duration.days(7),
            widgets=rows,
        )

    def _cost_widgets(self) -> list[list[cloudwatch.IWidget]]:
        region = self.settings.cost.billing_metrics_region
        by_service = cloudwatch.MathExpression(
            expression=(
                "SEARCH('{AWS/Billing,Currency,ServiceName} MetricName=\"EstimatedCharges\"', "
                "'Maximum', 21600)"
            ),
            label="",
            period=Duration.hours(6),
            search_region=region,
        )
        total = cloudwatch.Metric(
            namespace="AWS/Billing",
            metric_name="EstimatedCharges",
            dimensions_map={"Currency": "USD"},
            statistic="Maximum",
            period=Duration.hours(6),
            region=region,
            label="Estimated month-to-date charges (USD)",
        )
        return [
            [
                cloudwatch.TextWidget(
                    markdown=(
                        f"# Cost by service ({self.deployment.environment})\n"
                        "Month-to-date estimated charges per AWS service (AWS/Billing, "
                        f"{region}). Before/after optimisation: `govern report cost`."
                    ),
                    width=24,
                    height=3,
                )
            ],
            [
                cloudwatch.GraphWidget(
                    title="Estimated charges by service (USD)",
                    left=[by_service],
                    width=16,
                    height=8,
                    region=region,
                ),
                cloudwatch.SingleValueWidget(
                    title="Month to date (USD)", metrics=[total], width=8, height=8, region=region
                ),
            ],
            [
                cloudwatch.GraphWidget(
                    title="Cost anomalies detected",
                    left=[_rule_metric(self.rules["cost-anomalies"])],
                    width=12,
                    height=6,
                ),
                cloudwatch.GraphWidget(
                    title="Lambda duration by function (ms, sum)",
                    left=[
                        fn.metric_duration(statistic="Sum", period=Duration.hours(1))
                        for fn in self._own_functions().values()
                    ],
                    width=12,
                    height=6,
                ),
            ],
        ]

    def _security_widgets(self) -> list[list[cloudwatch.IWidget]]:
        # CloudFront-scope web ACLs report without the Region dimension (AWS WAF metrics).
        acls = [(acl, {"Region": self.region}) for acl in self.watched.web_acls]
        acls += [(acl, {}) for acl in self.watched.edge_web_acls]
        waf_blocked = [
            cloudwatch.Metric(
                namespace="AWS/WAFV2",
                metric_name="BlockedRequests",
                dimensions_map={"WebACL": acl, **region, "Rule": "ALL"},
                statistic="Sum",
                period=Duration.minutes(5),
                label=f"{acl} blocked",
            )
            for acl, region in acls
        ]
        waf_allowed = [
            cloudwatch.Metric(
                namespace="AWS/WAFV2",
                metric_name="AllowedRequests",
                dimensions_map={"WebACL": acl, **region, "Rule": "ALL"},
                statistic="Sum",
                period=Duration.minutes(5),
                label=f"{acl} allowed",
            )
            for acl, region in acls
        ]
        return [
            [
                cloudwatch.GraphWidget(
                    title="WAF blocked requests", left=waf_blocked, width=12, height=6
                ),
                cloudwatch.GraphWidget(
                    title="WAF allowed requests", left=waf_allowed, width=12, height=6
                ),
            ],
            [
                cloudwatch.GraphWidget(
                    title="GuardDuty findings (events)",
                    left=[_rule_metric(self.rules["guardduty-findings"])],
                    width=8,
                    height=6,
                ),
                cloudwatch.GraphWidget(
                    title="WAF configuration changes",
                    left=[_rule_metric(self.rules["waf-changes"])],
                    width=8,
                    height=6,
                ),
                cloudwatch.GraphWidget(
                    title="API 4XX (rejected requests)",
                    left=[_api_metric(api, "4XXError") for api in self.watched.apis.values()],
                    width=8,
                    height=6,
                ),
            ],
        ]

    def _operations_widgets(self) -> list[list[cloudwatch.IWidget]]:
        fns = self._own_functions()
        hour = Duration.minutes(5)
        rows: list[list[cloudwatch.IWidget]] = [
            [
                cloudwatch.GraphWidget(
                    title="Function invocations",
                    left=[f.metric_invocations(period=hour) for f in fns.values()],
                    width=8,
                ),
                cloudwatch.GraphWidget(
                    title="Function errors and throttles",
                    left=[f.metric_errors(period=hour) for f in fns.values()],
                    right=[f.metric_throttles(period=hour) for f in fns.values()],
                    width=8,
                ),
                cloudwatch.GraphWidget(
                    title="Function duration p95 (ms)",
                    left=[f.metric_duration(statistic="p95", period=hour) for f in fns.values()],
                    width=8,
                ),
            ],
            [
                cloudwatch.GraphWidget(
                    title="API requests",
                    left=[_api_metric(api, "Count") for api in self.watched.apis.values()],
                    width=8,
                ),
                cloudwatch.GraphWidget(
                    title="API 4XX / 5XX",
                    left=[_api_metric(api, "4XXError") for api in self.watched.apis.values()],
                    right=[_api_metric(api, "5XXError") for api in self.watched.apis.values()],
                    width=8,
                ),
                cloudwatch.GraphWidget(
                    title="API latency p95 (ms)",
                    left=[
                        _api_metric(api, "Latency", statistic="p95")
                        for api in self.watched.apis.values()
                    ],
                    width=8,
                ),
            ],
        ]
        table_row: list[cloudwatch.IWidget] = []
        for label, table in self.watched.tables.items():
            table_row.append(
                cloudwatch.GraphWidget(
                    title=f"{label}: consumed capacity",
                    left=[
                        _table_metric(table, "ConsumedReadCapacityUnits"),
                        _table_metric(table, "ConsumedWriteCapacityUnits"),
                    ],
                    right=[
                        _table_metric(table, "ReadThrottleEvents"),
                        _table_metric(table, "WriteThrottleEvents"),
                    ],
                    width=12,
                )
            )
        for label, queue in self.watched.queues.items():
            table_row.append(
                cloudwatch.GraphWidget(
                    title=f"{label}: messages visible / oldest age",
                    left=[queue.metric_approximate_number_of_messages_visible()],
                    right=[queue.metric_approximate_age_of_oldest_message()],
                    width=12,
                )
            )
        if table_row:
            rows.append(table_row)
        rows.append([cloudwatch.AlarmStatusWidget(alarms=list(self.alarms.values()), width=24)])
        return rows

    def _utilisation_widgets(self) -> list[list[cloudwatch.IWidget]]:
        group = self.watched.auto_scaling_group
        if group is None:
            return [[cloudwatch.TextWidget(markdown="No worker fleet in this environment.")]]
        name = group.auto_scaling_group_name
        dims = {"AutoScalingGroupName": name}

        def ec2_metric(metric: str, statistic: str = "Average") -> cloudwatch.Metric:
            return cloudwatch.Metric(
                namespace="AWS/EC2",
                metric_name=metric,
                dimensions_map=dims,
                statistic=statistic,
                period=Duration.minutes(5),
            )

        memory = cloudwatch.Metric(
            namespace=MEMORY_NAMESPACE,
            metric_name=MEMORY_METRIC,
            dimensions_map=dims,
            statistic="Average",
            period=Duration.minutes(5),
        )
        return [
            [
                cloudwatch.GraphWidget(
                    title="Workers CPU (%)",
                    left=[ec2_metric("CPUUtilization")],
                    left_annotations=[
                        cloudwatch.HorizontalAnnotation(
                            value=self.settings.compute.cpu_target_percent, label="target"
                        )
                    ],
                    width=8,
                ),
                cloudwatch.GraphWidget(
                    title="Workers memory (%) - CloudWatch agent",
                    left=[memory],
                    left_annotations=[
                        cloudwatch.HorizontalAnnotation(
                            value=self.settings.compute.memory_target_percent, label="target"
                        )
                    ],
                    width=8,
                ),
                cloudwatch.GraphWidget(
                    title="Instances in service",
                    left=[
                        cloudwatch.Metric(
                            namespace="AWS/AutoScaling",
                            metric_name="GroupInServiceInstances",
                            dimensions_map=dims,
                            statistic="Average",
                            period=Duration.minutes(5),
                        )
                    ],
                    width=8,
                ),
            ],
            [
                cloudwatch.GraphWidget(
                    title="Workers network in / out (bytes)",
                    left=[ec2_metric("NetworkIn", "Sum")],
                    right=[ec2_metric("NetworkOut", "Sum")],
                    width=12,
                ),
                cloudwatch.GraphWidget(
                    title="NAT gateway bytes out to destination",
                    left=[
                        cloudwatch.MathExpression(
                            expression=(
                                "SEARCH('{AWS/NATGateway,NatGatewayId} "
                                "MetricName=\"BytesOutToDestination\"', 'Sum', 300)"
                            ),
                            label="",
                            period=Duration.minutes(5),
                        )
                    ],
                    width=12,
                ),
            ],
        ]


def _cid(label: str) -> str:
    return "".join(part.capitalize() for part in label.replace("_", "-").split("-"))


def _table_metric(table: dynamodb.ITable, metric: str) -> cloudwatch.Metric:
    return cloudwatch.Metric(
        namespace="AWS/DynamoDB",
        metric_name=metric,
        dimensions_map={"TableName": table.table_name},
        statistic="Sum",
        period=Duration.minutes(5),
    )


def _api_metric(api: apigw.RestApi, metric: str, statistic: str = "Sum") -> cloudwatch.Metric:
    return cloudwatch.Metric(
        namespace="AWS/ApiGateway",
        metric_name=metric,
        dimensions_map={"ApiName": api.rest_api_name, "Stage": api.deployment_stage.stage_name},
        statistic=statistic,
        period=Duration.minutes(5),
    )


def _rule_metric(rule: events.Rule) -> cloudwatch.Metric:
    return cloudwatch.Metric(
        namespace="AWS/Events",
        metric_name="TriggeredRules",
        dimensions_map={"RuleName": rule.rule_name},
        statistic="Sum",
        period=Duration.minutes(5),
    )
