"""Function log groups (PCI DSS 3.2.1): no Lambda function writes to a log group nobody declared.

Lambda creates `/aws/lambda/<function name>` on the first invocation when no log group of that
name exists, and a group created that way never expires: COST-LOG-001 cannot see it, because it
is in no template. A function is covered when a log group or CDK's `Custom::LogRetention` in one
of the stacks judged together is its log group: the one `LoggingConfig.LogGroup` names, or the
one whose name refers to the function or spells `/aws/lambda/<FunctionName>`. That group's
retention is then COST-LOG-001's to judge. CDK's deploy-time handlers are exempt, as there.
"""

from __future__ import annotations

from collections.abc import Iterator

from governance.intrinsics import as_str
from governance.model import Category, Issue, Severity, undecidable, violation
from governance.policy import Policy
from governance.registry import rule
from governance.template import Resource, Template
from rules._cost_support import is_deploy_time_handler
from rules._support import memo, referrers_anywhere

LOG_TYPES = ("AWS::Logs::LogGroup", "Custom::LogRetention")
DEFAULT_PREFIX = "/aws/lambda/"


def _declared_names(template: Template) -> frozenset[str]:
    """Literal `LogGroupName`s of the log groups (and log-retention resources) of the run."""
    names: set[str] = set()
    for tpl in getattr(template, "siblings", None) or [template]:
        for kind in LOG_TYPES:
            for group in tpl.of_type(kind):
                name = as_str(group.prop("LogGroupName"), tpl)
                if isinstance(name, str):
                    names.add(name)
    return frozenset(names)


def _configured_functions(template: Template) -> frozenset[tuple[str, str]]:
    """(stack, logical id) of the functions whose `LoggingConfig` refers to a run's log group."""
    found: set[tuple[str, str]] = set()
    for tpl in getattr(template, "siblings", None) or [template]:
        for group in tpl.of_type("AWS::Logs::LogGroup"):
            for user in referrers_anywhere(
                group, "AWS::Lambda::Function", "Properties/LoggingConfig"
            ):
                found.add((user.template.name, user.logical_id))
    return frozenset(found)


def _named_by_logging_config(function: Resource) -> bool:
    """A log group of the run is the one the function's `LoggingConfig.LogGroup` points at."""
    target = function.template.get(function.prop("LoggingConfig", "LogGroup"))
    if target is not None and target.type in LOG_TYPES:
        return True
    configured = memo(function.template, "logging-config-functions", _configured_functions)
    return (function.template.name, function.logical_id) in configured


@rule(
    id="COST-LOG-003",
    slug="implicit-function-log-group",
    title="Every Lambda function's log group is declared (so it can expire)",
    severity=Severity.ERROR,
    resource_types=("AWS::Lambda::Function",),
    category=Category.COST,
    pci=("3.2.1",),
)
def implicit_function_log_group(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """A log group with retention is declared for the function, or named by its `LoggingConfig`.

    Why:
        Without one, Lambda creates `/aws/lambda/<name>` itself at the first invocation, with
        retention "Never expire", so the storage bill only grows and nothing is ever disposed
        of (PCI DSS 3.2.1, as for COST-LOG-001). The group is in no template, so no other rule
        sees it ("Sending Lambda function logs to CloudWatch Logs", AWS Lambda Developer
        Guide, https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html).
        A `LoggingConfig.LogGroup` naming a group that is not in the templates judged is
        reported as undecidable: its retention cannot be read.

    Fix:
        Declare the group and hand it to the function: `lambda_.Function(...,
        log_group=logs.LogGroup(self, "Logs", retention=logs.RetentionDays.ONE_WEEK))`.

    Example:
        lambda_.Function(self, "Refund", ..., log_group=logs.LogGroup(self, "RefundLogs", retention=logs.RetentionDays.ONE_MONTH))
    """
    if is_deploy_time_handler(resource):
        return
    template = resource.template
    declared = memo(template, "declared-log-group-names", _declared_names)
    configured = resource.prop("LoggingConfig", "LogGroup")
    if configured is not None:
        if _named_by_logging_config(resource):
            return
        name = as_str(configured, template)
        if isinstance(name, str) and name in declared:
            return
        shown = name if isinstance(name, str) else "its log group"
        yield undecidable(
            f"LoggingConfig names {shown}, which no template judged here declares",
            "Properties/LoggingConfig/LogGroup",
        )
        return
    for kind in LOG_TYPES:
        if referrers_anywhere(resource, kind, "Properties/LogGroupName"):
            return
    function_name = as_str(resource.prop("FunctionName"), template)
    if isinstance(function_name, str) and DEFAULT_PREFIX + function_name in declared:
        return
    group = DEFAULT_PREFIX + (
        function_name if isinstance(function_name, str) else "<generated name>"
    )
    yield violation(
        f"no log group is declared for the function: Lambda creates {group} and it never expires",
        "Properties/LoggingConfig",
    )
