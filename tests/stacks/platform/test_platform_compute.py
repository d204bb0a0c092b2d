"""Compute: Graviton Auto Scaling group in private subnets, hardened template, CPU and memory tracking."""

from __future__ import annotations

import json

import pytest
from platform_support import ENVIRONMENTS, platform

from stacks.platform.compute import agent_config


def _ami_parameter(env: str, profile: str, data: dict) -> str:
    """The SSM parameter name the launch template's image id is read from."""
    parameters = platform(env, profile).json("compute")["Parameters"]
    return parameters[data["ImageId"]["Ref"]]["Default"]


def _launch_template(env: str, profile: str = "optimised") -> dict:
    (lt,) = platform(env, profile).of_type("compute", "AWS::EC2::LaunchTemplate").values()
    return lt["Properties"]["LaunchTemplateData"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_launch_template_is_hardened_and_right_sized(env: str) -> None:
    p = platform(env)
    data = _launch_template(env)
    assert data["InstanceType"] == p.settings.compute.instance_type
    assert data["InstanceType"].split(".")[0][-1] == "g"  # a Graviton family (t4g, m7g, ...)
    assert _ami_parameter(env, "optimised", data).endswith("al2023-ami-kernel-6.1-arm64")
    assert data["MetadataOptions"]["HttpTokens"] == "required"
    assert data["MetadataOptions"]["HttpPutResponseHopLimit"] == 1
    assert data["NetworkInterfaces"][0]["AssociatePublicIpAddress"] is False
    (device,) = data["BlockDeviceMappings"]
    assert device["Ebs"]["VolumeType"] == "gp3"
    assert device["Ebs"]["Encrypted"] is True
    assert device["Ebs"]["VolumeSize"] == p.settings.compute.volume_gb
    assert "KmsKeyId" in device["Ebs"]
    assert data["Monitoring"] == {"Enabled": True}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_group_runs_in_private_subnets_with_configured_capacity(env: str) -> None:
    p = platform(env)
    (group,) = p.of_type("compute", "AWS::AutoScaling::AutoScalingGroup").values()
    props = group["Properties"]
    assert props["MinSize"] == str(p.settings.compute.min_capacity)
    assert props["MaxSize"] == str(p.settings.compute.max_capacity)
    assert props["AutoScalingGroupName"] == f"payments-workers-{env}"
    subnets = json.dumps(props["VPCZoneIdentifier"])
    assert subnets.count("privateSubnet") == 3 and "publicSubnet" not in subnets
    assert props["NotificationConfigurations"][0]["TopicARN"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_cpu_and_memory_target_tracking(env: str) -> None:
    p = platform(env)
    policies = [
        r["Properties"]["TargetTrackingConfiguration"]
        for r in p.of_type("compute", "AWS::AutoScaling::ScalingPolicy").values()
    ]
    assert len(policies) == 2
    cpu = next(c for c in policies if "PredefinedMetricSpecification" in c)
    assert (
        cpu["PredefinedMetricSpecification"]["PredefinedMetricType"] == "ASGAverageCPUUtilization"
    )
    assert cpu["TargetValue"] == p.settings.compute.cpu_target_percent
    memory = next(c for c in policies if "CustomizedMetricSpecification" in c)
    spec = memory["CustomizedMetricSpecification"]
    assert (spec["Namespace"], spec["MetricName"], spec["Statistic"]) == (
        "CWAgent",
        "mem_used_percent",
        "Average",
    )
    assert spec["Dimensions"][0]["Name"] == "AutoScalingGroupName"
    assert memory["TargetValue"] == p.settings.compute.memory_target_percent


def test_user_data_starts_the_agent_with_the_memory_metric() -> None:
    data = _launch_template("production")
    text = json.dumps(data["UserData"])
    assert "amazon-cloudwatch-agent-ctl" in text
    assert "mem_used_percent" in text
    config = agent_config()
    assert config["metrics"]["namespace"] == "CWAgent"
    assert config["metrics"]["append_dimensions"] == {
        "AutoScalingGroupName": "${aws:AutoScalingGroupName}"
    }


def test_workers_accept_no_inbound_traffic_and_send_only_https() -> None:
    p = platform("production")
    (group,) = p.of_type("compute", "AWS::EC2::SecurityGroup").values()
    assert "SecurityGroupIngress" not in group["Properties"]
    (egress,) = group["Properties"]["SecurityGroupEgress"]
    assert (egress["IpProtocol"], egress["FromPort"], egress["ToPort"]) == ("tcp", 443, 443)


def test_autoscaling_role_may_use_the_volume_key() -> None:
    key = next(iter(platform("production").of_type("security", "AWS::KMS::Key").values()))
    statements = key["Properties"]["KeyPolicy"]["Statement"]
    sids = {s.get("Sid") for s in statements}
    assert "AllowAutoScalingEncryptedVolumes" in sids


def test_legacy_workers_are_oversized_x86() -> None:
    data = _launch_template("production", "legacy")
    assert data["InstanceType"] == "m5.large"
    assert _ami_parameter("production", "legacy", data).endswith("al2023-ami-kernel-6.1-x86_64")
