"""The ``PaymentsCompute`` stack, the worker fleet: an EC2 Auto Scaling group in the private subnets, sized from configuration.

The launch template asks for IMDSv2, no public address and an encrypted gp3 root volume (the
environment's KMS key). The CloudWatch agent publishes ``mem_used_percent`` (namespace
``CWAgent``, dimension ``AutoScalingGroupName``), so the group scales on two target-tracking
policies: average CPU and average memory. Instances are reached through Session Manager, never
SSH: the security group has no ingress rule and allows only HTTPS out.
"""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import Aws, Duration
from aws_cdk import aws_autoscaling as autoscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

import governance
from stacks.base import BaseStack
from stacks.platform.settings import ComputeSettings

MEMORY_NAMESPACE = "CWAgent"
MEMORY_METRIC = "mem_used_percent"


def agent_config() -> dict[str, Any]:
    """CloudWatch agent configuration: memory and swap per Auto Scaling group, every minute."""
    return {
        "agent": {"metrics_collection_interval": 60, "run_as_user": "cwagent"},
        "metrics": {
            "namespace": MEMORY_NAMESPACE,
            "append_dimensions": {"AutoScalingGroupName": "${aws:AutoScalingGroupName}"},
            "aggregation_dimensions": [["AutoScalingGroupName"]],
            "metrics_collected": {
                "mem": {"measurement": [MEMORY_METRIC]},
                "swap": {"measurement": ["swap_used_percent"]},
            },
        },
    }


class ComputeStack(BaseStack):
    """Graviton Auto Scaling group with CPU and memory target tracking."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: ComputeSettings,
        vpc: ec2.IVpc,
        key: kms.IKey,
        notifications_topic: sns.ITopic,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.settings = settings
        instance_type = ec2.InstanceType(settings.instance_type)
        cpu = (
            ec2.AmazonLinuxCpuType.ARM_64
            if instance_type.architecture == ec2.InstanceArchitecture.ARM_64
            else ec2.AmazonLinuxCpuType.X86_64
        )
        self.security_group = ec2.SecurityGroup(
            self,
            "WorkerSg",
            vpc=vpc,
            security_group_name=self.name("payments-workers"),
            description="Payment workers: no inbound; HTTPS out only (AWS APIs, package mirrors)",
            allow_all_outbound=False,
        )
        self.security_group.add_egress_rule(
            ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to AWS APIs and package mirrors"
        )
        role = iam.Role(
            self,
            "WorkerRole",
            role_name=self.name("payments-worker"),
            assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
            description="Payment workers: Session Manager and the CloudWatch agent",
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name("AmazonSSMManagedInstanceCore")
            ],
        )
        agent_policy = iam.ManagedPolicy(
            self,
            "AgentPolicy",
            description="CloudWatch agent on the payment workers: CWAgent metrics only",
            statements=[
                iam.PolicyStatement(
                    sid="PutAgentMetrics",
                    actions=["cloudwatch:PutMetricData"],
                    resources=["*"],
                    conditions={"StringEquals": {"cloudwatch:namespace": MEMORY_NAMESPACE}},
                ),
                iam.PolicyStatement(
                    sid="ReadOwnTags",
                    actions=["ec2:DescribeTags"],
                    resources=["*"],
                ),
            ],
        )
        role.add_managed_policy(agent_policy)
        governance.acknowledge(
            role,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]",
            "AmazonSSMManagedInstanceCore is the AWS-maintained minimum for Session Manager, "
            "which replaces SSH (no inbound port, every session logged); AWS keeps it current "
            "with the agent's API needs.",
            plugin=None,
        )
        governance.acknowledge(
            agent_policy,
            "AwsSolutions-IAM5[Resource::*]",
            "cloudwatch:PutMetricData and ec2:DescribeTags support no resource-level "
            "permissions (AWS Service Authorization Reference), so '*' is the only valid "
            "resource; PutMetricData is further restricted to the CWAgent namespace by condition.",
            plugin=None,
        )
        user_data = ec2.UserData.for_linux()
        user_data.add_commands(
            "dnf install -y amazon-cloudwatch-agent",
            "cat > /opt/aws/amazon-cloudwatch-agent/etc/amazon-cloudwatch-agent.json <<'EOF'",
            json.dumps(agent_config(), indent=2),
            "EOF",
            "/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl -a fetch-config "
            "-m ec2 -s -c file:/opt/aws/amazon-cloudwatch-agent/etc/amazon-cloudwatch-agent.json",
        )
        self.launch_template = ec2.LaunchTemplate(
            self,
            "WorkerTemplate",
            launch_template_name=self.name("payments-workers"),
            instance_type=instance_type,
            machine_image=ec2.MachineImage.latest_amazon_linux2023(cpu_type=cpu),
            require_imdsv2=True,
            http_put_response_hop_limit=1,
            associate_public_ip_address=False,
            security_group=self.security_group,
            role=role,
            user_data=user_data,
            detailed_monitoring=True,
            ebs_optimized=True,
            block_devices=[
                ec2.BlockDevice(
                    device_name="/dev/xvda",
                    volume=ec2.BlockDeviceVolume.ebs(
                        settings.volume_gb,
                        volume_type=ec2.EbsDeviceVolumeType.GP3,
                        encrypted=True,
                        kms_key=key,
                        delete_on_termination=True,
                    ),
                )
            ],
        )
        # Auto Scaling launches instances with its service-linked role, which must be able to
        # use the customer-managed key of the encrypted volumes.
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowAutoScalingEncryptedVolumes",
                principals=[
                    iam.ArnPrincipal(
                        f"arn:{Aws.PARTITION}:iam::{Aws.ACCOUNT_ID}:role/aws-service-role/"
                        "autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
                    )
                ],
                actions=[
                    "kms:Encrypt",
                    "kms:Decrypt",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                    "kms:DescribeKey",
                    "kms:CreateGrant",
                ],
                resources=["*"],
            )
        )
        self.group = autoscaling.AutoScalingGroup(
            self,
            "Workers",
            auto_scaling_group_name=self.name("payments-workers"),
            vpc=vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            launch_template=self.launch_template,
            min_capacity=settings.min_capacity,
            max_capacity=settings.max_capacity,
            health_checks=autoscaling.HealthChecks.ec2(grace_period=Duration.minutes(5)),
            cooldown=Duration.minutes(5),
            notifications=[
                autoscaling.NotificationConfiguration(
                    topic=notifications_topic,
                    scaling_events=autoscaling.ScalingEvents.ALL,
                )
            ],
            group_metrics=[autoscaling.GroupMetrics.all()],
        )
        self.cpu_policy = self.group.scale_on_cpu_utilization(
            "CpuTarget", target_utilization_percent=settings.cpu_target_percent
        )
        self.memory_metric = cloudwatch.Metric(
            namespace=MEMORY_NAMESPACE,
            metric_name=MEMORY_METRIC,
            dimensions_map={"AutoScalingGroupName": self.group.auto_scaling_group_name},
            statistic="Average",
            period=Duration.minutes(1),
        )
        self.memory_policy = self.group.scale_to_track_metric(
            "MemoryTarget",
            metric=self.memory_metric,
            target_value=settings.memory_target_percent,
        )
