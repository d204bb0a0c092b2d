"""A foreign CDK app whose ``governance`` block has a typo (tests/test_foreign_apps.py)."""

import aws_cdk as cdk
from aws_cdk import aws_sqs as sqs

import governance

app = cdk.App()
stack = cdk.Stack(app, "Typo")
sqs.Queue(stack, "Jobs")
governance.apply(app)
app.synth()
