"""COST-DDB-001/002, COST-LOG-001/002, COST-S3-001: data cost rules."""

import dataclasses

from helpers import failing, undecided

from governance.engine import evaluate
from governance.policy import Policy, Thresholds
from governance.registry import get_rule
from governance.template import Template


def env_policy(environment: str = "dev", **values) -> Policy:
    return Policy(
        environment=environment,
        suffix=environment,
        thresholds=dataclasses.replace(Thresholds(), **values),
    )


ON_DEMAND = env_policy(dynamodb_billing_mode="on_demand")
PROVISIONED = env_policy("production", dynamodb_billing_mode="provisioned")
ANY = env_policy(dynamodb_billing_mode="any")
KEY = [{"AttributeName": "pk", "KeyType": "HASH"}]


def table(**props):
    return {"Type": "AWS::DynamoDB::Table", "Properties": {"KeySchema": KEY, **props}}


def provisioned(**props):
    return table(
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
        **props,
    )


def test_cost_ddb_001_billing_mode_from_environment():
    resources = {
        "OnDemand": table(BillingMode="PAY_PER_REQUEST"),
        "Provisioned": provisioned(),
        "DefaultMode": table(
            ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}
        ),
        "Global": {
            "Type": "AWS::DynamoDB::GlobalTable",
            "Properties": {"BillingMode": "PROVISIONED"},
        },
        "GlobalOnDemand": {
            "Type": "AWS::DynamoDB::GlobalTable",
            "Properties": {"BillingMode": "PAY_PER_REQUEST"},
        },
        "Param": table(BillingMode={"Ref": "Mode"}),
    }
    params = {"Parameters": {"Mode": {"Type": "String"}}}
    assert failing("COST-DDB-001", resources, ON_DEMAND, **params) == {
        "Provisioned",
        "DefaultMode",
        "Global",
    }
    assert undecided("COST-DDB-001", resources, ON_DEMAND, **params) == {"Param"}
    assert failing("COST-DDB-001", resources, PROVISIONED, **params) == {
        "OnDemand",
        "GlobalOnDemand",
    }
    assert failing("COST-DDB-001", resources, ANY, **params) == set()
    assert undecided("COST-DDB-001", resources, ANY, **params) == set()


def target(resource_id, dimension, **extra):
    return {
        "Type": "AWS::ApplicationAutoScaling::ScalableTarget",
        "Properties": {
            "MinCapacity": 1,
            "MaxCapacity": 10,
            "ResourceId": resource_id,
            "ScalableDimension": dimension,
            "ServiceNamespace": "dynamodb",
            **extra,
        },
    }


def policy_for(target_id):
    return {
        "Type": "AWS::ApplicationAutoScaling::ScalingPolicy",
        "Properties": {
            "PolicyType": "TargetTrackingScaling",
            "ScalingTargetId": {"Ref": target_id},
        },
    }


def joined(table_id, suffix=""):
    return {"Fn::Join": ["", ["table/", {"Ref": table_id}, *([suffix] if suffix else [])]]}


def scaled(prefix, resource_id, dimension):
    """A scalable target with its target-tracking policy."""
    return {
        f"{prefix}Target": target(resource_id, dimension),
        f"{prefix}Policy": policy_for(f"{prefix}Target"),
    }


