"""The ``WebAppService`` stack: the Fargate service behind its ALB, and the asynchronous validation.

* **Fargate service** ``webapp-<suffix>``: the placeholder image from configuration, run as the
  configured non-root ``uid:gid`` with a read-only root file system (``/tmp`` is a task-local
  volume, where the image writes its PID and cache files); ``service.min_tasks``-``max_tasks``
  tasks, target tracking on average CPU and memory; the capacity provider strategy puts
  ``on_demand_base`` tasks on FARGATE and the rest by weight on FARGATE / FARGATE_SPOT (Fargate
  Spot runs x86_64 Linux tasks only, which configuration checks); tasks in the platform VPC's
  private subnets of every zone (availability-zone rebalancing on), a health-check grace period,
  and the deployment circuit breaker with rollback. Container logs go to a KMS-encrypted log group
  kept ``service.log_retention_days``.
* **ALB** ``webapp-<suffix>``: internet-facing in the public subnets. Its security group admits
  only AWS's CloudFront origin-facing prefix list, on 443 (the list weighs about 55 rules against
  the security group's quota of 60, so it is referenced once). The HTTPS listener uses the
  configured TLS 1.2+ policy and certificate and answers 403 unless the request carries the
  origin secret header, which a listener rule checks before forwarding to the tasks; the HTTP
  listener only redirects to HTTPS. Invalid header fields are dropped. Access logs go to
  ``webapp-logs-<suffix>-<account>``, SSE-S3 (the only encryption ELB log delivery accepts),
  versioned, private, TLS-only, expired after ``load_balancer.access_log_retention_days``.
* **WAF**: a regional web ACL on the ALB (rate limit per client IP, the configured AWS managed
  rule groups, common and SQLi included), logged to a KMS-encrypted log group.
* **Validation**: the web tier sends transactions to ``webapp-transactions-<suffix>`` (SQS, KMS,
  TLS only) with a dead-letter queue; ``webapp-validate-transaction-<suffix>`` (arm64 unless
  configured, reserved concurrency) consumes it in batches with partial batch failure, in the
  private subnets, and records each verdict once in ``webapp-transaction-verdicts-<suffix>``.

Every role here has customer-managed policies only (no inline ``AWS::IAM::Policy``): the task and
execution roles and the function's role are created immutable for CDK, and each permission is a
statement of the role's own ``AWS::IAM::ManagedPolicy``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aws_cdk import ArnFormat, Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_rds as rds
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

import governance
from stacks.base import BaseStack
from stacks.constructs.function import PlatformFunction
from stacks.constructs.logs import encrypted_log_group
from stacks.constructs.platform_api import hardened_web_acl
from stacks.constructs.queue import QueueWithDeadLetter
from stacks.webapp.data import ON_DEMAND_REASON, POSTGRES_PORT, allow_postgres
from stacks.webapp.settings import WebAclRules, WebAppSettings

FUNCTIONS_DIR = Path(__file__).resolve().parent / "functions"
CONSUME_ACTIONS = (
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:GetQueueAttributes",
)
#: What a function in a VPC needs to manage its network interfaces (no resource-level ARNs).
VPC_ACTIONS = (
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
)
ORIGIN_SECRET_REASON = (
    "The origin header's value is shared by CloudFront and the ALB's listener rule, both "
    "reading it by dynamic reference at deployment; automatic rotation needs a function that "
    "updates the rule and the distribution in order, not built for this system yet. Manual "
    "procedure: put a new value, deploy WebAppService (the rule accepts it) and then "
    "WebAppEdge (CloudFront sends it); the ALB's security group admits only CloudFront's "
    "origin-facing addresses, so the header is the second of two controls."
)
#: Letters and digits only: valid in a header and in a listener rule's value.
ORIGIN_SECRET_LENGTH = 32


class ServiceStack(BaseStack):
    """Fargate service, ALB, WAF, access-log bucket, origin secret, queue and validation function.

    Attributes: ``cluster``, ``service``, ``task_definition``, ``load_balancer``,
    ``target_group``, ``https_listener``, ``http_listener``, ``web_acl``, ``log_bucket``,
    ``origin_secret``, ``queue``, ``dead_letter_queue``, ``validator``, ``verdicts``,
    ``task_role``, ``execution_role``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: WebAppSettings,
        vpc: ec2.IVpc,
        key: kms.IKey,
        cluster: rds.DatabaseCluster,
        database_security_group: ec2.ISecurityGroup,
        sessions: dynamodb.ITable,
        web_acl_rules: WebAclRules,
        session_indexes: Sequence[str] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.settings = settings
        self.key = key
        lb = settings.load_balancer
        svc = settings.service
        private = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)

        # -- logs bucket, origin secret ------------------------------------------------------
        self.log_bucket = s3.Bucket(
            self,
            "Logs",
            bucket_name=f"{self.name('webapp-logs')}-{self.account}",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            # CloudFront's standard logs are delivered through a bucket ACL.
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            versioned=True,
            lifecycle_rules=(
                [
                    s3.LifecycleRule(
                        id="access-log-retention",
                        expiration=Duration.days(lb.access_log_retention_days),
                        noncurrent_version_expiration=Duration.days(1),
                        abort_incomplete_multipart_upload_after=Duration.days(1),
                    )
                ]
                if settings.lifecycle
                else None
            ),
            removal_policy=RemovalPolicy.DESTROY,
        )
        for rule_id, plugin in (
            ("ENC-001", "govern"),
            ("AwsSolutions-S1", None),
            ("PCI.DSS.321-S3BucketLoggingEnabled", None),
            ("PCI.DSS.321-S3DefaultEncryptionKMS", None),
            ("PCI.DSS.321-S3BucketReplicationEnabled", None),
        ):
            governance.acknowledge(
                self.log_bucket,
                rule_id,
                "This bucket receives the ALB's and CloudFront's access logs: ELB log delivery "
                "accepts only SSE-S3 encrypted buckets, a bucket logging its own access would "
                "recurse, and a replica would double the cost of logs that are kept only "
                "load_balancer.access_log_retention_days. It is private, TLS-only and versioned.",
                plugin=plugin,
            )
        self.origin_secret_name = self.name("webapp-origin-verify")
        self.origin_secret = secretsmanager.Secret(
            self,
            "OriginSecret",
            secret_name=self.origin_secret_name,
            description=(
                f"Value of the {lb.origin_header} header CloudFront adds to origin requests; the "
                "ALB forwards only requests that carry it"
            ),
            encryption_key=key,
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=ORIGIN_SECRET_LENGTH, exclude_punctuation=True, include_space=False
            ),
        )
        for rule_id, plugin in (("AwsSolutions-SMG4", None), ("PCI-SEC-004", "govern")):
            governance.acknowledge(
                self.origin_secret,
                rule_id,
                ORIGIN_SECRET_REASON,
                plugin=plugin,
            )
        # -- security groups ---------------------------------------------------------------
        self.alb_security_group = ec2.SecurityGroup(
            self,
            "AlbSecurityGroup",
            vpc=vpc,
            description="Web application ALB - HTTPS from the CloudFront origin-facing prefix list only",
            allow_all_outbound=False,
        )
        self.alb_security_group.add_ingress_rule(
            ec2.Peer.prefix_list(lb.cloudfront_prefix_list_id),
            ec2.Port.tcp(443),
            "HTTPS from CloudFront (com.amazonaws.global.cloudfront.origin-facing)",
        )
        self.task_security_group = ec2.SecurityGroup(
            self,
            "TaskSecurityGroup",
            vpc=vpc,
            description="Web application tasks: the container port from the ALB only",
            allow_all_outbound=False,
        )
        self.task_security_group.add_egress_rule(
            ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to AWS APIs and the image registry"
        )
        ec2.CfnSecurityGroupEgress(
            self,
            "TasksToDatabase",
            group_id=self.task_security_group.security_group_id,
            destination_security_group_id=database_security_group.security_group_id,
            ip_protocol="tcp",
            from_port=POSTGRES_PORT,
            to_port=POSTGRES_PORT,
            description="PostgreSQL to the web application's database",
        )
        allow_postgres(self, database_security_group, self.task_security_group, "the web tasks")

        # -- queue and verdicts ---------------------------------------------------------------
        validation = settings.validation
        queues = QueueWithDeadLetter(
            self,
            "Transactions",
            queue_name=self.name("webapp-transactions"),
            dead_letter_queue_name=self.name("webapp-transactions-dlq"),
            settings=validation.queue,
            key=key,
        )
        self.queue = queues.queue
        self.dead_letter_queue = queues.dead_letter_queue
        self.verdicts = dynamodb.Table(
            self,
            "Verdicts",
            table_name=self.name("webapp-transaction-verdicts"),
            partition_key=dynamodb.Attribute(
                name="transaction_id", type=dynamodb.AttributeType.STRING
            ),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=key,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute="expires_at",
            deletion_protection=False,
            removal_policy=RemovalPolicy.DESTROY,
        )
        governance.acknowledge(
            self.verdicts,
            "COST-DDB-001",
            ON_DEMAND_REASON,
        )

        # -- ECS -----------------------------------------------------------------------------
        self.cluster = ecs.Cluster(
            self,
            "Cluster",
            cluster_name=self.name("webapp"),
            vpc=vpc,
            container_insights_v2=ecs.ContainerInsights.ENABLED,
        )
        self.cluster.enable_fargate_capacity_providers()
        self.container_logs = encrypted_log_group(
            self,
            "ContainerLogs",
            log_group_name=f"/ecs/{self.name('webapp')}",
            retention_days=svc.log_retention_days,
            key=key,
        )
        self.execution_policy = iam.ManagedPolicy(
            self,
            "ExecutionPolicy",
            description="Web application tasks' execution role: write the container log group",
            statements=[
                iam.PolicyStatement(
                    sid="WriteContainerLogs",
                    actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                    resources=[self.container_logs.log_group_arn],
                )
            ],
        )
        self.execution_role = iam.Role(
            self,
            "ExecutionRole",
            assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
            description="Execution role of the web application's tasks (log delivery)",
            managed_policies=[self.execution_policy],
        )
        self.task_policy = iam.ManagedPolicy(
            self,
            "TaskPolicy",
            description="What the web application's code may call",
            statements=[
                iam.PolicyStatement(
                    sid="Sessions",
                    actions=[
                        "dynamodb:GetItem",
                        "dynamodb:PutItem",
                        "dynamodb:UpdateItem",
                        "dynamodb:DeleteItem",
                        "dynamodb:Query",
                    ],
                    resources=[
                        sessions.table_arn,
                        *(f"{sessions.table_arn}/index/{name}" for name in session_indexes),
                    ],
                ),
                iam.PolicyStatement(
                    sid="SendTransactions",
                    actions=["sqs:SendMessage"],
                    resources=[self.queue.queue_arn],
                ),
                iam.PolicyStatement(
                    sid="UseEnvironmentKey",
                    actions=["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
                    resources=[key.key_arn],
                ),
                iam.PolicyStatement(
                    sid="ConnectToDatabase",
                    actions=["rds-db:connect"],
                    resources=[
                        self.format_arn(
                            service="rds-db",
                            resource="dbuser",
                            resource_name=(
                                f"{cluster.cluster_resource_identifier}/"
                                f"{settings.database.app_user}"
                            ),
                            arn_format=ArnFormat.COLON_RESOURCE_NAME,
                        )
                    ],
                ),
            ],
        )
        self.task_role = iam.Role(
            self,
            "TaskRole",
            assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
            description="Task role of the web application (sessions, queue, database)",
            managed_policies=[self.task_policy],
        )
        for role in (self.task_role, self.execution_role):
            role.apply_removal_policy(RemovalPolicy.DESTROY)
        self.task_definition = ecs.FargateTaskDefinition(
            self,
            "TaskDefinition",
            family=self.name("webapp"),
            cpu=svc.cpu,
            memory_limit_mib=svc.memory_mb,
            runtime_platform=ecs.RuntimePlatform(
                cpu_architecture=(
                    ecs.CpuArchitecture.X86_64
                    if svc.architecture == "x86_64"
                    else ecs.CpuArchitecture.ARM64
                ),
                operating_system_family=ecs.OperatingSystemFamily.LINUX,
            ),
            task_role=self.task_role.without_policy_updates(),
            execution_role=self.execution_role.without_policy_updates(),
            volumes=[ecs.Volume(name="tmp")],
        )
        container = self.task_definition.add_container(
            "Web",
            container_name="web",
            image=ecs.ContainerImage.from_registry(svc.image),
            user=svc.user,
            readonly_root_filesystem=True,
            essential=True,
            port_mappings=[
                ecs.PortMapping(container_port=svc.container_port, protocol=ecs.Protocol.TCP)
            ],
            logging=ecs.LogDriver.aws_logs(
                stream_prefix="web",
                log_group=self.container_logs,
                mode=ecs.AwsLogDriverMode.NON_BLOCKING,
            ),
            environment={
                "SESSIONS_TABLE": sessions.table_name,
                "TRANSACTIONS_QUEUE_URL": self.queue.queue_url,
                "DB_WRITER_HOST": cluster.cluster_endpoint.hostname,
                "DB_READER_HOST": cluster.cluster_read_endpoint.hostname,
                "DB_PORT": str(POSTGRES_PORT),
                "DB_NAME": settings.database.database_name,
                "DB_USER": settings.database.app_user,
            },
        )
        container.add_mount_points(
            ecs.MountPoint(container_path="/tmp", source_volume="tmp", read_only=False)
        )
        strategies = [
            ecs.CapacityProviderStrategy(
                capacity_provider="FARGATE", base=svc.on_demand_base, weight=svc.on_demand_weight
            )
        ]
        if svc.spot_weight:
            strategies.append(
                ecs.CapacityProviderStrategy(
                    capacity_provider="FARGATE_SPOT", weight=svc.spot_weight
                )
            )
        self.service = ecs.FargateService(
            self,
            "Service",
            service_name=self.name("webapp"),
            cluster=self.cluster,
            task_definition=self.task_definition,
            desired_count=svc.min_tasks,
            capacity_provider_strategies=strategies,
            vpc_subnets=private,
            security_groups=[self.task_security_group],
            assign_public_ip=False,
            health_check_grace_period=Duration.seconds(svc.health_check_grace_s),
            circuit_breaker=ecs.DeploymentCircuitBreaker(enable=True, rollback=True),
            min_healthy_percent=100,
            max_healthy_percent=200,
            availability_zone_rebalancing=ecs.AvailabilityZoneRebalancing.ENABLED,
            platform_version=ecs.FargatePlatformVersion.LATEST,
            enable_execute_command=False,
        )
        scaling = self.service.auto_scale_task_count(
            min_capacity=svc.min_tasks, max_capacity=svc.max_tasks
        )
        scaling.scale_on_cpu_utilization("Cpu", target_utilization_percent=svc.cpu_target_percent)
        scaling.scale_on_memory_utilization(
            "Memory", target_utilization_percent=svc.memory_target_percent
        )

        # -- load balancer -------------------------------------------------------------------
        self.load_balancer = elbv2.ApplicationLoadBalancer(
            self,
            "LoadBalancer",
            load_balancer_name=self.name("webapp"),
            vpc=vpc,
            internet_facing=True,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC),
            security_group=self.alb_security_group,
            drop_invalid_header_fields=True,
            idle_timeout=Duration.seconds(lb.idle_timeout_s),
        )
        self.load_balancer.log_access_logs(self.log_bucket, "alb")
        self.target_group = elbv2.ApplicationTargetGroup(
            self,
            "Targets",
            target_group_name=self.name("webapp"),
            vpc=vpc,
            port=svc.container_port,
            protocol=elbv2.ApplicationProtocol.HTTP,
            target_type=elbv2.TargetType.IP,
            deregistration_delay=Duration.seconds(30),
            health_check=elbv2.HealthCheck(
                path=lb.health_check_path,
                healthy_http_codes="200-399",
                interval=Duration.seconds(15),
                healthy_threshold_count=2,
                unhealthy_threshold_count=3,
            ),
        )
        self.service.attach_to_application_target_group(self.target_group)
        self.https_listener = self.load_balancer.add_listener(
            "Https",
            port=443,
            protocol=elbv2.ApplicationProtocol.HTTPS,
            certificates=[elbv2.ListenerCertificate.from_arn(lb.certificate_arn)],
            ssl_policy=elbv2.SslPolicy.RECOMMENDED_TLS,  # replaced below by the configured one
            open=False,
            default_action=elbv2.ListenerAction.fixed_response(
                403, content_type="text/plain", message_body="Forbidden"
            ),
        )
        https = self.https_listener.node.default_child
        assert isinstance(https, elbv2.CfnListener)
        https.ssl_policy = lb.ssl_policy  # CDK's enum has no member per policy name
        self.origin_rule = elbv2.ApplicationListenerRule(
            self,
            "FromCloudFront",
            listener=self.https_listener,
            priority=1,
            conditions=[
                elbv2.ListenerCondition.http_header(
                    lb.origin_header, [self.origin_secret.secret_value.unsafe_unwrap()]
                )
            ],
            action=elbv2.ListenerAction.forward([self.target_group]),
        )
        self.http_listener = self.load_balancer.add_listener(
            "Http",
            port=80,
            protocol=elbv2.ApplicationProtocol.HTTP,
            open=False,
            default_action=elbv2.ListenerAction.redirect(
                protocol="HTTPS", port="443", permanent=True
            ),
        )
        governance.acknowledge(
            self.http_listener,
            "PCI.DSS.321-ELBv2ACMCertificateRequired",
            "The HTTP listener serves nothing: its only action is a permanent redirect to the "
            "HTTPS listener, which uses the ACM certificate of load_balancer.certificate_arn.",
            plugin=None,
        )
        self.web_acl, self.waf_log_group = hardened_web_acl(
            self,
            name=self.name("webapp"),
            waf_scope="REGIONAL",
            description="Rate limit and AWS managed rules in front of the web application ALB",
            settings=web_acl_rules,  # type: ignore[arg-type]  # the four keys it reads
            key=key,
        )
        wafv2.CfnWebACLAssociation(
            self,
            "WebAclAssociation",
            resource_arn=self.load_balancer.load_balancer_arn,
            web_acl_arn=self.web_acl.attr_arn,
        )

        # -- validation function -------------------------------------------------------------
        self.validator_security_group = ec2.SecurityGroup(
            self,
            "ValidatorSecurityGroup",
            vpc=vpc,
            description="Transaction validation function: HTTPS to AWS APIs only",
            allow_all_outbound=False,
        )
        self.validator_security_group.add_egress_rule(
            ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to AWS APIs"
        )
        self.validator = PlatformFunction(
            self,
            "ValidateTransaction",
            function_name=self.name("webapp-validate-transaction"),
            code_dir=FUNCTIONS_DIR / "validate_transaction",
            settings=validation.function,
            reserved_concurrency=validation.reserved_concurrency,
            key=key,
            environment={
                "VERDICTS_TABLE": self.verdicts.table_name,
                "VERDICT_TTL_DAYS": str(validation.verdict_ttl_days),
                "MAX_AMOUNT": str(validation.max_amount),
            },
            description="Validates queued transactions once each; partial batch failures",
        )
        fn = self.validator
        cfn_function = fn.function.node.default_child
        assert isinstance(cfn_function, lambda_.CfnFunction)
        cfn_function.vpc_config = lambda_.CfnFunction.VpcConfigProperty(
            subnet_ids=vpc.select_subnets(
                subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS
            ).subnet_ids,
            security_group_ids=[self.validator_security_group.security_group_id],
        )
        fn.allow(VPC_ACTIONS, ["*"], sid="ManageNetworkInterfaces")
        fn.allow(CONSUME_ACTIONS, [self.queue.queue_arn], sid="ConsumeQueue")
        fn.allow(
            ["dynamodb:PutItem"],
            [self.verdicts.table_arn],
            sid="RecordVerdicts",
        )
        fn.allow_key("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey")
        fn.function.add_event_source(
            sources.SqsEventSource(
                self.queue,
                batch_size=validation.queue.batch_size,
                max_batching_window=Duration.seconds(validation.queue.max_batching_window_s),
                report_batch_item_failures=True,
                max_concurrency=validation.reserved_concurrency,
            )
        )
        governance.acknowledge(
            fn.policy,
            "AwsSolutions-IAM5[Resource::*]",
            "The wildcard resources are the EC2 network-interface actions a function in a VPC "
            "needs (they take no resource ARNs) and X-Ray's two write actions (likewise); "
            "every other statement names its queue, table, log group or key.",
            plugin=None,
        )
        governance.acknowledge(
            fn.function,
            "AwsSolutions-L1",
            f"The runtime ({validation.function.runtime}) is set by configuration "
            "(webapp.validation.function.runtime) and moves with a reviewed change, not "
            "silently to the newest.",
            plugin=None,
        )
        self._acknowledge()

    def _acknowledge(self) -> None:
        governance.acknowledge(
            self.task_definition,
            "AwsSolutions-ECS2",
            "The environment variables are names and endpoints (table, queue URL, database "
            "hosts, user), not secrets: the tasks authenticate to the database with IAM "
            "(rds-db:connect), so no password is handed to them.",
            plugin=None,
        )
        governance.acknowledge(
            self.alb_security_group,
            "AwsSolutions-EC23",
            "The security group admits only AWS's CloudFront origin-facing managed prefix list "
            "on 443; the rule is read as open because the prefix list is resolved at "
            "deployment.",
            plugin=None,
        )
