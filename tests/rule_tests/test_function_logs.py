"""COST-LOG-003: no Lambda function logs to a group that Lambda creates and never expires."""

from helpers import failing, template, undecided

from governance.engine import evaluate
from governance.policy import Policy
from governance.registry import get_rule


def function(**props):
    return {
        "Type": "AWS::Lambda::Function",
        "Properties": {"Runtime": "python3.13", "Handler": "h.main", "Code": {}, **props},
    }


def group(name, days=7):
    return {
        "Type": "AWS::Logs::LogGroup",
        "Properties": {"LogGroupName": name, "RetentionInDays": days},
    }


def test_log_003_implicit_function_log_group():
    resources = {
        "Configured": function(LoggingConfig={"LogGroup": {"Ref": "ConfiguredLogs"}}),
        "ConfiguredLogs": group("/app/configured"),
        "ConfiguredByName": function(LoggingConfig={"LogGroup": "/app/named"}),
        "NamedLogs": group("/app/named"),
        "DefaultGroup": function(),
        "DefaultGroupLogs": group({"Fn::Join": ["", ["/aws/lambda/", {"Ref": "DefaultGroup"}]]}),
        "Retention": function(),
        "RetentionSetting": {
            "Type": "Custom::LogRetention",
            "Properties": {
                "ServiceToken": {"Fn::GetAtt": ["LogRetentionHandler", "Arn"]},
                "LogGroupName": {"Fn::Sub": "/aws/lambda/${Retention}"},
                "RetentionInDays": 7,
            },
        },
        "LiteralName": function(FunctionName="refund-dev"),
        "LiteralNameLogs": group("/aws/lambda/refund-dev"),
        "Implicit": function(),
        "ImplicitNamed": function(FunctionName="payout-dev"),
        "OtherFunctionsGroup": group("/aws/lambda/someone-else"),
        "ForeignGroup": function(LoggingConfig={"LogGroup": "/shared/elsewhere"}),
        # CDK's own deploy-time handler: exempt, as in COST-LOG-001
        "CustomS3AutoDeleteObjectsCustomResourceProviderHandler9D90184F": function(),
    }
    assert failing("COST-LOG-003", resources) == {"Implicit", "ImplicitNamed"}
    assert undecided("COST-LOG-003", resources) == {"ForeignGroup"}


def test_log_003_log_group_in_another_stack_of_the_run():
    """A group declared in a sibling stack (exported, imported by the function) covers it."""
    logs = template({"Shared": group("/app/shared")})
    logs.name = "Logs"
    logs.body["Outputs"] = {
        "SharedName": {"Value": {"Ref": "Shared"}, "Export": {"Name": "shared-logs"}}
    }
    app = template(
        {
            "Imported": function(LoggingConfig={"LogGroup": {"Fn::ImportValue": "shared-logs"}}),
            "Alone": function(),
        }
    )
    result = evaluate(
        [logs, app], Policy(environment="dev", suffix="dev"), [get_rule("COST-LOG-003")]
    )
    assert {(f.stack, f.logical_id, f.undecidable) for f in result.findings} == {
        ("Test", "Alone", False)
    }
