"""The ``PaymentsNetwork`` stack: a VPC over ``max_azs`` zones with the NAT placement from configuration.

* ``nat.mode = "instance"``: one NAT *instance* (Graviton, ``nat.instance_type``, e.g.
  ``t4g.nano``) serves every private subnet - about a tenth of a NAT Gateway's hourly price, at
  the cost of a single point of failure and a bandwidth ceiling (good enough for development).
* ``nat.mode = "gateway"``: ``nat.gateways`` managed NAT Gateways - one (cheapest; an AZ outage
  cuts the other zones' egress, and cross-AZ traffic is billed) or one per AZ (zonal isolation).

S3 and DynamoDB are reached through free gateway endpoints, so that traffic never pays NAT
processing. VPC flow logs (``flow_log_traffic``) go to the audit bucket, kept 12+ months.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnResource
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_s3 as s3
from constructs import Construct

import governance
from stacks.base import BaseStack
from stacks.platform.settings import NetworkSettings

ZONE_LETTERS = "abcdef"


class NetworkStack(BaseStack):
    """VPC with public and private subnets, NAT per configuration, endpoints, flow logs."""

    @property
    def availability_zones(self) -> list[str]:
        """The zones named after the configured region: no account lookup at synth time."""
        return _zones(self.deployment.region, self.settings.max_azs)

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: NetworkSettings,
        flow_log_bucket: s3.IBucket,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.settings = settings
        nat = settings.nat
        provider: ec2.NatProvider
        if nat.mode == "instance":
            self.nat_instance_provider = ec2.NatProvider.instance_v2(
                instance_type=ec2.InstanceType(nat.instance_type),
                machine_image=ec2.MachineImage.latest_amazon_linux2023(
                    cpu_type=_cpu_type(nat.instance_type)
                ),
                default_allowed_traffic=ec2.NatTrafficDirection.OUTBOUND_ONLY,
                associate_public_ip_address=True,
            )
            provider = self.nat_instance_provider
        else:
            self.nat_instance_provider = None
            provider = ec2.NatProvider.gateway()
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            vpc_name=self.name("payments-vpc"),
            ip_addresses=ec2.IpAddresses.cidr(settings.cidr),
            availability_zones=self.availability_zones,
            nat_gateway_provider=provider,
            nat_gateways=nat.gateways,
            subnet_configuration=[
                # Public subnets hold only the NAT; nothing launched there gets an address.
                ec2.SubnetConfiguration(
                    name="public",
                    subnet_type=ec2.SubnetType.PUBLIC,
                    cidr_mask=24,
                    map_public_ip_on_launch=False,
                ),
                ec2.SubnetConfiguration(
                    name="private", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=20
                ),
            ],
            gateway_endpoints={
                "S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3),
                "DynamoDB": ec2.GatewayVpcEndpointOptions(
                    service=ec2.GatewayVpcEndpointAwsService.DYNAMODB
                ),
            },
            restrict_default_security_group=True,
        )
        _configure_restrict_default_sg_handler(self)
        if self.nat_instance_provider is not None:
            # Only the VPC's own hosts may send traffic through the NAT instance, and only
            # HTTPS: the private workloads need nothing else outside the VPC.
            self.nat_instance_provider.connections.allow_from(
                ec2.Peer.ipv4(settings.cidr), ec2.Port.tcp(443), "HTTPS from the VPC"
            )
            _harden_nat_instances(self)
        for subnet in self.vpc.public_subnets:
            governance.acknowledge(
                subnet,
                "PCI.DSS.321-VPCNoUnrestrictedRouteToIGW",
                "Only the public subnets route to the internet gateway, and they hold nothing "
                "but the NAT (gateway or instance); every workload runs in private subnets "
                "whose default route is the NAT, so nothing in the CDE is reachable from the "
                "internet.",
                plugin=None,
            )
        governance.acknowledge(
            self.vpc,
            "W3010",
            "The zones are the configured region's a, b and c (network.max_azs), written out so "
            "that synthesis needs no AWS account lookup; they exist in every region we deploy "
            "to, and changing them is a configuration change, reviewed like any other.",
            plugin="CloudFormation-Validate",
        )
        self.flow_log = self.vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_s3(flow_log_bucket, "vpc-flow-logs/"),
            traffic_type=ec2.FlowLogTrafficType(settings.flow_log_traffic),
        )


def _zones(region: str, count: int) -> list[str]:
    return [f"{region}{letter}" for letter in ZONE_LETTERS[:count]]


def _cpu_type(instance_type: str) -> ec2.AmazonLinuxCpuType:
    arch = ec2.InstanceType(instance_type).architecture
    return (
        ec2.AmazonLinuxCpuType.ARM_64
        if arch == ec2.InstanceArchitecture.ARM_64
        else ec2.AmazonLinuxCpuType.X86_64
    )


def _harden_nat_instances(stack: NetworkStack) -> None:
    """IMDSv2, an encrypted root volume and detailed monitoring on the NAT instance."""
    template = ec2.CfnLaunchTemplate(
        stack,
        "NatInstanceMetadata",
        launch_template_name=f"payments-nat-{stack.deployment.suffix}",
        launch_template_data=ec2.CfnLaunchTemplate.LaunchTemplateDataProperty(
            metadata_options=ec2.CfnLaunchTemplate.MetadataOptionsProperty(
                http_tokens="required", http_endpoint="enabled", http_put_response_hop_limit=1
            )
        ),
    )
    for node in stack.node.find_all():
        if isinstance(node, ec2.CfnInstance):
            node.launch_template = ec2.CfnInstance.LaunchTemplateSpecificationProperty(
                launch_template_id=template.ref, version=template.attr_latest_version_number
            )
            node.block_device_mappings = [
                ec2.CfnInstance.BlockDeviceMappingProperty(
                    device_name="/dev/xvda",
                    ebs=ec2.CfnInstance.EbsProperty(
                        volume_type="gp3", volume_size=8, encrypted=True
                    ),
                )
            ]
            node.monitoring = True
            for rule_id, plugin in (
                ("PCI.DSS.321-EC2InstanceNoPublicIp", None),
                ("PCI-NET-004", "govern"),
            ):
                governance.acknowledge(
                    node,
                    rule_id,
                    "A NAT instance must have a public address to forward the private subnets' "
                    "outbound traffic; its security group accepts only HTTPS from the VPC's own "
                    "CIDR, so no connection can be opened to it from the internet, and it holds "
                    "no data.",
                    plugin=plugin,
                )
            governance.acknowledge(
                node,
                "PCI.DSS.321-EC2InstancesInVPC",
                "The NAT instance is in the VPC: its network interface is placed in a public "
                "subnet of this VPC (NetworkInterfaces/SubnetId), which the rule does not read.",
                plugin=None,
            )
            governance.acknowledge(
                node,
                "AwsSolutions-EC29",
                "The NAT instance of a development VPC is deliberately a single, replaceable "
                "instance (about a tenth of a NAT Gateway's price); losing it stops only dev "
                "egress, and CloudFormation recreates it.",
                plugin=None,
            )


#: The singleton provider CDK adds for ``restrict_default_security_group`` (one per stack).
RESTRICT_DEFAULT_SG_PROVIDER = "Custom::VpcRestrictDefaultSGCustomResourceProvider"


def _configure_restrict_default_sg_handler(stack: BaseStack) -> None:
    """The function CDK generates to strip the default security group's rules, made to match
    ours where CloudFormation lets us: Graviton (its Node.js code has no native parts) and one
    reserved execution (it runs once per deployment). CDK gives it no name property, no tracing
    and no X-Ray permission on its role; docs/deploy.md ("CDK-generated resources") says why
    the rest stays as CDK writes it.
    """
    provider = stack.node.try_find_child(RESTRICT_DEFAULT_SG_PROVIDER)
    handler = provider.node.try_find_child("Handler") if provider is not None else None
    if isinstance(handler, CfnResource):
        handler.add_property_override("Architectures", ["arm64"])
        handler.add_property_override("ReservedConcurrentExecutions", 1)
