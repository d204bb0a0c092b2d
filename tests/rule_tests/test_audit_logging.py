"""PCI-LOG-001..010: audit logging on every entry point, network and trail."""

from helpers import failing, undecided

LOGS = {"Fn::GetAtt": ["AccessLogs", "Arn"]}
CONDS = {"Deploy": {"Fn::Equals": [{"Ref": "AWS::Region"}, "eu-west-1"]}}
ALL_METHODS = {"HttpMethod": "*", "ResourcePath": "/*"}


def stage(**props):
    return {
        "Type": "AWS::ApiGateway::Stage",
        "Properties": {"RestApiId": {"Ref": "Api"}, "StageName": "prod", **props},
    }


def test_log_001_access_logs():
    resources = {
        "Logged": stage(AccessLogSetting={"DestinationArn": LOGS, "Format": "$context.requestId"}),
        "Unlogged": stage(),
        "HttpLogged": {
            "Type": "AWS::ApiGatewayV2::Stage",
            "Properties": {"ApiId": {"Ref": "Http"}, "AccessLogSettings": {"DestinationArn": LOGS}},
        },
        "HttpUnlogged": {
            "Type": "AWS::ApiGatewayV2::Stage",
            "Properties": {"ApiId": {"Ref": "Http"}},
        },
        "DeploymentOnly": {
            "Type": "AWS::ApiGateway::Deployment",
            "Properties": {"RestApiId": {"Ref": "Api"}},
        },
        "DeploymentStage": {
            "Type": "AWS::ApiGateway::Deployment",
            "Properties": {"RestApiId": {"Ref": "Api"}, "StageName": "v1"},
        },
        "Conditional": stage(
            AccessLogSetting={
                "DestinationArn": {"Fn::If": ["Deploy", LOGS, {"Ref": "AWS::NoValue"}]}
            }
        ),
    }
    assert failing("PCI-LOG-001", resources, Conditions=CONDS) == {
        "Unlogged",
        "HttpUnlogged",
        "DeploymentStage",
    }
    assert undecided("PCI-LOG-001", resources, Conditions=CONDS) == {"Conditional"}


def test_log_002_execution_logging():
    resources = {
        "Info": stage(MethodSettings=[{**ALL_METHODS, "LoggingLevel": "INFO"}]),
        "Error": stage(MethodSettings=[{**ALL_METHODS, "LoggingLevel": "ERROR"}]),
        "Off": stage(MethodSettings=[{**ALL_METHODS, "LoggingLevel": "OFF"}]),
        "OneMethod": stage(
            MethodSettings=[{"HttpMethod": "GET", "ResourcePath": "/~1pay", "LoggingLevel": "INFO"}]
        ),
        "None": stage(),
        "Param": stage(MethodSettings=[{**ALL_METHODS, "LoggingLevel": {"Ref": "Level"}}]),
        "HttpApi": {"Type": "AWS::ApiGatewayV2::Api", "Properties": {"ProtocolType": "HTTP"}},
        "HttpStage": {
            "Type": "AWS::ApiGatewayV2::Stage",
            "Properties": {"ApiId": {"Ref": "HttpApi"}},
        },
        "Ws": {"Type": "AWS::ApiGatewayV2::Api", "Properties": {"ProtocolType": "WEBSOCKET"}},
        "WsStage": {"Type": "AWS::ApiGatewayV2::Stage", "Properties": {"ApiId": {"Ref": "Ws"}}},
        "WsLogged": {
            "Type": "AWS::ApiGatewayV2::Stage",
            "Properties": {
                "ApiId": {"Ref": "Ws"},
                "DefaultRouteSettings": {"LoggingLevel": "INFO"},
            },
        },
    }
    params = {"Level": {"Type": "String"}}
    assert failing("PCI-LOG-002", resources, Parameters=params) == {
        "Off",
        "OneMethod",
        "None",
        "WsStage",
    }
    assert undecided("PCI-LOG-002", resources, Parameters=params) == {"Param"}


def test_log_003_tracing():
    resources = {
        "Traced": stage(TracingEnabled=True),
        "StringTrue": stage(TracingEnabled="true"),
        "Untraced": stage(),
        "Off": stage(TracingEnabled=False),
        "Conditional": stage(TracingEnabled={"Fn::If": ["Deploy", True, False]}),
    }
    assert failing("PCI-LOG-003", resources, Conditions=CONDS) == {"Untraced", "Off"}
    assert undecided("PCI-LOG-003", resources, Conditions=CONDS) == {"Conditional"}