def test_cost_ddb_002_provisioned_without_autoscaling():
    gsi = {
        "IndexName": "byMerchant",
        "KeySchema": KEY,
        "Projection": {"ProjectionType": "ALL"},
        "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
    }
    resources = {
        "OnDemand": table(BillingMode="PAY_PER_REQUEST"),
        "Fixed": provisioned(),
        # CDK's shape: ResourceId is Fn::Join ["", ["table/", Ref Table]].
        "Scaled": provisioned(),
        **scaled("ScaledRead", joined("Scaled"), "dynamodb:table:ReadCapacityUnits"),
        **scaled("ScaledWrite", joined("Scaled"), "dynamodb:table:WriteCapacityUnits"),
        "WriteOnly": provisioned(),
        **scaled("WoWrite", joined("WriteOnly"), "dynamodb:table:WriteCapacityUnits"),
        # A scalable target with no policy and no scheduled action does not scale.
        "TargetNoPolicy": provisioned(),
        "TnpRead": target(joined("TargetNoPolicy"), "dynamodb:table:ReadCapacityUnits"),
        "TnpWrite": target(
            joined("TargetNoPolicy"),
            "dynamodb:table:WriteCapacityUnits",
            ScheduledActions=[{"ScheduledActionName": "night", "Schedule": "cron(0 0 * * ? *)"}],
        ),
        # A literal table name matched by a literal ResourceId.
        "Named": provisioned(TableName="payments-dev"),
        **scaled("NamedRead", "table/payments-dev", "dynamodb:table:ReadCapacityUnits"),
        **scaled("NamedWrite", "table/payments-dev", "dynamodb:table:WriteCapacityUnits"),
        # Table scaled, its GSI not.
        "WithIndex": provisioned(GlobalSecondaryIndexes=[gsi]),
        **scaled("WiRead", joined("WithIndex"), "dynamodb:table:ReadCapacityUnits"),
        **scaled("WiWrite", joined("WithIndex"), "dynamodb:table:WriteCapacityUnits"),
        # Table and GSI scaled.
        "IndexScaled": provisioned(GlobalSecondaryIndexes=[gsi]),
        **scaled("IsRead", joined("IndexScaled"), "dynamodb:table:ReadCapacityUnits"),
        **scaled("IsWrite", joined("IndexScaled"), "dynamodb:table:WriteCapacityUnits"),
        **scaled(
            "IsGsiRead",
            joined("IndexScaled", "/index/byMerchant"),
            "dynamodb:index:ReadCapacityUnits",
        ),
        **scaled(
            "IsGsiWrite",
            joined("IndexScaled", "/index/byMerchant"),
            "dynamodb:index:WriteCapacityUnits",
        ),
        "GlobalFixed": {
            "Type": "AWS::DynamoDB::GlobalTable",
            "Properties": {
                "BillingMode": "PROVISIONED",
                "WriteProvisionedThroughputSettings": {
                    "WriteCapacityAutoScalingSettings": {"MinCapacity": 1, "MaxCapacity": 9}
                },
                "Replicas": [
                    {
                        "Region": "us-east-1",
                        "ReadProvisionedThroughputSettings": {"ReadCapacityUnits": 5},
                    }
                ],
            },
        },
        "GlobalScaled": {
            "Type": "AWS::DynamoDB::GlobalTable",
            "Properties": {
                "BillingMode": "PROVISIONED",
                "WriteProvisionedThroughputSettings": {
                    "WriteCapacityAutoScalingSettings": {"MinCapacity": 1, "MaxCapacity": 9}
                },
                "Replicas": [
                    {
                        "Region": "us-east-1",
                        "ReadProvisionedThroughputSettings": {
                            "ReadCapacityAutoScalingSettings": {"MinCapacity": 1, "MaxCapacity": 9}
                        },
                    }
                ],
            },
        },
    }
    assert failing("COST-DDB-002", resources, PROVISIONED) == {
        "Fixed",
        "WriteOnly",
        "TargetNoPolicy",
        "WithIndex",
        "GlobalFixed",
    }
    assert undecided("COST-DDB-002", resources, PROVISIONED) == set()


def test_cost_ddb_002_unreadable_target_is_undecidable():
    resources = {
        "Fixed": provisioned(),
        "Imported": target(
            {"Fn::Join": ["", ["table/", {"Fn::ImportValue": "other-table-name"}]]},
            "dynamodb:table:ReadCapacityUnits",
        ),
        "ImportedPolicy": policy_for("Imported"),
        "ModeParam": table(BillingMode={"Ref": "Mode"}),
    }
    params = {"Parameters": {"Mode": {"Type": "String"}}}
    # read: a target that might be this table's; write: nothing could be, so a violation.
    assert undecided("COST-DDB-002", resources, PROVISIONED, **params) == {"Fixed", "ModeParam"}
    assert failing("COST-DDB-002", resources, PROVISIONED, **params) == {"Fixed"}
    findings = evaluate(
        [Template("T", "T.json", {"Resources": resources, **params})],
        PROVISIONED,
        [get_rule("COST-DDB-002")],
    ).findings
    fixed = sorted((f.undecidable, f.property_path) for f in findings if f.logical_id == "Fixed")
    assert fixed == [
        (False, "Properties/ProvisionedThroughput/WriteCapacityUnits"),
        (True, "Properties/ProvisionedThroughput/ReadCapacityUnits"),
    ]


