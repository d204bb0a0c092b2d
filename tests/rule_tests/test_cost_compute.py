"""COST-LAMBDA-001..004, COST-EC2-001, COST-EBS-001, COST-ECS-001: compute cost rules."""

import dataclasses

from helpers import failing, undecided

from governance.policy import Policy, Thresholds

PARAMS = {"Parameters": {"Size": {"Type": "Number"}, "Kind": {"Type": "String"}}}


def fn(**props):
    return {"Type": "AWS::Lambda::Function", "Properties": {"Handler": "i.h", **props}}


def with_thresholds(**values) -> Policy:
    return Policy(
        environment="dev", suffix="dev", thresholds=dataclasses.replace(Thresholds(), **values)
    )


#: CDK's deploy-time handlers, as aws-cdk-lib 2.275 synthesizes them (properties trimmed).
CDK_HANDLERS = {
    "CustomS3AutoDeleteObjectsCustomResourceProviderHandler9D90184F": {
        "Type": "AWS::Lambda::Function",
        "Properties": {"Timeout": 900, "MemorySize": 128, "Runtime": "nodejs24.x"},
        "Metadata": {"aws:cdk:path": "S/Custom::S3AutoDeleteObjectsCustomResourceProvider/Handler"},
    },
    "LogRetentionaae0aa3c5b4d4f87b02d85b201efdd8aFD4BFC8A": {
        "Type": "AWS::Lambda::Function",
        "Properties": {"Timeout": 900, "Runtime": "nodejs24.x"},
    },
    "BucketNotificationsHandler050a0587b7544547bf325f094a3db8347ECC3691": {
        "Type": "AWS::Lambda::Function",
        "Properties": {"Timeout": 300, "Runtime": "python3.13"},
        "Metadata": {
            "aws:cdk:path": "S/BucketNotificationsHandler050a0587b7544547bf325f094a3db834/Resource"
        },
    },
    "AWS679f53fac002430cb0da5b7982bd22872D164C4C": {
        "Type": "AWS::Lambda::Function",
        "Properties": {"Timeout": 120, "Runtime": "nodejs24.x"},
    },
    # Not named like CDK's: recognised because it is a custom resource's ServiceToken.
    "MyProviderFn": fn(Timeout=600, MemorySize=3008),
    "MyCustom": {
        "Type": "Custom::Seed",
        "Properties": {"ServiceToken": {"Fn::GetAtt": ["MyProviderFn", "Arn"]}},
    },
    "MarkedByCdk": {
        "Type": "AWS::Lambda::Function",
        "Properties": {"Timeout": 900},
        "Metadata": {"aws:cdk:is-custom-resource-handler-singleton": True},
    },
}


def test_cost_lambda_001_memory_ceiling():
    resources = {
        "Small": fn(MemorySize=512, Architectures=["arm64"]),
        "AtCeiling": fn(MemorySize=1024),
        "Default": fn(),
        "Huge": fn(MemorySize=3008),
        "JustAbove": fn(MemorySize="1025"),
        "Param": fn(MemorySize={"Ref": "Size"}),
        **CDK_HANDLERS,
    }
    assert failing("COST-LAMBDA-001", resources, **PARAMS) == {"Huge", "JustAbove"}
    assert undecided("COST-LAMBDA-001", resources, **PARAMS) == {"Param"}


def test_cost_lambda_001_ceiling_from_policy():
    resources = {"Huge": fn(MemorySize=3008), "Mid": fn(MemorySize=2048)}
    assert failing("COST-LAMBDA-001", resources) == {"Huge", "Mid"}
    assert failing("COST-LAMBDA-001", resources, with_thresholds(lambda_memory_max_mb=2048)) == {
        "Huge"
    }
    assert (
        failing("COST-LAMBDA-001", resources, with_thresholds(lambda_memory_max_mb=3008)) == set()
    )


def test_cost_lambda_002_architecture():
    resources = {
        "Arm": fn(Architectures=["arm64"]),
        "X86": fn(Architectures=["x86_64"]),
        "Unset": fn(),
        "Chosen": fn(Architectures=[{"Fn::If": ["UseArm", "arm64", "x86_64"]}]),
        "ArmByDefaultParam": fn(Architectures=[{"Ref": "Arch"}]),
        **CDK_HANDLERS,
    }
    extra = {
        "Parameters": {"Env": {"Type": "String"}, "Arch": {"Type": "String", "Default": "arm64"}},
        "Conditions": {"UseArm": {"Fn::Equals": [{"Ref": "Env"}, "dev"]}},
    }
    assert failing("COST-LAMBDA-002", resources, **extra) == {"X86", "Unset"}
    assert undecided("COST-LAMBDA-002", resources, **extra) == {"Chosen"}
    allow_both = with_thresholds(lambda_architectures=("arm64", "x86_64"))
    assert failing("COST-LAMBDA-002", resources, allow_both, **extra) == set()


