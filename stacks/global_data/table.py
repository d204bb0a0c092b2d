"""The ``GlobalDataTable`` stack: the payments global table, in the primary region.

``AWS::DynamoDB::GlobalTable`` (CDK ``TableV2``) keyed ``payment_id`` + ``timestamp``, on-demand,
with a replica in the secondary region, streams (new and old images, which replication needs),
the ``status-index`` and ``customer-index`` GSIs, point-in-time recovery set on *every* replica,
and every replica encrypted with the ``table`` key of its own region: the secondary key's ARN
arrives through an SSM parameter written in the secondary region and read here
(:mod:`stacks.global_data.cross_region`), never as a written ARN.

Destroy order: this stack depends on both key stacks, so ``cdk destroy`` removes it (the table and
its replica) before the keys; the secondary region's service stack depends on it, so that one goes
first.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import RemovalPolicy, Stack, Tags
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from constructs import Construct

import governance
from stacks.base import BaseStack
from stacks.global_data.cross_region import handed
from stacks.global_data.settings import SYSTEM, GlobalTableSettings

#: The indexes (name -> partition key), each sorted by ``timestamp``.
INDEXES = {"status-index": "status", "customer-index": "customer_id"}


def table_name(suffix: str) -> str:
    """The table's name, the same in every region (a global table has one name)."""
    return f"{SYSTEM}-payments-{suffix}"


class TableStack(BaseStack):
    """The global table (``table``) and its replica region (``replica_region``)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: GlobalTableSettings,
        key: kms.IKey,
        replica_region: str,
        replica_key: kms.IKey,
        replica_stack: Stack,
        log_key: kms.IKey,
        log_retention_days: int | None,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        Tags.of(self).add("System", SYSTEM)
        self.replica_region = replica_region
        replica_key_arn = handed(
            self,
            replica_stack,
            "table-key-arn",
            replica_key.key_arn,
            suffix=self.deployment.suffix,
            log_key=log_key,
            log_retention_days=log_retention_days,
        )
        pitr = dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=settings.point_in_time_recovery
        )
        string = dynamodb.AttributeType.STRING
        self.table = dynamodb.TableV2(
            self,
            "Payments",
            table_name=table_name(self.deployment.suffix),
            partition_key=dynamodb.Attribute(name="payment_id", type=string),
            sort_key=dynamodb.Attribute(name="timestamp", type=string),
            billing=dynamodb.Billing.on_demand(),
            dynamo_stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
            encryption=dynamodb.TableEncryptionV2.customer_managed_key(
                key, replica_key_arns={replica_region: replica_key_arn}
            ),
            point_in_time_recovery_specification=pitr,
            deletion_protection=settings.deletion_protection,
            removal_policy=RemovalPolicy.DESTROY,
            global_secondary_indexes=[
                dynamodb.GlobalSecondaryIndexPropsV2(
                    index_name=name,
                    partition_key=dynamodb.Attribute(name=attribute, type=string),
                    sort_key=dynamodb.Attribute(name="timestamp", type=string),
                )
                for name, attribute in INDEXES.items()
            ],
            replicas=[
                dynamodb.ReplicaTableProps(
                    region=replica_region,
                    point_in_time_recovery_specification=pitr,
                    deletion_protection=settings.deletion_protection,
                )
            ],
        )
        governance.acknowledge(
            self.table,
            "COST-DDB-001",
            "Seed 004 asks for on-demand capacity: after a failover the secondary region takes "
            "the whole load at once, which provisioned capacity would have to hold in both "
            "regions all the time (replicated write capacity is billed in every replica) or "
            "reach by auto-scaling minutes late, throttling payments while it does.",
        )
