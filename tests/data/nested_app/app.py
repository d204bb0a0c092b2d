"""A foreign CDK app with a nested stack that hides a violation (tests/test_foreign_apps.py).

It knows nothing of our platform: no ``governance`` block in ``cdk.json``. The nested stack holds
a security group open to the world on SSH; with ``-c ack=1`` that finding is acknowledged in code
(``-c cdk_ack=1``: with CDK's own API, bypassing ``governance.acknowledge``).
"""

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_sqs as sqs

import governance


class Network(cdk.NestedStack):
    def __init__(self, scope, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.group = ec2.CfnSecurityGroup(
            self,
            "Bastion",
            group_description="bastion",
            security_group_ingress=[
                ec2.CfnSecurityGroup.IngressProperty(
                    ip_protocol="tcp", from_port=22, to_port=22, cidr_ip="0.0.0.0/0"
                )
            ],
        )


app = cdk.App()
stack = cdk.Stack(app, "Foreign", env=cdk.Environment(account="111111111111", region="us-east-1"))
sqs.Queue(stack, "Jobs", encryption=sqs.QueueEncryption.KMS_MANAGED)
network = Network(stack, "Network")
if app.node.try_get_context("ack"):
    governance.acknowledge(
        network.group, "PCI-NET-001", "Bastion reachable from anywhere during the migration only"
    )
if app.node.try_get_context("cdk_ack"):
    cdk.Validations.of(network.group).acknowledge(
        cdk.Acknowledgment(id="govern::PCI-NET-001", reason="acknowledged with CDK's own API")
    )
governance.apply(app)
app.synth()
