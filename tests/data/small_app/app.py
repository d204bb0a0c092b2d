"""A small CDK app that breaks a few rules on purpose (used by tests/test_synth_governance.py).

With ``-c ack=1`` every finding is acknowledged in code with a reason instead.
"""

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs

import governance

app = cdk.App()
stack = cdk.Stack(app, "SmallApp", env=cdk.Environment(account="111111111111", region="us-east-1"))
queue = sqs.Queue(stack, "Orders", queue_name="orders", encryption=sqs.QueueEncryption.SQS_MANAGED)
table = dynamodb.Table(
    stack,
    "Ledger",
    partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING),
    billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
    point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
        point_in_time_recovery_enabled=True
    ),
    removal_policy=cdk.RemovalPolicy.RETAIN,
)
key = kms.Key(stack, "Key", enable_key_rotation=False, removal_policy=cdk.RemovalPolicy.DESTROY)

if app.node.try_get_context("ack"):
    governance.acknowledge(
        queue,
        "ENC-003",
        "Queue carries only order ids; SQS-managed SSE accepted by security review",
    )
    governance.acknowledge(
        queue, "NAME-001", "Fixed queue name is consumed by a partner integration"
    )
    governance.acknowledge(
        table, "LIFE-001", "Ledger must survive stack deletion for 7-year retention"
    )
    governance.acknowledge(
        table, "LIFE-002", "Ledger must survive replacement for 7-year retention"
    )
    governance.acknowledge(table, "ENC-002", "Table holds no account data; AWS-owned key accepted")
    governance.acknowledge(
        key, "ENC-008", "Key is used for a one-off import and is deleted after it"
    )
    governance.acknowledge(
        stack, "TAG-001", "DataClassification is applied by the account's tag policy"
    )

governance.apply(app)
app.synth()
