"""A DynamoDB table encrypted with the environment's key, billing mode from configuration.

Optionally with a stream (``stream=``, e.g. ``NEW_IMAGE`` for a transactional outbox) and a
time-to-live attribute (``time_to_live_attribute=``, for items that expire on their own).
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from constructs import Construct

from stacks.constructs.settings import TableSettings


class EncryptedTable(Construct):
    """A table with a string partition key (and optional string sort key), KMS CMK and PITR.

    In provisioned mode, read and write capacity auto-scale between the configured baseline
    and maximum at the target utilisation (the baseline alone would not carry a peak).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        table_name: str,
        partition_key: str,
        sort_key: str | None,
        settings: TableSettings,
        key: kms.IKey,
        stream: dynamodb.StreamViewType | None = None,
        time_to_live_attribute: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.settings = settings
        capacity = (
            {"read_capacity": settings.read_capacity, "write_capacity": settings.write_capacity}
            if settings.provisioned
            else {}
        )
        self.table = dynamodb.Table(
            self,
            "Table",
            table_name=table_name,
            partition_key=dynamodb.Attribute(
                name=partition_key, type=dynamodb.AttributeType.STRING
            ),
            sort_key=(
                dynamodb.Attribute(name=sort_key, type=dynamodb.AttributeType.STRING)
                if sort_key
                else None
            ),
            billing_mode=(
                dynamodb.BillingMode.PROVISIONED
                if settings.provisioned
                else dynamodb.BillingMode.PAY_PER_REQUEST
            ),
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=key,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=settings.point_in_time_recovery
            ),
            deletion_protection=False,
            removal_policy=RemovalPolicy.DESTROY,
            stream=stream,
            time_to_live_attribute=time_to_live_attribute,
            **capacity,
        )
        if settings.provisioned:
            reads = self.table.auto_scale_read_capacity(
                min_capacity=settings.read_capacity, max_capacity=settings.max_read_capacity
            )
            reads.scale_on_utilization(
                target_utilization_percent=settings.target_utilization_percent
            )
            writes = self.table.auto_scale_write_capacity(
                min_capacity=settings.write_capacity, max_capacity=settings.max_write_capacity
            )
            writes.scale_on_utilization(
                target_utilization_percent=settings.target_utilization_percent
            )
