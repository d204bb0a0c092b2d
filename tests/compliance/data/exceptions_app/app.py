"""A tiny CDK app for the governed-exception tests; ``-c mode=...`` picks the case.

valid        exceptions with ticket, approver and a future expiry: synth passes
expired      the bucket's exception expired on 2020-01-01: synth fails (GOV-EXC-001)
nonwaivable  ENC-001 and ENC-003 are non-waivable in the policy; ENC-001 is acknowledged with
             governance.acknowledge, ENC-003 with CDK's own API: synth fails (GOV-EXC-002 twice)

Only ENC-001 and ENC-003 of our rules are enabled, so rules added later do not change the cases.
"""

import aws_cdk as cdk
from aws_cdk import Acknowledgment, Validations
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs

import governance
from governance.policy import Policy
from governance.registry import all_rules

KEEP = {"ENC-001", "ENC-003"}

app = cdk.App()
mode = app.node.try_get_context("mode") or "valid"
non_waivable = ["ENC-001", "ENC-003"] if mode == "nonwaivable" else []
policy = Policy.from_context(
    {
        "mandatory_tags": [],
        "non_waivable": non_waivable,
        "cdk_nag": {"aws_solutions": True},
        "rules": {r.id: {"enabled": False} for r in all_rules() if r.id not in KEEP},
    }
)
stack = cdk.Stack(
    app, "Exceptions", env=cdk.Environment(account="123456789012", region="eu-west-1")
)
bucket = s3.Bucket(
    stack,
    "Receipts",
    removal_policy=cdk.RemovalPolicy.DESTROY,
    block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
)
queue = sqs.Queue(stack, "Events")

governance.acknowledge(
    bucket,
    "ENC-001",
    "Receipts hold no account data; SSE-S3 accepted until the KMS migration",
    ticket="SEC-1234",
    approver="jane.doe@example.com",
    expires="2020-01-01" if mode == "expired" else "2099-12-31",
)
if mode == "nonwaivable":
    Validations.of(queue).acknowledge(
        Acknowledgment(id="govern::ENC-003", reason="acknowledged with CDK's own API")
    )
else:
    governance.acknowledge(
        queue,
        "ENC-003",
        "Queue carries event ids only; SQS-managed encryption accepted",
        ticket="SEC-1235",
        approver="john.roe@example.com",
        expires="2099-12-31",
    )
# cdk-nag's findings are acknowledged the same way (its pack's name is the namespace).
governance.acknowledge(
    stack, "AwsSolutions-S1", "Access logs of test buckets are not kept", plugin="AwsSolutions"
)
governance.acknowledge(
    stack, "AwsSolutions-S10", "Bucket is read through the VPC endpoint only", plugin=None
)
governance.acknowledge(
    stack, "AwsSolutions-SQS3", "Events are replayed from the ledger, no DLQ needed", plugin=None
)
governance.acknowledge(
    stack, "AwsSolutions-SQS4", "Queue is reached through the VPC endpoint only", plugin=None
)

governance.apply(app, policy)
app.synth()