def test_cost_ddb_002_targets_in_another_stack_count():
    data = Template(
        "Data",
        "Data.template.json",
        {"Resources": {"Tx": provisioned(TableName="payments-production")}},
    )
    scaling = Template(
        "Scaling",
        "Scaling.template.json",
        {
            "Resources": {
                **scaled("R", "table/payments-production", "dynamodb:table:ReadCapacityUnits"),
                **scaled("W", "table/payments-production", "dynamodb:table:WriteCapacityUnits"),
            }
        },
    )
    rule = get_rule("COST-DDB-002")
    assert evaluate([data, scaling], PROVISIONED, [rule]).findings == []
    alone = evaluate([data], PROVISIONED, [rule]).findings
    assert {(f.logical_id, f.undecidable) for f in alone} == {("Tx", False)}


def log_group(**props):
    return {"Type": "AWS::Logs::LogGroup", "Properties": props}


HELPER_LOGS = {
    "AWS679f53fac002430cb0da5b7982bd22872D164C4C": {
        "Type": "AWS::Lambda::Function",
        "Properties": {"Timeout": 120},
    },
    "AWS679f53fac002430cb0da5b7982bd2287LogGroup449FB7C2": {
        "Type": "AWS::Logs::LogGroup",
        "Properties": {
            "LogGroupName": {
                "Fn::Join": [
                    "",
                    ["/aws/lambda/", {"Ref": "AWS679f53fac002430cb0da5b7982bd22872D164C4C"}],
                ]
            },
            "RetentionInDays": 731,
        },
        "Metadata": {"aws:cdk:path": "S/AWS679f53fac002430cb0da5b7982bd2287/LogGroup/Resource"},
    },
    "ProviderFn": {"Type": "AWS::Lambda::Function", "Properties": {}},
    "ProviderUse": {
        "Type": "Custom::Thing",
        "Properties": {"ServiceToken": {"Fn::GetAtt": ["ProviderFn", "Arn"]}},
    },
    "ProviderFnLogs": log_group(
        LogGroupName={"Fn::Join": ["", ["/aws/lambda/", {"Ref": "ProviderFn"}]]}
    ),
}


def test_cost_log_001_never_expires():
    resources = {
        "Week": log_group(RetentionInDays=7),
        "Forever": log_group(),
        "AuditForever": log_group(LogGroupName="/payments/audit/dev"),
        "Param": log_group(RetentionInDays={"Ref": "Days"}),
        "LegacyRetention": {
            "Type": "Custom::LogRetention",
            "Properties": {"LogGroupName": "/aws/lambda/fn", "RetentionInDays": 7},
        },
        "LegacyInfinite": {
            "Type": "Custom::LogRetention",
            "Properties": {"LogGroupName": "/aws/lambda/fn2"},
        },
        **HELPER_LOGS,
    }
    params = {"Parameters": {"Days": {"Type": "Number"}}}
    assert failing("COST-LOG-001", resources, **params) == {
        "Forever",
        "AuditForever",
        "LegacyInfinite",
    }
    assert undecided("COST-LOG-001", resources, **params) == set()


