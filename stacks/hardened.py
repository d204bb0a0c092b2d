"""Assembles the hardened, cost-optimised platform (seed 000) around the payments stack.

Stack order (each depends only on earlier ones):

1. ``PaymentsAlerts`` - the cost, security and operations topics;
2. ``PaymentsStorage`` - audit, archive and access-log buckets, the CloudTrail trail;
3. ``PaymentsNetwork`` - the VPC, NAT per configuration, gateway endpoints, flow logs;
4. ``PaymentsCompute`` - the worker Auto Scaling group;
5. in the scope of ``Payments`` (the webhook pipeline, built by :mod:`stacks.platform`): the
   platform endpoints (:class:`PlatformEndpoints`);
6. ``PaymentsEdge`` - only with ``edge.enabled`` (production): the CloudFront distribution in
   front of the REST API, its CLOUDFRONT-scope WAF, access logs and Shield Advanced protection,
   and the rotation of the origin secret; the secret itself and the origin check of the APIs'
   regional web ACLs are created in the scope of ``Payments`` (:mod:`stacks.origin_verify`);
7. ``PaymentsEdgeSecurity`` - GuardDuty, rotated secrets;
8. ``PaymentsObservability`` - responder, EventBridge rules, alarms, dashboards;
9. ``PaymentsCostVisibility`` - anomaly monitors and subscription, the CostCenter budget;
10. ``PaymentsParameters`` - SSM parameters describing the deployment.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import App, Token
from aws_cdk import aws_logs as logs

import governance
from stacks.audit_storage import AuditStorageStack
from stacks.compute import ComputeStack
from stacks.config import EnvironmentConfig
from stacks.cost_visibility import CostVisibilityStack
from stacks.edge_distribution import EdgeDistributionStack
from stacks.edge_security import EdgeSecurityStack
from stacks.hardened_config import platform_settings
from stacks.network import NetworkStack
from stacks.observability import AlertsStack, ObservabilityStack, Watched
from stacks.origin_verify import OriginSecret
from stacks.parameters import ParametersStack, profile_parameters
from stacks.payments import PaymentsStack
from stacks.platform_endpoints import PlatformEndpoints
from stacks.security import SecurityStack

#: Application log groups (functions, API execution logs) - never audit logs.
APP_LOG_PREFIXES = ("/aws/lambda/", "API-Gateway-Execution-Logs_")


def acknowledge_never_expiring_logs(app: App) -> None:
    """Application log groups configured to never expire (the legacy baseline) are acknowledged.

    cdk-nag's PCI DSS 3.2.1 pack asks every log group for a retention period; "never expire"
    keeps more history than PCI DSS 10.5.1's 12 months, and its cost is what the legacy
    baseline exists to show (our COST-LOG-001 reports it as a warning under that profile).
    """
    for node in app.node.find_all():
        if not isinstance(node, logs.CfnLogGroup) or node.retention_in_days is not None:
            continue
        name = node.log_group_name
        text = name if isinstance(name, str) and not Token.is_unresolved(name) else ""
        if not text.startswith(APP_LOG_PREFIXES) and "ExecutionLogs" not in node.node.path:
            continue
        governance.acknowledge(
            node,
            "PCI.DSS.321-CloudWatchLogGroupRetentionPeriod",
            "Application log retention is configured as never expire (the legacy baseline, kept "
            "to price the platform before optimisation): nothing is deleted early, so the 12 "
            "months of PCI DSS 10.5.1 are exceeded; the optimised profile keeps these logs 7-30 "
            "days and audit logs 365+ days.",
            plugin=None,
        )


def build_hardened_platform(
    app: App,
    config: EnvironmentConfig,
    *,
    security: SecurityStack,
    payments: PaymentsStack,
) -> dict[str, Any]:
    """Create the hardened platform's stacks around ``security`` and ``payments``."""
    settings = platform_settings(config)
    key = security.key
    common = {"config": config}
    alerts = AlertsStack(app, "PaymentsAlerts", key=key, settings=settings.alerts, **common)
    audit = AuditStorageStack(app, "PaymentsStorage", key=key, settings=settings, **common)
    network = NetworkStack(
        app, "PaymentsNetwork", settings=settings.network, flow_log_bucket=audit.audit, **common
    )
    compute = ComputeStack(
        app,
        "PaymentsCompute",
        settings=settings.compute,
        vpc=network.vpc,
        key=key,
        notifications_topic=alerts.operations,
        **common,
    )
    endpoints = PlatformEndpoints(payments, "PlatformEndpoints", settings=settings)
    rest_apis = {label: api.api for label, api in endpoints.apis.items()}
    distribution: EdgeDistributionStack | None = None
    if settings.edge.enabled and audit.edge_logs is not None and settings.edge.origin_verify:
        origin = OriginSecret(
            payments,
            "OriginVerify",
            secret_name=payments.name("payments-origin-verify"),
            settings=settings.edge.origin_verify,
            key=key,
        )
        for api in endpoints.apis.values():
            api.require_origin(origin.check)
        distribution = EdgeDistributionStack(
            app,
            "PaymentsEdge",
            settings=settings,
            key=key,
            api=payments.api,
            routes=endpoints.routes,
            log_bucket=audit.edge_logs,
            origin=origin,
            layer=payments.layer,
            **common,
        )
    edge = EdgeSecurityStack(
        app,
        "PaymentsEdgeSecurity",
        settings=settings,
        key=key,
        layer=payments.layer,
        **common,
    )
    watched = Watched(
        functions={
            **{name.replace("_", "-"): f.function for name, f in payments.functions.items()},
            "payment-status": endpoints.status.function.function,
            "rotate-secret": edge.rotation.function,
            **(
                {"rotate-origin-verify": distribution.rotation.function.function}
                if distribution is not None
                else {}
            ),
        },
        tables={"payment-transactions": payments.table},
        apis=rest_apis,
        web_acls={api.web_acl.name: label for label, api in endpoints.apis.items()},
        edge_web_acls=({distribution.web_acl.name: "edge"} if distribution is not None else {}),
        queues={
            "payment-processing-queue": payments.queue,
            "payment-processing-dlq": payments.dead_letter_queue,
        },
        auto_scaling_group=compute.group,
    )
    observability = ObservabilityStack(
        app,
        "PaymentsObservability",
        key=key,
        settings=settings,
        alerts=alerts,
        watched=watched,
        layer=payments.layer,
        **common,
    )
    cost = CostVisibilityStack(
        app, "PaymentsCostVisibility", settings=settings.cost, topic=alerts.cost, **common
    )
    values = {
        **profile_parameters(config.profile, settings),
        "network/vpc-id": network.vpc.vpc_id,
        "storage/audit-bucket": audit.audit.bucket_name,
        "storage/archive-bucket": audit.archive.bucket_name,
        "alerts/cost-topic-arn": alerts.cost.topic_arn,
        "alerts/security-topic-arn": alerts.security.topic_arn,
        "alerts/operations-topic-arn": alerts.operations.topic_arn,
        "payments/table-name": payments.table.table_name,
        "payments/queue-url": payments.queue.queue_url,
        "payments/api-url": payments.api.api.url,
        "security/db-credentials-secret-arn": edge.db_credentials.secret_arn,
        "security/provider-api-key-secret-arn": edge.api_key_secret.secret_arn,
        "security/guardduty-detector-id": edge.detector_id,
        "compute/auto-scaling-group": compute.group.auto_scaling_group_name,
    }
    if distribution is not None:
        values["edge/domain-name"] = settings.edge.domain_name or ""
        values["edge/distribution-domain-name"] = distribution.distribution.domain_name
        values["edge/distribution-id"] = distribution.distribution.distribution_id
    parameters = ParametersStack(app, "PaymentsParameters", values=values, **common)
    acknowledge_never_expiring_logs(app)
    return {
        "alerts": alerts,
        "audit_storage": audit,
        "network": network,
        "compute": compute,
        "endpoints": endpoints,
        **({"edge": distribution} if distribution is not None else {}),
        "edge_security": edge,
        "observability": observability,
        "cost_visibility": cost,
        "parameters": parameters,
    }
