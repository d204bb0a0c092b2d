"""The one assembler: every system's stacks for one environment, in dependency order.

``app.py`` reads the configuration once (:func:`stacks.config.load_configuration`) and calls
:func:`build`. Each stack is handed what it needs - the :class:`~stacks.config.Deployment`,
its typed settings, the key and the resources of earlier stacks - and builds everything in
its own scope; no stack adds to another.

Order (each stack depends only on earlier ones):

1. ``PaymentsSecurity`` - the environment's KMS key (:mod:`stacks.platform.security`);
2. ``Payments`` - the webhook pipeline (seed 001/002) with the platform's status and health
   endpoints and, behind the edge, the origin secret (:mod:`stacks.payments.payments`);
3. ``PaymentsAlerts`` - the cost, security and operations topics;
4. ``PaymentsStorage`` - audit, archive and access-log buckets, the CloudTrail trail;
5. ``PaymentsNetwork`` - the VPC, NAT per configuration, gateway endpoints, flow logs;
6. ``PaymentsCompute`` - the worker Auto Scaling group;
7. ``PaymentsEdge`` - only with ``platform.edge.enabled`` (production): CloudFront in front of
   the REST API, its CLOUDFRONT-scope WAF, access logs, Shield Advanced, the origin secret's
   rotation;
8. ``PaymentsEdgeSecurity`` - GuardDuty, rotated secrets;
9. ``PaymentsObservability`` - responder, EventBridge rules, alarms, dashboards;
10. ``PaymentsCostVisibility`` - anomaly monitors and subscription, the CostCenter budget;
11. ``PaymentsParameters`` - SSM parameters describing the deployment.

Stacks 3-11 are the hardened platform (seed 000, :mod:`stacks.platform`). Then the web
application (seed 003, :mod:`stacks.webapp`, tagged ``System=webapp``), handed the platform's VPC
and the environment key:

12. ``WebAppData`` - isolated subnets, Aurora PostgreSQL (writer + reader), the sessions table;
13. ``WebAppService`` - the Fargate service, its ALB and WAF, the queue and validation function;
14. ``WebAppEdge`` - the static assets bucket and the CloudFront distribution;
15. ``WebAppObservability`` - the critical-alerts topic, the dashboard and the alarms.

Then the multi-region payment data system (seed 004, :mod:`stacks.global_data.system`,
tagged ``System=global-data``):

16. its keys, global table, service in both regions and failover, in their own order.

A new system adds its stacks here, after the ones it uses.
"""

from __future__ import annotations

from aws_cdk import App, Stack, Tags, Token
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs

import governance
from stacks.config import Configuration
from stacks.global_data import system as global_data
from stacks.payments.payments import PaymentsStack
from stacks.payments.settings import EndpointSettings
from stacks.platform.alerts import AlertsStack
from stacks.platform.compute import ComputeStack
from stacks.platform.cost_visibility import CostVisibilityStack
from stacks.platform.edge import EdgeStack
from stacks.platform.edge_security import EdgeSecurityStack
from stacks.platform.network import NetworkStack
from stacks.platform.observability import ObservabilityStack, Watched
from stacks.platform.parameters import ParametersStack, profile_parameters
from stacks.platform.security import SecurityStack
from stacks.platform.settings import TOPICS
from stacks.platform.storage import StorageStack
from stacks.webapp.data import DataStack as WebAppDataStack
from stacks.webapp.edge import EdgeStack as WebAppEdgeStack
from stacks.webapp.observability import ObservabilityStack as WebAppObservabilityStack
from stacks.webapp.observability import Watched as WebAppWatched
from stacks.webapp.service import ServiceStack as WebAppServiceStack
from stacks.webapp.settings import WebAclRules

#: Application log groups (functions, API execution logs, containers, databases) - never audit logs.
APP_LOG_PREFIXES = ("/aws/lambda/", "API-Gateway-Execution-Logs_", "/ecs/", "/aws/rds/")


