"""PCI-NET-001..006: nothing administrative or data-bearing reachable from the internet."""

import pytest
from helpers import failing, undecided

from governance.policy import Policy, PolicyError


def sg(*ingress):
    return {
        "Type": "AWS::EC2::SecurityGroup",
        "Properties": {"GroupDescription": "g", "SecurityGroupIngress": list(ingress)},
    }


def rule(cidr, protocol="tcp", low=None, high=None, key="CidrIp"):
    entry = {key: cidr, "IpProtocol": protocol}
    if low is not None:
        entry.update(FromPort=low, ToPort=high if high is not None else low)
    return entry


def test_net_001_security_groups():
    resources = {
        "PublicHttps": sg(rule("0.0.0.0/0", low=443), rule("::/0", low=80, key="CidrIpv6")),
        "SshFromOffice": sg(rule("203.0.113.0/24", low=22)),
        "SshFromSg": sg(
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "SourceSecurityGroupId": "sg-1"}
        ),
        "SshFromAnywhere": sg(rule("0.0.0.0/0", low=22)),
        "RdpV6": sg(rule("::/0", low=3389, key="CidrIpv6")),
        "RangeCoversSsh": sg(rule("0.0.0.0/0", low=20, high=25)),
        "AllTraffic": sg(rule("0.0.0.0/0", protocol="-1")),
        "AllTcpPorts": sg(rule("0.0.0.0/0", protocol="6", low=0, high=65535)),
        "IcmpAnywhere": sg(rule("0.0.0.0/0", protocol="icmp", low=-1, high=-1)),
        "CidrParam": sg(rule({"Ref": "Cidr"}, low=22)),
        # ports that can never hold 22 or 3389 decide, whatever the unreadable source
        "HttpFromVpcCidr": sg(rule({"Fn::GetAtt": ["Vpc", "CidrBlock"]}, low=80, high=80)),
        "HttpsFromParam": sg(rule({"Ref": "Cidr"}, low=443)),
        "UdpDnsFromParam": sg(rule({"Ref": "Cidr"}, protocol="udp", low=53)),
        "AllFromParam": sg(rule({"Ref": "Cidr"}, protocol="-1")),
        "StandaloneSsh": {
            "Type": "AWS::EC2::SecurityGroupIngress",
            "Properties": {
                "GroupId": "sg-1",
                "IpProtocol": "tcp",
                "FromPort": 22,
                "ToPort": 22,
                "CidrIp": "0.0.0.0/0",
            },
        },
        "StandaloneFromSg": {
            "Type": "AWS::EC2::SecurityGroupIngress",
            "Properties": {
                "GroupId": "sg-1",
                "IpProtocol": "tcp",
                "FromPort": {"Fn::GetAtt": ["Db", "Endpoint.Port"]},
                "ToPort": {"Fn::GetAtt": ["Db", "Endpoint.Port"]},
                "SourceSecurityGroupId": "sg-2",
            },
        },
        "PortFromDb": {
            "Type": "AWS::EC2::SecurityGroupIngress",
            "Properties": {
                "GroupId": "sg-1",
                "IpProtocol": "tcp",
                "FromPort": {"Fn::GetAtt": ["Db", "Endpoint.Port"]},
                "ToPort": {"Fn::GetAtt": ["Db", "Endpoint.Port"]},
                "CidrIp": "0.0.0.0/0",
            },
        },
    }
    params = {"Cidr": {"Type": "String"}}
    assert failing("PCI-NET-001", resources, Parameters=params) == {
        "SshFromAnywhere",
        "RdpV6",
        "RangeCoversSsh",
        "AllTraffic",
        "AllTcpPorts",
        "StandaloneSsh",
    }
    assert undecided("PCI-NET-001", resources, Parameters=params) == {
        "CidrParam",
        "AllFromParam",
        "PortFromDb",
    }


def test_net_002_network_acls():
    def entry(cidr, protocol, low, high, **extra):
        props = {
            "NetworkAclId": {"Ref": "Acl"},
            "RuleNumber": 100,
            "Protocol": protocol,
            "RuleAction": "allow",
            "CidrBlock": cidr,
            "PortRange": {"From": low, "To": high},
        }
        return {"Type": "AWS::EC2::NetworkAclEntry", "Properties": {**props, **extra}}

    resources = {
        "Https": entry("0.0.0.0/0", 6, 443, 443),
        "Ssh": entry("0.0.0.0/0", 6, 22, 22),
        "Everything": entry("0.0.0.0/0", -1, None, None),
        "SshDenied": entry("0.0.0.0/0", 6, 22, 22, RuleAction="deny"),
        "SshEgress": entry("0.0.0.0/0", 6, 22, 22, Egress=True),
        "SshInternal": entry("10.0.0.0/8", 6, 22, 22),
        "Unknown": entry("0.0.0.0/0", 6, 22, 22, Egress={"Ref": "Out"}),
    }
    params = {"Out": {"Type": "String"}}
    assert failing("PCI-NET-002", resources, Parameters=params) == {"Ssh", "Everything"}
    assert undecided("PCI-NET-002", resources, Parameters=params) == {"Unknown"}


