"""An SQS queue with its dead-letter queue, both KMS-encrypted and TLS-only."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from stacks.constructs.settings import QueueSettings


class QueueWithDeadLetter(Construct):
    """``queue`` redrives to ``dead_letter_queue`` after ``max_receive_count`` receives.

    The dead-letter queue is named ``<queue-name>-dlq`` is encrypted with the same key, and
    keeps messages for ``dlq_retention_days`` (SQS allows at most 14 days).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        queue_name: str,
        dead_letter_queue_name: str,
        settings: QueueSettings,
        key: kms.IKey,
    ) -> None:
        super().__init__(scope, construct_id)
        self.settings = settings
        self.dead_letter_queue = sqs.Queue(
            self,
            "DeadLetterQueue",
            queue_name=dead_letter_queue_name,
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            data_key_reuse=Duration.minutes(5),
            retention_period=Duration.days(settings.dlq_retention_days),
            visibility_timeout=Duration.seconds(settings.visibility_timeout_s),
            enforce_ssl=True,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.queue = sqs.Queue(
            self,
            "Queue",
            queue_name=queue_name,
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            data_key_reuse=Duration.minutes(5),
            retention_period=Duration.days(settings.retention_days),
            visibility_timeout=Duration.seconds(settings.visibility_timeout_s),
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=self.dead_letter_queue, max_receive_count=settings.max_receive_count
            ),
            enforce_ssl=True,
            removal_policy=RemovalPolicy.DESTROY,
        )