def build(app: App, config: Configuration, *, cost_center: str) -> dict[str, Stack]:
    """Create every stack of the environment; returns them by short name.

    ``cost_center`` is the value the budget and the anomaly monitor filter on: the governance
    policy's ``CostCenter`` tag value, so that it is written once (``app.py`` hands it in)."""
    platform = config.platform
    common = {"deployment": config.deployment}
    security = SecurityStack(app, "PaymentsSecurity", **common)
    key = security.key
    edge_enabled = platform.edge.enabled
    payments = PaymentsStack(
        app,
        "Payments",
        settings=config.payments,
        key=key,
        endpoints=EndpointSettings(
            consolidated_api=platform.consolidated_api,
            functions=platform.functions,
            reserved_concurrency=platform.functions.reserved_concurrency,
        ),
        origin_verify=platform.edge.origin_verify if edge_enabled else None,
        **common,
    )
    endpoints = payments.endpoints
    assert endpoints is not None  # handed its settings above
    alerts = AlertsStack(
        app,
        "PaymentsAlerts",
        key=key,
        subscriptions={
            topic: config.addresses(getattr(platform.alerts.subscriptions, topic))
            for topic in (*TOPICS, "payments")
        },
        payments_topic=payments.topic,
        **common,
    )
    storage = StorageStack(app, "PaymentsStorage", key=key, settings=platform, **common)
    network = NetworkStack(
        app, "PaymentsNetwork", settings=platform.network, flow_log_bucket=storage.audit, **common
    )
    compute = ComputeStack(
        app,
        "PaymentsCompute",
        settings=platform.compute,
        vpc=network.vpc,
        key=key,
        notifications_topic=alerts.operations,
        **common,
    )
    edge: EdgeStack | None = None
    if edge_enabled and storage.edge_logs is not None and payments.origin is not None:
        edge = EdgeStack(
            app,
            "PaymentsEdge",
            settings=platform,
            key=key,
            api=payments.api,
            routes=endpoints.routes,
            log_bucket=storage.edge_logs,
            origin=payments.origin,
            layer=payments.layer,
            **common,
        )
    edge_security = EdgeSecurityStack(
        app, "PaymentsEdgeSecurity", settings=platform, key=key, layer=payments.layer, **common
    )
    watched = Watched(
        functions={
            **{name.replace("_", "-"): f.function for name, f in payments.functions.items()},
            "payment-status": endpoints.status.function.function,
            **(
                {"rotate-secret": edge_security.rotation.function}
                if edge_security.rotation is not None
                else {}
            ),
            **({"rotate-origin-verify": edge.rotation.function.function} if edge else {}),
        },
        tables={"payment-transactions": payments.table},
        apis={label: api.api for label, api in payments.apis.items()},
        web_acls={api.web_acl.name: label for label, api in payments.apis.items()},
        edge_web_acls=({edge.web_acl.name: "edge"} if edge is not None else {}),
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
        settings=platform,
        alerts=alerts,
        watched=watched,
        layer=payments.layer,
        **common,
    )
    cost = CostVisibilityStack(
        app,
        "PaymentsCostVisibility",
        settings=platform.cost,
        cost_center=cost_center,
        topic=alerts.cost,
        **common,
    )
    values = {
        **profile_parameters(config.profile, platform),
        "network/vpc-id": network.vpc.vpc_id,
        "storage/audit-bucket": storage.audit.bucket_name,
        "storage/archive-bucket": storage.archive.bucket_name,
        "alerts/cost-topic-arn": alerts.cost.topic_arn,
        "alerts/security-topic-arn": alerts.security.topic_arn,
        "alerts/operations-topic-arn": alerts.operations.topic_arn,
        "payments/table-name": payments.table.table_name,
        "payments/queue-url": payments.queue.queue_url,
        "payments/api-url": payments.api.api.url,
        "security/db-credentials-secret-arn": edge_security.db_credentials.secret_arn,
        "security/provider-api-key-secret-arn": edge_security.api_key_secret.secret_arn,
        "compute/auto-scaling-group": compute.group.auto_scaling_group_name,
    }
    if edge_security.detector_id is not None:  # unknown when GuardDuty is managed outside
        values["security/guardduty-detector-id"] = edge_security.detector_id
    if edge is not None:
        values["edge/domain-name"] = platform.edge.domain_name or ""
        values["edge/distribution-domain-name"] = edge.distribution.domain_name
        values["edge/distribution-id"] = edge.distribution.distribution_id
    parameters = ParametersStack(app, "PaymentsParameters", values=values, **common)
    payments_system: dict[str, Stack] = {
        "security": security,
        "payments": payments,
        "alerts": alerts,
        "storage": storage,
        "network": network,
        "compute": compute,
        **({"edge": edge} if edge is not None else {}),
        "edge_security": edge_security,
        "observability": observability,
        "cost_visibility": cost,
        "parameters": parameters,
    }
    for stack in payments_system.values():
        Tags.of(stack).add(SYSTEM_TAG, PAYMENTS_SYSTEM)
    webapp = build_webapp(app, config, vpc=network.vpc, zones=network.availability_zones, key=key)
    global_data_stacks = global_data.build(app, config)
    global_data.acknowledge_regional_apis(payments.api.api)
    acknowledge_never_expiring_logs(app)
    return {**payments_system, **webapp, **global_data_stacks}


