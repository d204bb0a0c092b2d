"""DEPLOY-SHIELD-001 and DEPLOY-WAF-001: what Shield protects, where CLOUDFRONT scope lives."""

from deploy_support import run, stack


def protection(arn):
    return {"Type": "AWS::Shield::Protection", "Properties": {"Name": "p", "ResourceArn": arn}}


def test_shield_001_protectable_resources():
    dist_arn = {
        "Fn::Join": [
            "",
            ["arn:aws:cloudfront::", {"Ref": "AWS::AccountId"}, ":distribution/", {"Ref": "Dist"}],
        ]
    }
    resources = {
        "Dist": {"Type": "AWS::CloudFront::Distribution", "Properties": {}},
        "Alb": {
            "Type": "AWS::ElasticLoadBalancingV2::LoadBalancer",
            "Properties": {"Type": "application"},
        },
        "Nlb": {
            "Type": "AWS::ElasticLoadBalancingV2::LoadBalancer",
            "Properties": {"Type": "network"},
        },
        "Stage": {"Type": "AWS::ApiGateway::Stage", "Properties": {}},
        "OnDist": protection(dist_arn),
        "OnAlb": protection({"Ref": "Alb"}),
        "OnNlb": protection({"Ref": "Nlb"}),
        "OnStage": protection(
            {"Fn::Sub": "arn:aws:apigateway:us-east-1::/restapis/x/stages/${Stage}"}
        ),
        "OnZone": protection("arn:aws:route53:::hostedzone/Z123"),
        "OnEip": protection("arn:aws:ec2:us-east-1:111111111111:eip-allocation/eipalloc-1"),
        "OnLiteralNlb": protection("arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/net/n/1"),
        "OnClassic": protection("arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/classic"),
        "OnApiArn": protection("arn:aws:apigateway:us-east-1::/restapis/abc/stages/prod"),
        "OnParam": protection({"Ref": "Target"}),
    }
    failing, undecided = run(
        "DEPLOY-SHIELD-001", [stack("S", resources, Parameters={"Target": {"Type": "String"}})]
    )
    assert failing == {"OnNlb", "OnStage", "OnLiteralNlb", "OnApiArn"}
    assert undecided == {"OnParam"}


def acl(scope):
    return {
        "Type": "AWS::WAFv2::WebACL",
        "Properties": {"Scope": scope, "DefaultAction": {"Allow": {}}},
    }


def test_waf_001_cloudfront_scope_only_in_us_east_1():
    east = stack("East", {"EdgeAcl": acl("CLOUDFRONT"), "RegionalAcl": acl("REGIONAL")})
    west = stack(
        "West",
        {
            "WestEdgeAcl": acl("CLOUDFRONT"),
            "WestRegional": acl("REGIONAL"),
            "WestSet": {"Type": "AWS::WAFv2::IPSet", "Properties": {"Scope": "CLOUDFRONT"}},
        },
        region="us-west-2",
    )
    bare = stack(
        "Bare", {"BareEdgeAcl": acl("CLOUDFRONT"), "BareRegional": acl("REGIONAL")}, region=None
    )
    failing, undecided = run("DEPLOY-WAF-001", [east, west, bare])
    assert failing == {"WestEdgeAcl", "WestSet"}
    assert undecided == {"BareEdgeAcl"}


def test_waf_001_at_synth_time_the_region_comes_from_the_manifest(tmp_path):
    import json

    from governance.plugin import _stack_environments

    (tmp_path / "Edge.template.json").write_text("{}")
    manifest = {
        "artifacts": {
            "Edge": {
                "type": "aws:cloudformation:stack",
                "environment": "aws://111111111111/eu-west-1",
                "properties": {"templateFile": "Edge.template.json"},
            }
        }
    }
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    environments = _stack_environments(tmp_path)
    assert environments.get("Edge.template.json") == "aws://111111111111/eu-west-1"
    assert environments.get("Other.template.json") is None
