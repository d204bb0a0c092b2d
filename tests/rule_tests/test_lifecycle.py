"""LIFE-001..003: destroyable resources."""

from helpers import failing, undecided


def test_life_001_retain_deletion_policy():
    resources = {
        "Deleted": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Delete"},
        "Default": {"Type": "AWS::S3::Bucket"},
        "Retained": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain"},
        "RetainedOnCreate": {
            "Type": "AWS::Logs::LogGroup",
            "DeletionPolicy": "RetainExceptOnCreate",
        },
        "Snapshot": {"Type": "AWS::RDS::DBCluster", "DeletionPolicy": "Snapshot"},
        "Conditional": {
            "Type": "AWS::S3::Bucket",
            "DeletionPolicy": {"Fn::If": ["IsProd", "Retain", "Delete"]},
        },
    }
    assert failing(
        "LIFE-001", resources, Conditions={"IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]}}
    ) == {
        "Retained",
        "RetainedOnCreate",
    }
    assert undecided(
        "LIFE-001", resources, Conditions={"IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]}}
    ) == {"Conditional"}


def test_life_002_retain_update_replace_policy():
    resources = {
        "Good": {"Type": "AWS::DynamoDB::Table", "UpdateReplacePolicy": "Delete"},
        "Bad": {"Type": "AWS::DynamoDB::Table", "UpdateReplacePolicy": "Retain"},
    }
    assert failing("LIFE-002", resources) == {"Bad"}


def test_life_001_002_spare_api_gateway_regional_logging_role():
    """CDK's `RestApi(cloud_watch_role=True)`: the account setting and its role stay retained."""
    retained = {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"}
    role = {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": {"Statement": []},
            "ManagedPolicyArns": [
                "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
            ],
        },
        **retained,
    }
    resources = {
        "ApiRole": role,  # logical id says nothing: the reference decides
        "AccountSetting": {
            "Type": "AWS::ApiGateway::Account",
            "Properties": {"CloudWatchRoleArn": {"Fn::GetAtt": ["ApiRole", "Arn"]}},
            **retained,
        },
        "CloudWatchRole": role,  # same shape and name, but no account setting points at it
        "Bucket": {"Type": "AWS::S3::Bucket", **retained},
    }
    assert failing("LIFE-001", resources) == {"CloudWatchRole", "Bucket"}
    assert failing("LIFE-002", resources) == {"CloudWatchRole", "Bucket"}


def test_life_003_deletion_protection():
    resources = {
        "DbOff": {"Type": "AWS::RDS::DBCluster", "Properties": {"DeletionProtection": False}},
        "DbOn": {"Type": "AWS::RDS::DBCluster", "Properties": {"DeletionProtection": True}},
        "TableOn": {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {"DeletionProtectionEnabled": "true"},
        },
        "TableUnset": {"Type": "AWS::DynamoDB::Table", "Properties": {}},
        "AlbOn": {
            "Type": "AWS::ElasticLoadBalancingV2::LoadBalancer",
            "Properties": {
                "LoadBalancerAttributes": [{"Key": "deletion_protection.enabled", "Value": "true"}]
            },
        },
        "AlbOff": {
            "Type": "AWS::ElasticLoadBalancingV2::LoadBalancer",
            "Properties": {
                "LoadBalancerAttributes": [{"Key": "deletion_protection.enabled", "Value": "false"}]
            },
        },
        "GlobalOn": {
            "Type": "AWS::DynamoDB::GlobalTable",
            "Properties": {
                "Replicas": [{"Region": "us-east-1", "DeletionProtectionEnabled": True}]
            },
        },
        "Param": {
            "Type": "AWS::RDS::DBInstance",
            "Properties": {"DeletionProtection": {"Ref": "Protect"}},
        },
    }
    assert failing("LIFE-003", resources) == {"DbOn", "TableOn", "AlbOn", "GlobalOn"}
    assert undecided("LIFE-003", resources, Parameters={"Protect": {"Type": "String"}}) == {"Param"}


def test_life_001_002_on_cdks_own_rest_api_cloud_watch_role():
    """What CDK writes for `RestApi(cloud_watch_role=True)`: retained role and account setting."""
    import aws_cdk as cdk
    from aws_cdk import assertions
    from aws_cdk import aws_apigateway as apigw

    from governance.engine import evaluate
    from governance.policy import Policy
    from governance.registry import get_rule
    from governance.template import Template

    stack = cdk.Stack(cdk.App(), "Api")
    api = apigw.RestApi(stack, "Api", cloud_watch_role=True)
    api.root.add_method("GET", apigw.MockIntegration())
    body = assertions.Template.from_stack(stack).to_json()
    retained = {
        (r["Type"], r.get("DeletionPolicy"), r.get("UpdateReplacePolicy"))
        for r in body["Resources"].values()
        if r["Type"] in ("AWS::IAM::Role", "AWS::ApiGateway::Account")
    }
    assert retained == {
        ("AWS::IAM::Role", "Retain", "Retain"),
        ("AWS::ApiGateway::Account", "Retain", "Retain"),
    }  # the fixture still is what the exemption is for
    template = Template(name="Api", path="Api.template.json", body=body)
    rules = [get_rule("LIFE-001"), get_rule("LIFE-002")]
    assert evaluate([template], Policy(), rules).findings == []
