"""The ``WebAppData`` stack: the web application's Aurora PostgreSQL cluster and sessions table.

* **Isolated subnets.** The platform's VPC (handed in) has public and private subnets; the
  database gets its own isolated subnets, one per zone of the VPC, carved from the top of the
  VPC's range (``database.subnet_mask``), with route tables of their own that have no route out
  of the VPC. The subnet group spans every zone.
* **Aurora PostgreSQL**: one writer and one reader, pinned to the first and second zone so they
  never share one; storage encrypted with the environment's key; Aurora Standard or I/O-Optimized
  from ``database.storage_type``; automated backups and point-in-time recovery for
  ``database.backup_retention_days``; IAM database authentication; the ``postgresql`` log exported
  to a KMS-encrypted log group created here with ``database.log_retention_days`` (so CDK's log
  retention function, and its inline policy, are never needed); deletion protection off and
  removed with the stack without a final snapshot, as the seed asks.
* **Credentials**: a generated master password in Secrets Manager (environment key), rotated every
  ``database.rotation_days`` by AWS's hosted PostgreSQL single-user rotation function, which runs in
  the private subnets with a security group the database admits on 5432.
* **Sessions**: ``webapp-sessions-<suffix>``, on demand, point-in-time recovery, TTL on
  ``sessions.ttl_attribute``; with ``sessions.user_index`` a ``by-user`` index (keys only) serves
  "list or revoke every session of a user" (sign-out everywhere, after a password change).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_rds as rds
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

import governance
from stacks.base import BaseStack
from stacks.constructs.logs import encrypted_log_group
from stacks.webapp.settings import DatabaseSettings, SessionSettings

POSTGRES_PORT = 5432
#: Why the web application's tables are on demand in every environment.
ON_DEMAND_REASON = (
    "Web traffic follows users, not a schedule: sessions and verdicts spike with logins and "
    "releases, and the seed asks for on-demand billing for the session table. Provisioned "
    "capacity is cheaper only above about 29 % average utilisation (docs/cost-model.md), which "
    "a spiky web workload does not hold."
)


def isolated_cidrs(vpc_cidr: str, mask: int, count: int) -> list[str]:
    """``count`` blocks of ``/mask`` at the top of ``vpc_cidr`` (CDK allocates from the bottom)."""
    blocks = list(ipaddress.IPv4Network(vpc_cidr).subnets(new_prefix=mask))
    return [str(block) for block in blocks[-count:]]


class DataStack(BaseStack):
    """Isolated subnets, the Aurora cluster (writer + reader), its secret, the sessions table.

    Attributes: ``subnets``, ``security_group`` (the database's), ``cluster``, ``writer_zone``,
    ``reader_zone``, ``log_group``, ``sessions``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        database: DatabaseSettings,
        sessions: SessionSettings,
        vpc: ec2.IVpc,
        vpc_cidr: str,
        zones: Sequence[str],
        key: kms.IKey,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.subnets = [
            ec2.Subnet(
                self,
                f"Isolated{i + 1}",
                vpc_id=vpc.vpc_id,
                availability_zone=zone,
                cidr_block=cidr,
                map_public_ip_on_launch=False,
            )
            for i, (zone, cidr) in enumerate(
                zip(zones, isolated_cidrs(vpc_cidr, database.subnet_mask, len(zones)), strict=True)
            )
        ]
        self.security_group = ec2.SecurityGroup(
            self,
            "DatabaseSecurityGroup",
            vpc=vpc,
            description="Aurora PostgreSQL of the web application: 5432 from its tasks only",
            allow_all_outbound=False,
        )
        self.writer_zone, self.reader_zone = zones[0], zones[1]
        identifier = self.name("webapp-db")
        self.reader_identifier = f"{identifier}-reader"
        self.log_group = encrypted_log_group(
            self,
            "PostgresLogs",
            log_group_name=f"/aws/rds/cluster/{identifier}/postgresql",
            retention_days=database.log_retention_days,
            key=key,
        )
        self.subnet_group = rds.SubnetGroup(
            self,
            "SubnetGroup",
            subnet_group_name=self.name("webapp-db-subnets"),
            description="Isolated subnets of the web application's database, one per zone",
            vpc=vpc,
            vpc_subnets=ec2.SubnetSelection(subnets=self.subnets),
            removal_policy=RemovalPolicy.DESTROY,
        )
        instance_type = ec2.InstanceType(database.instance_class.removeprefix("db."))
        self.cluster = rds.DatabaseCluster(
            self,
            "Cluster",
            cluster_identifier=identifier,
            engine=rds.DatabaseClusterEngine.aurora_postgres(
                version=rds.AuroraPostgresEngineVersion.of(
                    database.engine_version, database.engine_version.split(".")[0]
                )
            ),
            credentials=rds.Credentials.from_generated_secret(
                database.master_username,
                secret_name=self.name("webapp-db-credentials"),
                encryption_key=key,
            ),
            default_database_name=database.database_name,
            writer=rds.ClusterInstance.provisioned(
                "Writer",
                instance_type=instance_type,
                availability_zone=self.writer_zone,
                instance_identifier=f"{identifier}-writer",
                auto_minor_version_upgrade=True,
                publicly_accessible=False,
            ),
            readers=[
                rds.ClusterInstance.provisioned(
                    "Reader",
                    instance_type=instance_type,
                    availability_zone=self.reader_zone,
                    instance_identifier=self.reader_identifier,
                    auto_minor_version_upgrade=True,
                    publicly_accessible=False,
                    promotion_tier=1,
                )
            ],
            vpc=vpc,
            subnet_group=self.subnet_group,
            security_groups=[self.security_group],
            port=POSTGRES_PORT,
            storage_type=(
                rds.DBClusterStorageType.AURORA_IOPT1
                if database.storage_type == "aurora-iopt1"
                else rds.DBClusterStorageType.AURORA
            ),
            storage_encrypted=True,
            storage_encryption_key=key,
            iam_authentication=True,
            backup=rds.BackupProps(retention=Duration.days(database.backup_retention_days)),
            cloudwatch_logs_exports=["postgresql"],
            copy_tags_to_snapshot=True,
            deletion_protection=False,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.cluster.node.add_dependency(self.log_group)
        # AWS's hosted rotation function runs in the private subnets (Secrets Manager through
        # the NAT) and is admitted to the database on 5432.
        self.rotation_security_group = ec2.SecurityGroup(
            self,
            "RotationSecurityGroup",
            vpc=vpc,
            description="Hosted rotation function of the web application database secret",
            allow_all_outbound=True,
        )
        allow_postgres(
            self, self.security_group, self.rotation_security_group, "the rotation function"
        )
        secret = self.cluster.secret
        assert secret is not None  # generated above
        self.secret = secret
        self.rotation = secret.add_rotation_schedule(
            "Rotation",
            hosted_rotation=secretsmanager.HostedRotation.postgre_sql_single_user(
                function_name=self.name("webapp-db-rotation"),
                vpc=vpc,
                vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
                security_groups=[self.rotation_security_group],
            ),
            automatically_after=Duration.days(database.rotation_days),
        )
        self._acknowledge()
        self.sessions = dynamodb.Table(
            self,
            "Sessions",
            table_name=self.name("webapp-sessions"),
            partition_key=dynamodb.Attribute(name="session_id", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=key,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute=sessions.ttl_attribute,
            deletion_protection=False,
            removal_policy=RemovalPolicy.DESTROY,
        )
        governance.acknowledge(self.sessions, "COST-DDB-001", ON_DEMAND_REASON)
        self.session_indexes: tuple[str, ...] = ()
        if sessions.user_index:
            self.session_indexes = ("by-user",)
            self.sessions.add_global_secondary_index(
                index_name="by-user",
                partition_key=dynamodb.Attribute(
                    name="user_id", type=dynamodb.AttributeType.STRING
                ),
                projection_type=dynamodb.ProjectionType.KEYS_ONLY,
            )

    def _acknowledge(self) -> None:
        governance.acknowledge(
            self.cluster,
            "AwsSolutions-RDS10",
            "Deletion protection is off on purpose: every stateful resource of the platform "
            "must be destroyable with its stack (the seed's deployment requirement); automated "
            "backups keep database.backup_retention_days of point-in-time recovery while the "
            "cluster exists.",
            plugin=None,
        )
        governance.acknowledge(
            self.cluster,
            "AwsSolutions-RDS11",
            "The cluster listens on PostgreSQL's default port 5432; it is reachable only from "
            "the isolated subnets' security group rules (the web tasks and the rotation "
            "function), so a non-default port would hide nothing from a caller that can "
            "already reach it.",
            plugin=None,
        )


def allow_postgres(
    scope: Construct, database: ec2.ISecurityGroup, peer: ec2.ISecurityGroup, description: str
) -> ec2.CfnSecurityGroupIngress:
    """Admit ``peer`` to ``database`` on 5432, as an ingress rule in ``scope`` (the peer's stack,
    so that the database's stack never depends on a later one)."""
    return ec2.CfnSecurityGroupIngress(
        scope,
        f"PostgresFrom{peer.node.id}",
        group_id=database.security_group_id,
        source_security_group_id=peer.security_group_id,
        ip_protocol="tcp",
        from_port=POSTGRES_PORT,
        to_port=POSTGRES_PORT,
        description=f"PostgreSQL from {description}",
    )