def test_cost_log_002_application_log_ceiling():
    stage = {
        "Type": "AWS::ApiGateway::Stage",
        "Properties": {
            "AccessLogSetting": {"DestinationArn": {"Fn::GetAtt": ["ApiLogs", "Arn"]}},
        },
    }
    resources = {
        "Week": log_group(RetentionInDays=7),
        "AtCeiling": log_group(RetentionInDays=30),
        "TwoYears": log_group(RetentionInDays=731),
        "Forever": log_group(),  # COST-LOG-001's finding
        "AuditByName": log_group(LogGroupName="/payments/audit/dev", RetentionInDays=400),
        "TrailLogs": log_group(RetentionInDays=400),  # "trail" is an audit marker
        "ByPath": {
            "Type": "AWS::Logs::LogGroup",
            "Properties": {"RetentionInDays": 365},
            "Metadata": {"aws:cdk:path": "Net/Vpc/FlowLog/LogGroup/Resource"},
        },
        "ApiLogs": log_group(RetentionInDays=365),
        "Stage": stage,
        "Destination": log_group(RetentionInDays=365),
        "Flow": {
            "Type": "AWS::EC2::FlowLog",
            "Properties": {"LogGroupName": {"Ref": "Destination"}, "ResourceType": "VPC"},
        },
        "Param": log_group(RetentionInDays={"Ref": "Days"}),
        "PaymentWorkflowLogs": log_group(RetentionInDays=90),  # "flow" inside a word: not audit
        "InlineStageLogs": log_group(RetentionInDays=365),
        "Deployment": {
            "Type": "AWS::ApiGateway::Deployment",
            "Properties": {
                "StageDescription": {
                    "AccessLogSetting": {
                        "DestinationArn": {"Fn::GetAtt": ["InlineStageLogs", "Arn"]}
                    }
                }
            },
        },
        "LegacyLong": {
            "Type": "Custom::LogRetention",
            "Properties": {"LogGroupName": "/aws/lambda/fn", "RetentionInDays": 90},
        },
        **HELPER_LOGS,
    }
    params = {"Parameters": {"Days": {"Type": "Number"}}}
    assert failing("COST-LOG-002", resources, **params) == {
        "TwoYears",
        "LegacyLong",
        "PaymentWorkflowLogs",
    }
    assert undecided("COST-LOG-002", resources, **params) == {"Param"}
    assert failing("COST-LOG-002", resources, env_policy(app_log_retention_max_days=5)) == {
        "Week",
        "AtCeiling",
        "TwoYears",
        "LegacyLong",
        "PaymentWorkflowLogs",
    }
    no_markers = dataclasses.replace(env_policy(), audit_log_markers=())
    assert failing("COST-LOG-002", resources, no_markers) == {
        "TwoYears",
        "LegacyLong",
        "PaymentWorkflowLogs",
        "AuditByName",
        "TrailLogs",
        "ByPath",
    }


def test_cost_s3_001_lifecycle():
    def bucket(*rules):
        props = {"LifecycleConfiguration": {"Rules": list(rules)}} if rules else {}
        return {"Type": "AWS::S3::Bucket", "Properties": props}

    glacier = {
        "Status": "Enabled",
        "Transitions": [{"StorageClass": "GLACIER", "TransitionInDays": 30}],
    }
    resources = {
        "Lifecycled": bucket(glacier),
        "NoRules": bucket(),
        "Disabled": bucket({**glacier, "Status": "Disabled"}),
        "OneOfTwo": bucket(
            {**glacier, "Status": "Disabled"}, {"Status": "Enabled", "ExpirationInDays": 365}
        ),
        "Switch": bucket({**glacier, "Status": {"Ref": "State"}}),
        "Chosen": bucket({**glacier, "Status": {"Fn::If": ["IsProd", "Enabled", "Disabled"]}}),
    }
    extra = {
        "Parameters": {"State": {"Type": "String"}, "Env": {"Type": "String"}},
        "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Env"}, "production"]}},
    }
    assert failing("COST-S3-001", resources, **extra) == {"NoRules", "Disabled"}
    assert undecided("COST-S3-001", resources, **extra) == {"Switch", "Chosen"}


def test_cost_log_002_audit_writer_in_another_stack():
    logs = Template(
        "Logs",
        "Logs.template.json",
        {
            "Resources": {"Destination": log_group(RetentionInDays=365)},
            "Outputs": {
                "Out": {
                    "Value": {"Fn::GetAtt": ["Destination", "Arn"]},
                    "Export": {"Name": "logs-destination-arn"},
                }
            },
        },
    )
    network = Template(
        "Network",
        "Network.template.json",
        {
            "Resources": {
                "Flow": {
                    "Type": "AWS::EC2::FlowLog",
                    "Properties": {
                        "LogDestination": {"Fn::ImportValue": "logs-destination-arn"},
                        "ResourceType": "VPC",
                    },
                }
            }
        },
    )
    rule = get_rule("COST-LOG-002")
    assert evaluate([logs, network], env_policy(), [rule]).findings == []
    alone = evaluate([logs], env_policy(), [rule]).findings
    assert [f.logical_id for f in alone] == ["Destination"]
    # The audit-log answer is kept per run: the same policy over another set of stacks asks
    # again, in either order (rules._support.per_run).
    policy = env_policy()
    rules = [rule, get_rule("PCI-RET-001")]
    assert evaluate([logs, network], policy, rules).findings == []
    assert [f.rule_id for f in evaluate([logs], policy, rules).findings] == ["COST-LOG-002"]
    assert evaluate([logs, network], policy, rules).findings == []
