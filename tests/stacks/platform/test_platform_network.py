"""Network: 3-AZ VPC, NAT instance / one gateway / gateways per configuration, endpoints, flow logs."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Match
from platform_support import ENVIRONMENTS, platform

NAT_GATEWAYS = {"dev": 0, "staging": 1, "production": 3}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_vpc_spans_three_zones_with_private_subnets(env: str) -> None:
    p = platform(env)
    subnets = p.of_type("network", "AWS::EC2::Subnet").values()
    zones = {s["Properties"]["AvailabilityZone"] for s in subnets}
    assert zones == {f"{p.config.region}{z}" for z in "abc"}
    kinds = [
        next(t["Value"] for t in s["Properties"]["Tags"] if t["Key"] == "aws-cdk:subnet-type")
        for s in subnets
    ]
    assert sorted(kinds) == ["Private"] * 3 + ["Public"] * 3
    # nothing launched in a public subnet gets an address by default
    for subnet in subnets:
        assert subnet["Properties"]["MapPublicIpOnLaunch"] is False


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_nat_placement_per_environment(env: str) -> None:
    p = platform(env)
    assert len(p.of_type("network", "AWS::EC2::NatGateway")) == NAT_GATEWAYS[env]
    instances = p.of_type("network", "AWS::EC2::Instance")
    if env == "dev":
        (nat,) = instances.values()
        props = nat["Properties"]
        assert props["InstanceType"] == "t4g.nano"
        assert props["SourceDestCheck"] is False
        assert "arm64" in props["ImageId"]["Ref"]  # Graviton AMI for a Graviton instance
        assert props["BlockDeviceMappings"][0]["Ebs"]["Encrypted"] is True
        assert props["Monitoring"] is True
        template = p.of_type("network", "AWS::EC2::LaunchTemplate")
        (lt,) = template.values()
        assert lt["Properties"]["LaunchTemplateData"]["MetadataOptions"]["HttpTokens"] == "required"
        # every private subnet routes 0.0.0.0/0 through the instance
        routes = [
            r["Properties"]
            for r in p.of_type("network", "AWS::EC2::Route").values()
            if "InstanceId" in r["Properties"]
        ]
        assert len(routes) == 3
    else:
        assert instances == {}


def test_nat_instance_accepts_only_https_from_the_vpc() -> None:
    p = platform("dev")
    groups = [
        g["Properties"]
        for g in p.of_type("network", "AWS::EC2::SecurityGroup").values()
        if g["Properties"]["GroupDescription"] == "Security Group for NAT instances"
    ]
    (group,) = groups
    assert group["SecurityGroupIngress"] == [
        {
            "CidrIp": p.settings.network.cidr,
            "Description": "HTTPS from the VPC",
            "FromPort": 443,
            "IpProtocol": "tcp",
            "ToPort": 443,
        }
    ]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_gateway_endpoints_for_s3_and_dynamodb(env: str) -> None:
    endpoints = platform(env).of_type("network", "AWS::EC2::VPCEndpoint").values()
    services = sorted(
        e["Properties"]["ServiceName"]["Fn::Join"][1][-1].rsplit(".", 1)[-1] for e in endpoints
    )
    assert services == ["dynamodb", "s3"]
    assert {e["Properties"]["VpcEndpointType"] for e in endpoints} == {"Gateway"}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_flow_logs_go_to_the_audit_bucket(env: str) -> None:
    p = platform(env)
    p.templates["network"].has_resource_properties(
        "AWS::EC2::FlowLog",
        {
            "ResourceType": "VPC",
            "TrafficType": "ALL",
            "LogDestinationType": "s3",
            "LogDestination": Match.object_like(
                {"Fn::Join": ["", [Match.any_value(), "/vpc-flow-logs/"]]}
            ),
        },
    )


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_legacy_has_a_nat_gateway_per_zone_everywhere(env: str) -> None:
    legacy = platform(env, "legacy")
    assert len(legacy.of_type("network", "AWS::EC2::NatGateway")) == 3
    assert legacy.of_type("network", "AWS::EC2::Instance") == {}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_cdk_default_sg_handler_runs_on_graviton_with_one_execution(env: str) -> None:
    handlers = [
        f["Properties"]
        for logical_id, f in platform(env).of_type("network", "AWS::Lambda::Function").items()
        if logical_id.startswith("CustomVpcRestrictDefaultSG")
    ]
    assert len(handlers) == 1
    assert handlers[0]["Architectures"] == ["arm64"]
    assert handlers[0]["ReservedConcurrentExecutions"] == 1
