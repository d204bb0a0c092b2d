"""A foreign CDK app with a cross-region reference (tests/test_foreign_apps.py).

Its tags are configured, so the tag Aspect tags every resource it can reach; CDK's cross-region
reference provider (a role and a handler) is created after Aspects run.
"""

import aws_cdk as cdk
from aws_cdk import aws_sns as sns
from aws_cdk import aws_ssm as ssm

import governance

app = cdk.App()
source = cdk.Stack(
    app,
    "Source",
    env=cdk.Environment(account="111111111111", region="us-east-1"),
    cross_region_references=True,
)
topic = sns.Topic(source, "Alerts")
target = cdk.Stack(
    app,
    "Target",
    env=cdk.Environment(account="111111111111", region="eu-west-1"),
    cross_region_references=True,
)
ssm.StringParameter(target, "AlertsArn", string_value=topic.topic_arn)
governance.apply(app)
app.synth()
