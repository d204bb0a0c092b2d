"""HC-001: a health check never targets a route the checkers cannot call (API key, no GET)."""

from helpers import failing, undecided


def _check(path: object, host: object = None, kind: str = "HTTPS") -> dict:
    host = host or {"Fn::Join": ["", [{"Ref": "Api"}, ".execute-api.us-east-1.amazonaws.com"]]}
    return {
        "Type": "AWS::Route53::HealthCheck",
        "Properties": {
            "HealthCheckConfig": {
                "Type": kind,
                "ResourcePath": path,
                "FullyQualifiedDomainName": host,
            }
        },
    }


def _resource(part: str) -> dict:
    return {
        "Type": "AWS::ApiGateway::Resource",
        "Properties": {
            "RestApiId": {"Ref": "Api"},
            "ParentId": {"Fn::GetAtt": ["Api", "RootResourceId"]},
            "PathPart": part,
        },
    }


def _method(resource: str, verb: str, keyed: object) -> dict:
    return {
        "Type": "AWS::ApiGateway::Method",
        "Properties": {
            "RestApiId": {"Ref": "Api"},
            "ResourceId": {"Ref": resource},
            "HttpMethod": verb,
            "ApiKeyRequired": keyed,
        },
    }


RESOURCES = {
    "Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": {}},
    "Stage": {"Type": "AWS::ApiGateway::Stage", "Properties": {"RestApiId": {"Ref": "Api"}, "StageName": "prod"}},
    "Health": _resource("health"),
    "Process": _resource("process"),
    "Status": _resource("status"),
    "HealthGet": _method("Health", "GET", False),
    "ProcessPost": _method("Process", "POST", True),
    "StatusGet": _method("Status", "GET", True),
    "OnHealth": _check("/prod/health"),
    "OnProcess": _check("/prod/process"),  # the seed's own health check
    "OnKeyedGet": _check("/prod/status"),
    "OnUnknownPath": _check("/prod/elsewhere"),
    "OnOtherHost": _check("/prod/process", host="api.example.com"),
    "Tcp": _check("/prod/process", kind="TCP"),
    "PathFromParam": _check({"Ref": "P"}),
}  # fmt: skip
PARAMS = {"Parameters": {"P": {"Type": "String"}}}


def test_hc_001_exact_findings() -> None:
    assert failing("HC-001", RESOURCES, **PARAMS) == {"OnProcess", "OnKeyedGet"}
    assert undecided("HC-001", RESOURCES, **PARAMS) == {"PathFromParam"}