def test_net_003_public_database():
    def db(**props):
        return {
            "Type": "AWS::RDS::DBInstance",
            "Properties": {"DBInstanceClass": "db.t4g.micro", **props},
        }

    resources = {
        "Private": db(DBSubnetGroupName={"Ref": "Subnets"}, PubliclyAccessible=False),
        "Public": db(DBSubnetGroupName={"Ref": "Subnets"}, PubliclyAccessible=True),
        "DefaultVpc": db(),
        "InSubnetGroup": db(DBSubnetGroupName={"Ref": "Subnets"}),
        "AuroraMember": db(DBClusterIdentifier={"Ref": "Cluster"}),
        "PublicAurora": db(DBClusterIdentifier={"Ref": "Cluster"}, PubliclyAccessible="true"),
        "Redshift": {"Type": "AWS::Redshift::Cluster", "Properties": {"PubliclyAccessible": True}},
        "Param": db(DBSubnetGroupName="s", PubliclyAccessible={"Ref": "Pub"}),
    }
    params = {"Pub": {"Type": "String"}}
    assert failing("PCI-NET-003", resources, Parameters=params) == {
        "Public",
        "DefaultVpc",
        "PublicAurora",
        "Redshift",
    }
    assert undecided("PCI-NET-003", resources, Parameters=params) == {"Param"}


def test_net_004_public_ip_on_launch():
    def template(public):
        return {
            "Type": "AWS::EC2::LaunchTemplate",
            "Properties": {
                "LaunchTemplateData": {
                    "NetworkInterfaces": [{"DeviceIndex": 0, "AssociatePublicIpAddress": public}]
                }
            },
        }

    resources = {
        "Private": template(False),
        "Public": template(True),
        "NoInterfaces": {
            "Type": "AWS::EC2::LaunchTemplate",
            "Properties": {"LaunchTemplateData": {}},
        },
        "LegacyConfig": {
            "Type": "AWS::AutoScaling::LaunchConfiguration",
            "Properties": {"AssociatePublicIpAddress": "true"},
        },
        "Instance": {
            "Type": "AWS::EC2::Instance",
            "Properties": {
                "NetworkInterfaces": [{"DeviceIndex": "0", "AssociatePublicIpAddress": True}]
            },
        },
        "NatInstance": {
            "Type": "AWS::EC2::Instance",
            "Properties": {
                "SourceDestCheck": False,
                "NetworkInterfaces": [{"DeviceIndex": "0", "AssociatePublicIpAddress": True}],
            },
        },
        "Param": template({"Ref": "Pub"}),
    }
    params = {"Pub": {"Type": "String"}}
    assert failing("PCI-NET-004", resources, Parameters=params) == {
        "Public",
        "LegacyConfig",
        "Instance",
    }
    assert undecided("PCI-NET-004", resources, Parameters=params) == {"Param"}


def test_net_005_data_subnets():
    def subnet(public, *tags, **extra):
        return {
            "Type": "AWS::EC2::Subnet",
            "Properties": {
                "CidrBlock": "10.0.0.0/24",
                "MapPublicIpOnLaunch": public,
                "Tags": [{"Key": k, "Value": v} for k, v in tags],
            },
            **extra,
        }

    resources = {
        # CDK's subnet-type tag decides, whatever the names say
        "DataVpcpublicSubnet1Subnet": subnet(
            True, ("aws-cdk:subnet-type", "Public"), ("Name", "Stack/DataVpc/publicSubnet1")
        ),
        "VpcisolatedSubnet1Subnet": subnet(False, ("aws-cdk:subnet-type", "Isolated")),
        "VpcappSubnet1Subnet": subnet(True, ("aws-cdk:subnet-type", "Private")),
        "VpcdbSubnet1Subnet": subnet(True, ("aws-cdk:subnet-type", "Isolated")),
        # without CDK's tag, the subnet's own name and logical id
        "DatabaseSubnetA": subnet(True),
        "WebSubnetA": subnet(True, ("Name", "web-a")),
        "SubnetB": subnet(True, ("Name", "vpc/private-b")),
        "Param": subnet({"Ref": "Pub"}, ("aws-cdk:subnet-type", "Isolated")),
    }
    params = {"Pub": {"Type": "String"}}
    assert failing("PCI-NET-005", resources, Parameters=params) == {
        "VpcappSubnet1Subnet",
        "VpcdbSubnet1Subnet",
        "DatabaseSubnetA",
        "SubnetB",
    }
    assert undecided("PCI-NET-005", resources, Parameters=params) == {"Param"}


def test_net_006_bucket_public_access_block():
    def bucket(config=None):
        props = {} if config is None else {"PublicAccessBlockConfiguration": config}
        return {"Type": "AWS::S3::Bucket", "Properties": props}

    all_on = {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    resources = {
        "BlockAll": bucket(all_on),
        "AwsDefault": bucket(),
        "PolicyAllowed": bucket({**all_on, "BlockPublicPolicy": False}),
        "Partial": bucket({"BlockPublicAcls": True, "IgnorePublicAcls": True}),
        "Param": bucket({**all_on, "RestrictPublicBuckets": {"Ref": "R"}}),
    }
    params = {"R": {"Type": "String"}}
    assert failing("PCI-NET-006", resources, Parameters=params) == {"PolicyAllowed", "Partial"}
    assert undecided("PCI-NET-006", resources, Parameters=params) == {"Param"}


def test_net_001_admin_ports_come_from_the_policy():
    policy = Policy.from_context({"thresholds": {"admin_ports": [5432]}})
    resources = {
        "Postgres": sg(rule("0.0.0.0/0", low=5432)),
        "Ssh": sg(rule("0.0.0.0/0", low=22)),
    }
    assert failing("PCI-NET-001", resources, policy) == {"Postgres"}
    with pytest.raises(PolicyError, match="list of whole numbers"):
        Policy.from_context({"thresholds": {"admin_ports": ["22"]}})
