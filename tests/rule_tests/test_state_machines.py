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


def test_log_011_spares_cdks_provider_waiter_only():
    """The waiter of `cr.Provider(is_complete_handler=...)`, as CDK writes it, is not judged."""
    import aws_cdk as cdk
    from aws_cdk import assertions
    from aws_cdk import aws_lambda as lambda_
    from aws_cdk import aws_stepfunctions as sfn
    from aws_cdk import custom_resources as cr

    from governance.engine import evaluate
    from governance.policy import Policy
    from governance.registry import get_rule
    from governance.template import Template

    stack = cdk.Stack(cdk.App(), "P")
    code = lambda_.Code.from_inline("def h(event, context):\n    return {}")

    def fn(name):
        return lambda_.Function(
            stack, name, runtime=lambda_.Runtime.PYTHON_3_13, handler="index.h", code=code
        )

    provider = cr.Provider(
        stack, "Provider", on_event_handler=fn("OnEvent"), is_complete_handler=fn("IsComplete")
    )
    cdk.CustomResource(stack, "Resource", service_token=provider.service_token)
    sfn.StateMachine(
        stack, "Workflow", definition_body=sfn.DefinitionBody.from_chainable(sfn.Pass(stack, "P0"))
    )
    body = assertions.Template.from_stack(stack).to_json()
    machines = {
        k
        for k, r in body["Resources"].items()
        if r["Type"] == sfn.CfnStateMachine.CFN_RESOURCE_TYPE_NAME
    }
    assert len(machines) == 2  # the provider's waiter and the application's workflow
    template = Template(name="P", path="P.template.json", body=body)
    found = evaluate([template], Policy(), [get_rule("PCI-LOG-011")]).findings
    assert {f.logical_id for f in found} == {k for k in machines if k.startswith("Workflow")}