def test_log_004_load_balancer_access_logs():
    def lb(*attrs, **props):
        return {
            "Type": "AWS::ElasticLoadBalancingV2::LoadBalancer",
            "Properties": {
                "LoadBalancerAttributes": [{"Key": k, "Value": v} for k, v in attrs],
                **props,
            },
        }

    resources = {
        "Logged": lb(("access_logs.s3.enabled", "true"), ("access_logs.s3.bucket", {"Ref": "B"})),
        "Disabled": lb(("access_logs.s3.enabled", "false")),
        "Missing": lb(("deletion_protection.enabled", "false")),
        "Nlb": lb(Type="network"),
        "Gateway": lb(Type="gateway"),
        "Param": lb(("access_logs.s3.enabled", {"Ref": "On"})),
    }
    params = {"On": {"Type": "String"}}
    assert failing("PCI-LOG-004", resources, Parameters=params) == {"Disabled", "Missing"}
    assert undecided("PCI-LOG-004", resources, Parameters=params) == {"Param"}


def test_log_005_distribution_access_logs():
    def dist(**config):
        return {
            "Type": "AWS::CloudFront::Distribution",
            "Properties": {"DistributionConfig": {"Enabled": True, **config}},
        }

    resources = {
        "Standard": dist(Logging={"Bucket": {"Fn::GetAtt": ["Logs", "RegionalDomainName"]}}),
        "V2": dist(),
        "V2Source": {
            "Type": "AWS::Logs::DeliverySource",
            "Properties": {
                "LogType": "ACCESS_LOGS",
                "ResourceArn": {
                    "Fn::Join": ["", ["arn:aws:cloudfront::1:distribution/", {"Ref": "V2"}]]
                },
            },
        },
        "Unlogged": dist(),
        "Conditional": dist(
            Logging={"Fn::If": ["Deploy", {"Bucket": "b"}, {"Ref": "AWS::NoValue"}]}
        ),
    }
    assert failing("PCI-LOG-005", resources, Conditions=CONDS) == {"Unlogged"}
    assert undecided("PCI-LOG-005", resources, Conditions=CONDS) == {"Conditional"}


def test_log_006_flow_logs():
    resources = {
        "Watched": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.0.0.0/16"}},
        "Flow": {
            "Type": "AWS::EC2::FlowLog",
            "Properties": {
                "ResourceId": {"Ref": "Watched"},
                "ResourceType": "VPC",
                "TrafficType": "ALL",
                "LogGroupName": {"Ref": "FlowLogs"},
            },
        },
        "Unwatched": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.1.0.0/16"}},
    }
    assert failing("PCI-LOG-006", resources) == {"Unwatched"}


def trail(**props):
    base = {
        "IsLogging": True,
        "S3BucketName": {"Ref": "TrailBucket"},
        "EnableLogFileValidation": True,
        "IsMultiRegionTrail": True,
    }
    return {"Type": "AWS::CloudTrail::Trail", "Properties": {**base, **props}}


def test_log_007_to_009_trail():
    resources = {
        "Good": trail(),
        "NoValidation": trail(EnableLogFileValidation=False),
        "SingleRegion": trail(IsMultiRegionTrail=False),
        "Stopped": trail(IsLogging=False),
        "Param": trail(
            EnableLogFileValidation={"Ref": "P"},
            IsMultiRegionTrail={"Ref": "P"},
            IsLogging={"Ref": "P"},
        ),
    }
    params = {"P": {"Type": "String"}}
    assert failing("PCI-LOG-007", resources, Parameters=params) == {"NoValidation"}
    assert failing("PCI-LOG-008", resources, Parameters=params) == {"SingleRegion"}
    assert failing("PCI-LOG-009", resources, Parameters=params) == {"Stopped"}
    for rule_id in ("PCI-LOG-007", "PCI-LOG-008", "PCI-LOG-009"):
        assert undecided(rule_id, resources, Parameters=params) == {"Param"}, rule_id
    # CloudFormation's defaults: validation off and single region when the property is absent
    bare = {"Bare": {"Type": "AWS::CloudTrail::Trail", "Properties": {"IsLogging": True}}}
    assert failing("PCI-LOG-007", bare) == {"Bare"}
    assert failing("PCI-LOG-008", bare) == {"Bare"}


def test_log_010_container_logs():
    def task(*containers):
        return {
            "Type": "AWS::ECS::TaskDefinition",
            "Properties": {"ContainerDefinitions": list(containers)},
        }

    awslogs = {"LogDriver": "awslogs", "Options": {"awslogs-group": {"Ref": "G"}}}
    resources = {
        "Logged": task({"Name": "app", "LogConfiguration": awslogs}),
        "Sidecar": task({"Name": "app", "LogConfiguration": awslogs}, {"Name": "xray-daemon"}),
    }
    assert failing("PCI-LOG-010", resources) == {"Sidecar"}
