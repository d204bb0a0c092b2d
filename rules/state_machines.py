"""Step Functions (PCI DSS 10.2.1): every state machine logs its executions to CloudWatch Logs.

A state machine without a logging configuration keeps only the execution history Step Functions
holds for 90 days, outside the log groups that audit retention and encryption rules govern. The
mapping to 10.2.1 (audit logs enabled for system components) is ours.
"""

from __future__ import annotations

from collections.abc import Iterator

from governance.intrinsics import Unresolved, as_str
from governance.model import Category, Issue, Severity, undecidable, violation
from governance.policy import Policy
from governance.registry import rule
from governance.template import Resource
from rules._cost_support import is_deploy_time_handler
from rules._support import as_list, pick_branch


def _deploy_time_waiter(resource: Resource) -> bool:
    """The state machine of CDK's custom-resource `Provider` framework (`is_complete_handler`).

    Recognised by what it is: a function that backs a custom resource (a deploy-time handler)
    refers to it, so it runs only while CloudFormation deploys, and CloudFormation's events
    record each run.
    """
    return any(
        is_deploy_time_handler(user)
        for user in resource.template.referrers(resource.logical_id, "AWS::Lambda::Function")
    )


@rule(
    id="PCI-LOG-011",
    slug="state-machine-without-logging",
    title="Step Functions state machines log their executions",
    severity=Severity.ERROR,
    resource_types=("AWS::StepFunctions::StateMachine",),
    category=Category.PCI_LOGGING,
    pci=("10.2.1",),
)
def state_machine_without_logging(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """`LoggingConfiguration` has a `Level` other than `OFF` and a CloudWatch Logs destination.

    Why:
        Without `LoggingConfiguration` (or with `Level: OFF`, the default) a state machine
        writes nothing to CloudWatch Logs: there is no record of which executions ran, failed
        or were aborted beyond the console's history ("Logging in CloudWatch Logs", AWS Step
        Functions Developer Guide,
        https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html). A level without a
        destination is refused by the service. `ERROR` and `FATAL` are accepted; `ALL` also
        records each state's input and output where `IncludeExecutionData` is set, which
        may carry card data, so the level is the application's choice. The waiter state
        machine of CDK's custom-resource provider framework, which a deploy-time handler
        starts, is not judged.

    Fix:
        `sfn.StateMachine(..., logs=sfn.LogOptions(destination=log_group,
        level=sfn.LogLevel.ERROR))` with a log group that has retention and a key.

    Example:
        sfn.StateMachine(self, "Settlement", definition_body=body, logs=sfn.LogOptions(destination=settlement_logs, level=sfn.LogLevel.ALL))
    """
    if _deploy_time_waiter(resource):
        return
    template = resource.template
    where = "Properties/LoggingConfiguration"
    config = pick_branch(resource.prop("LoggingConfiguration"), template)
    if isinstance(config, Unresolved):
        yield undecidable(f"LoggingConfiguration cannot be read: {config.reason}", where)
        return
    if not isinstance(config, dict):
        yield violation("the state machine logs nothing (no LoggingConfiguration)", where)
        return
    level = as_str(config.get("Level"), template)
    if isinstance(level, Unresolved):
        yield undecidable(f"Level cannot be read: {level.reason}", f"{where}/Level")
        return
    if level is None or level.upper() == "OFF":
        yield violation("the state machine logs nothing (Level is OFF)", f"{where}/Level")
        return
    destinations = pick_branch(config.get("Destinations"), template)
    if isinstance(destinations, Unresolved):
        yield undecidable(
            f"Destinations cannot be read: {destinations.reason}", f"{where}/Destinations"
        )
    elif not as_list(destinations):
        yield violation(
            f"Level is {level} but no log group is named (Destinations is empty)",
            f"{where}/Destinations",
        )
