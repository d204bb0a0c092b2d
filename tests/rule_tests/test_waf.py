"""PCI-WAF-001..005: WAF in front of public entry points, with rules and logging."""

from helpers import failing, undecided

from governance.engine import evaluate
from governance.policy import Policy
from governance.registry import get_rule
from governance.template import Template

ACL = {"Fn::GetAtt": ["Acl", "Arn"]}


def association(arn):
    return {
        "Type": "AWS::WAFv2::WebACLAssociation",
        "Properties": {"ResourceArn": arn, "WebACLArn": ACL},
    }


def stage(api, name="prod"):
    return {
        "Type": "AWS::ApiGateway::Stage",
        "Properties": {"RestApiId": {"Ref": api}, "StageName": name},
    }


def stage_arn(api, stage_part):
    return {
        "Fn::Join": [
            "",
            ["arn:aws:apigateway:eu-west-1::/restapis/", {"Ref": api}, "/stages/", stage_part],
        ]
    }


def test_waf_001_api_stage():
    private = {"EndpointConfiguration": {"Types": ["PRIVATE"]}}
    resources = {
        "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"Name": "payments"}},
        "PrivateApi": {"Type": "AWS::ApiGateway::RestApi", "Properties": private},
        "Protected": stage("Api"),
        "ProtectedAssoc": association(stage_arn("Api", {"Ref": "Protected"})),
        "ByName": stage("Api", "v2"),
        "ByNameAssoc": association(stage_arn("Api", "v2")),
        "Naked": stage("Api", "v3"),
        "Private": stage("PrivateApi"),
        "Imported": {
            "Type": "AWS::ApiGateway::Stage",
            "Properties": {"RestApiId": {"Fn::ImportValue": "ApiId"}, "StageName": "prod"},
        },
    }
    assert failing("PCI-WAF-001", resources) == {"Naked"}
    assert undecided("PCI-WAF-001", resources) == {"Imported"}


def test_waf_001_association_in_another_stack():
    """CDK writes a cross-stack reference as an export in one stack and an import in the other."""
    api_stack = Template(
        "Api",
        "Api.template.json",
        {
            "Resources": {
                "Api": {"Type": "AWS::ApiGateway::RestApi"},
                "Stage": stage("Api"),
                "Other": stage("Api", "v2"),
            },
            "Outputs": {
                "ExportStage": {
                    "Value": {"Ref": "Stage"},
                    "Export": {"Name": "Api:ExportsOutputRefStage"},
                },
                "ExportApi": {
                    "Value": {"Ref": "Api"},
                    "Export": {"Name": "Api:ExportsOutputRefApi"},
                },
            },
        },
    )
    edge_stack = Template(
        "Edge",
        "Edge.template.json",
        {
            "Resources": {
                "Assoc": association(
                    {
                        "Fn::Join": [
                            "",
                            [
                                "arn:aws:apigateway:eu-west-1::/restapis/",
                                {"Fn::ImportValue": "Api:ExportsOutputRefApi"},
                                "/stages/",
                                {"Fn::ImportValue": "Api:ExportsOutputRefStage"},
                            ],
                        ]
                    }
                )
            }
        },
    )
    result = evaluate([api_stack, edge_stack], Policy(), [get_rule("PCI-WAF-001")])
    assert {(f.stack, f.logical_id) for f in result.findings} == {("Api", "Other")}


def test_waf_002_distribution():
    def dist(**config):
        return {
            "Type": "AWS::CloudFront::Distribution",
            "Properties": {"DistributionConfig": {"Enabled": True, **config}},
        }

    resources = {
        "Literal": dist(WebACLId="arn:aws:wafv2:us-east-1:111111111111:global/webacl/edge/1"),
        "Imported": dist(WebACLId={"Fn::ImportValue": "EdgeAclArn"}),
        "Missing": dist(),
        "Empty": dist(WebACLId=""),
        "OffInDev": dist(WebACLId={"Fn::If": ["IsProd", "arn:acl", {"Ref": "AWS::NoValue"}]}),
        "OnInDev": dist(WebACLId={"Fn::If": ["IsDev", "arn:acl", {"Ref": "AWS::NoValue"}]}),
        "Unknown": dist(WebACLId={"Fn::If": ["Deploy", "arn:acl", {"Ref": "AWS::NoValue"}]}),
    }
    extra = {
        "Parameters": {"Env": {"Type": "String", "Default": "dev"}},
        "Conditions": {
            "IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
            "IsDev": {"Fn::Equals": [{"Ref": "Env"}, "dev"]},
            "Deploy": {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]},
        },
    }
    assert failing("PCI-WAF-002", resources, **extra) == {"Missing", "Empty", "OffInDev"}
    assert undecided("PCI-WAF-002", resources, **extra) == {"Unknown"}


def test_waf_003_load_balancer():
    def lb(**props):
        return {"Type": "AWS::ElasticLoadBalancingV2::LoadBalancer", "Properties": props}

    resources = {
        "Protected": lb(Scheme="internet-facing", Type="application"),
        "ProtectedAssoc": association({"Ref": "Protected"}),
        "Naked": lb(),
        "Internal": lb(Scheme="internal"),
        "Network": lb(Type="network"),
        "Param": lb(Scheme={"Ref": "Scheme"}),
    }
    params = {"Scheme": {"Type": "String"}}
    assert failing("PCI-WAF-003", resources, Parameters=params) == {"Naked"}
    assert undecided("PCI-WAF-003", resources, Parameters=params) == {"Param"}


def acl(rules):
    return {
        "Type": "AWS::WAFv2::WebACL",
        "Properties": {"DefaultAction": {"Allow": {}}, "Scope": "REGIONAL", "Rules": rules},
    }


def managed(name, override):
    return {
        "Name": name,
        "Priority": 0,
        "OverrideAction": {override: {}},
        "Statement": {
            "ManagedRuleGroupStatement": {
                "VendorName": "AWS",
                "Name": "AWSManagedRulesCommonRuleSet",
            }
        },
    }


def test_waf_004_rules():
    resources = {
        "Blocking": acl([managed("common", "None"), managed("sqli", "Count")]),
        "Empty": acl([]),
        "NoRules": {"Type": "AWS::WAFv2::WebACL", "Properties": {"DefaultAction": {"Allow": {}}}},
        "CountOnly": acl([managed("common", "Count"), {"Name": "ip", "Action": {"Count": {}}}]),
        "RateBlock": acl([{"Name": "rate", "Action": {"Block": {}}}]),
        "Conditional": acl({"Fn::If": ["Deploy", [managed("c", "None")], []]}),
    }
    conds = {"Deploy": {"Fn::Equals": [{"Ref": "AWS::Region"}, "eu-west-1"]}}
    assert failing("PCI-WAF-004", resources, Conditions=conds) == {"Empty", "NoRules", "CountOnly"}
    assert undecided("PCI-WAF-004", resources, Conditions=conds) == {"Conditional"}


def test_waf_005_logging():
    resources = {
        "Logged": acl([managed("common", "None")]),
        "Logging": {
            "Type": "AWS::WAFv2::LoggingConfiguration",
            "Properties": {
                "ResourceArn": {"Fn::GetAtt": ["Logged", "Arn"]},
                "LogDestinationConfigs": [{"Fn::GetAtt": ["WafLogs", "Arn"]}],
            },
        },
        "Silent": acl([managed("common", "None")]),
    }
    assert failing("PCI-WAF-005", resources) == {"Silent"}
