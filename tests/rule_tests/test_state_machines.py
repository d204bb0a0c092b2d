"""PCI-LOG-011: Step Functions state machines log their executions."""

from helpers import failing, undecided

DESTINATION = [{"CloudWatchLogsLogGroup": {"LogGroupArn": {"Fn::GetAtt": ["Logs", "Arn"]}}}]


def machine(logging=None):
    props = {"RoleArn": {"Fn::GetAtt": ["Role", "Arn"]}, "DefinitionString": "{}"}
    if logging is not None:
        props["LoggingConfiguration"] = logging
    return {"Type": "AWS::StepFunctions::StateMachine", "Properties": props}


def test_log_011_state_machine_logging():
    resources = {
        "All": machine(
            {"Level": "ALL", "IncludeExecutionData": False, "Destinations": DESTINATION}
        ),
        "Errors": machine({"Level": "ERROR", "Destinations": DESTINATION}),
        "NoConfig": machine(),
        "Off": machine({"Level": "OFF", "Destinations": DESTINATION}),
        "NoLevel": machine({"Destinations": DESTINATION}),
        "NoDestination": machine({"Level": "ALL"}),
        "ParamLevel": machine({"Level": {"Ref": "Level"}, "Destinations": DESTINATION}),
    }
    params = {"Level": {"Type": "String"}}
    assert failing("PCI-LOG-011", resources, Parameters=params) == {
        "NoConfig",
        "Off",
        "NoLevel",
        "NoDestination",
    }
    assert undecided("PCI-LOG-011", resources, Parameters=params) == {"ParamLevel"}