def test_cost_lambda_003_reserved_concurrency():
    resources = {
        "Reserved": fn(ReservedConcurrentExecutions=50),
        "Disabled": fn(ReservedConcurrentExecutions=0),
        "Unreserved": fn(),
        "Param": fn(ReservedConcurrentExecutions={"Ref": "Kind"}),
        **CDK_HANDLERS,
    }
    assert failing("COST-LAMBDA-003", resources, **PARAMS) == {"Unreserved"}
    assert undecided("COST-LAMBDA-003", resources, **PARAMS) == {"Param"}


def test_cost_lambda_004_timeout_ceiling():
    resources = {
        "Short": fn(Timeout=10),
        "Default": fn(),
        "AtCeiling": fn(Timeout=30),
        "Long": fn(Timeout=900),
        "Param": fn(Timeout={"Ref": "Size"}),
        **CDK_HANDLERS,
    }
    assert failing("COST-LAMBDA-004", resources, **PARAMS) == {"Long"}
    assert undecided("COST-LAMBDA-004", resources, **PARAMS) == {"Param"}
    assert failing("COST-LAMBDA-004", resources, with_thresholds(lambda_timeout_max_s=5)) == {
        "Short",
        "AtCeiling",
        "Long",
    }


def test_cost_lambda_rules_judge_an_ordinary_function_named_like_nothing_special():
    # A function referred to by a custom resource's *other* property is application code.
    resources = {
        "AppFn": fn(Timeout=900),
        "Uses": {
            "Type": "Custom::Seed",
            "Properties": {
                "ServiceToken": "arn:aws:lambda:us-east-1:111111111111:function:x",
                "Target": {"Fn::GetAtt": ["AppFn", "Arn"]},
            },
        },
    }
    assert failing("COST-LAMBDA-004", resources) == {"AppFn"}


def test_cost_ec2_001_previous_generation():
    resources = {
        "Current": {"Type": "AWS::EC2::Instance", "Properties": {"InstanceType": "t4g.small"}},
        "Old": {"Type": "AWS::EC2::Instance", "Properties": {"InstanceType": "t2.micro"}},
        "DefaultType": {"Type": "AWS::EC2::Instance", "Properties": {"ImageId": "ami-1"}},
        "FromTemplate": {
            "Type": "AWS::EC2::Instance",
            "Properties": {"LaunchTemplate": {"LaunchTemplateId": {"Ref": "LtNew"}}},
        },
        "LtNew": {
            "Type": "AWS::EC2::LaunchTemplate",
            "Properties": {"LaunchTemplateData": {"InstanceType": "m7g.large"}},
        },
        "LtOld": {
            "Type": "AWS::EC2::LaunchTemplate",
            "Properties": {"LaunchTemplateData": {"InstanceType": "m4.large"}},
        },
        "LcOld": {
            "Type": "AWS::AutoScaling::LaunchConfiguration",
            "Properties": {"InstanceType": "c4.xlarge", "ImageId": "ami-1"},
        },
        "AsgMixed": {
            "Type": "AWS::AutoScaling::AutoScalingGroup",
            "Properties": {
                "MixedInstancesPolicy": {
                    "LaunchTemplate": {
                        "Overrides": [{"InstanceType": "t4g.small"}, {"InstanceType": "r4.large"}]
                    }
                }
            },
        },
        "DbOld": {"Type": "AWS::RDS::DBInstance", "Properties": {"DBInstanceClass": "db.t2.micro"}},
        "DbNew": {
            "Type": "AWS::RDS::DBInstance",
            "Properties": {"DBInstanceClass": "db.r6g.large"},
        },
        "CacheOld": {
            "Type": "AWS::ElastiCache::CacheCluster",
            "Properties": {"CacheNodeType": "cache.m4.large"},
        },
        "ParamType": {
            "Type": "AWS::EC2::Instance",
            "Properties": {"InstanceType": {"Ref": "Kind"}},
        },
    }
    assert failing("COST-EC2-001", resources, **PARAMS) == {
        "Old",
        "DefaultType",
        "LtOld",
        "LcOld",
        "AsgMixed",
        "DbOld",
        "CacheOld",
    }
    assert undecided("COST-EC2-001", resources, **PARAMS) == {"ParamType"}
    only_t2 = with_thresholds(previous_generation_instance_families=("t2",))
    assert failing("COST-EC2-001", resources, only_t2) == {"Old", "DbOld"}