#: The stack tag the cost report groups systems by (and PCI-IAM-006 selects roles by).
SYSTEM_TAG = "System"
#: The value of that tag on the payment pipeline and the hardened platform (seeds 000-002).
PAYMENTS_SYSTEM = "payments"


def build_webapp(
    app: App, config: Configuration, *, vpc: ec2.IVpc, zones: list[str], key: kms.IKey
) -> dict[str, Stack]:
    """The web application's four stacks (seed 003), handed the platform's VPC and key."""
    settings = config.webapp
    common = {"deployment": config.deployment}
    data = WebAppDataStack(
        app,
        "WebAppData",
        database=settings.database,
        sessions=settings.sessions,
        vpc=vpc,
        vpc_cidr=config.platform.network.cidr,
        zones=zones,
        key=key,
        **common,
    )
    service = WebAppServiceStack(
        app,
        "WebAppService",
        settings=settings,
        vpc=vpc,
        key=key,
        cluster=data.cluster,
        database_security_group=data.security_group,
        sessions=data.sessions,
        session_indexes=data.session_indexes,
        web_acl_rules=WebAclRules.of(settings.waf, config.payments.api.waf_managed_rule_groups),
        **common,
    )
    edge = WebAppEdgeStack(
        app,
        "WebAppEdge",
        edge=settings.edge,
        lifecycle=settings.lifecycle,
        load_balancer=settings.load_balancer,
        origin_secret_name=service.origin_secret_name,
        log_bucket=service.log_bucket,
        **common,
    )
    edge.add_stack_dependency(service, "the origin secret is read by name at deployment")
    observability = WebAppObservabilityStack(
        app,
        "WebAppObservability",
        settings=settings.alarms,
        addresses=config.addresses(settings.alarms.subscriptions),
        key=key,
        watched=WebAppWatched(
            cluster=service.cluster,
            service=service.service,
            load_balancer=service.load_balancer,
            target_group=service.target_group,
            database=data.cluster,
            reader_identifier=data.reader_identifier,
            function=service.validator.function,
            sessions=data.sessions,
            queue=service.queue,
            dead_letter_queue=service.dead_letter_queue,
        ),
        **common,
    )
    stacks: dict[str, Stack] = {
        "webapp_data": data,
        "webapp_service": service,
        "webapp_edge": edge,
        "webapp_observability": observability,
    }
    for stack in stacks.values():
        Tags.of(stack).add(SYSTEM_TAG, "webapp")
        Tags.of(stack).add("Team", settings.team)
    return stacks


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