def test_cost_ebs_001_gp2():
    def lt(volume_type):
        return {
            "Type": "AWS::EC2::LaunchTemplate",
            "Properties": {
                "LaunchTemplateData": {
                    "BlockDeviceMappings": [
                        {"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 20, **volume_type}}
                    ]
                }
            },
        }

    resources = {
        "VolGp3": {"Type": "AWS::EC2::Volume", "Properties": {"VolumeType": "gp3", "Size": 8}},
        "VolGp2": {"Type": "AWS::EC2::Volume", "Properties": {"VolumeType": "gp2", "Size": 8}},
        "VolDefault": {"Type": "AWS::EC2::Volume", "Properties": {"Size": 8}},
        "LtGp3": lt({"VolumeType": "gp3"}),
        "LtGp2": lt({"VolumeType": "gp2"}),
        "LtAmiDefault": lt({}),
        "InstanceGp2": {
            "Type": "AWS::EC2::Instance",
            "Properties": {
                "InstanceType": "t4g.small",
                "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"VolumeType": "gp2"}}],
            },
        },
        "LcGp2": {
            "Type": "AWS::AutoScaling::LaunchConfiguration",
            "Properties": {
                "InstanceType": "t4g.small",
                "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"VolumeType": "GP2"}}],
            },
        },
        "DbGp2": {"Type": "AWS::RDS::DBInstance", "Properties": {"StorageType": "gp2"}},
        "DbGp3": {"Type": "AWS::RDS::DBInstance", "Properties": {"StorageType": "gp3"}},
        "AuroraMember": {
            "Type": "AWS::RDS::DBInstance",
            "Properties": {"DBClusterIdentifier": {"Ref": "Cluster"}},
        },
        "VolParam": {"Type": "AWS::EC2::Volume", "Properties": {"VolumeType": {"Ref": "Kind"}}},
    }
    assert failing("COST-EBS-001", resources, **PARAMS) == {
        "VolGp2",
        "VolDefault",
        "LtGp2",
        "InstanceGp2",
        "LcGp2",
        "DbGp2",
    }
    assert undecided("COST-EBS-001", resources, **PARAMS) == {"VolParam"}


def svc(**props):
    return {"Type": "AWS::ECS::Service", "Properties": {"Cluster": {"Ref": "Cl"}, **props}}


def strategy(*items):
    return [{"CapacityProvider": name, "Weight": weight} for name, weight in items]


def test_cost_ecs_001_fargate_spot_share():
    resources = {
        "Cl": {"Type": "AWS::ECS::Cluster"},
        "SpotHeavy": svc(CapacityProviderStrategy=strategy(("FARGATE_SPOT", 2), ("FARGATE", 1))),
        "Even": svc(CapacityProviderStrategy=strategy(("FARGATE_SPOT", 1), ("FARGATE", 1))),
        "SpotLight": svc(CapacityProviderStrategy=strategy(("FARGATE_SPOT", 1), ("FARGATE", 3))),
        "OnDemandOnly": svc(LaunchType="FARGATE"),
        "Ec2": svc(LaunchType="EC2"),
        "NoLaunchType": svc(),  # cluster without a default strategy: the EC2 launch type
        "AsgProvider": svc(
            CapacityProviderStrategy=[{"CapacityProvider": {"Ref": "Cp"}, "Weight": 1}]
        ),
        "Imported": svc(
            CapacityProviderStrategy=[
                {"CapacityProvider": {"Fn::ImportValue": "shared-provider"}, "Weight": 1}
            ]
        ),
        "ParamWeight": svc(
            CapacityProviderStrategy=[
                {"CapacityProvider": "FARGATE_SPOT", "Weight": {"Ref": "Size"}},
                {"CapacityProvider": "FARGATE", "Weight": 1},
            ]
        ),
        "Cp": {"Type": "AWS::ECS::CapacityProvider", "Properties": {}},
    }
    assert failing("COST-ECS-001", resources, **PARAMS) == {"SpotLight", "OnDemandOnly"}
    assert undecided("COST-ECS-001", resources, **PARAMS) == {"Imported", "ParamWeight"}
    assert failing("COST-ECS-001", resources, with_thresholds(fargate_spot_min_share=0.6)) == {
        "Even",
        "SpotLight",
        "OnDemandOnly",
    }
    assert failing("COST-ECS-001", resources, with_thresholds(fargate_spot_min_share=0.0)) == set()


def test_cost_ecs_001_cluster_default_strategy():
    resources = {
        "Cl": {"Type": "AWS::ECS::Cluster"},
        "Assoc": {
            "Type": "AWS::ECS::ClusterCapacityProviderAssociations",
            "Properties": {
                "Cluster": {"Ref": "Cl"},
                "CapacityProviders": ["FARGATE", "FARGATE_SPOT"],
                "DefaultCapacityProviderStrategy": strategy(("FARGATE", 1)),
            },
        },
        "InheritsDefault": svc(),
        "OwnStrategy": svc(CapacityProviderStrategy=strategy(("FARGATE_SPOT", 1))),
    }
    assert failing("COST-ECS-001", resources) == {"InheritsDefault"}
