"""Lifecycle rules: every resource can be destroyed with its stack (no retained data, no locks)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from governance.cdknag import active_conflicts, conflict_winner
from governance.intrinsics import Unresolved, as_bool, as_str, resolve
from governance.model import Category, Issue, Severity, undecidable, violation
from governance.policy import Policy
from governance.registry import rule
from governance.template import Resource
from rules._support import entries, referrers_anywhere

RETAINING = ("Retain", "RetainExceptOnCreate")


def _regional_logging_role(resource: Resource) -> bool:
    """True for API Gateway's account setting, and for the role an account setting points at.

    `AWS::ApiGateway::Account` is one setting per account and region: the CloudWatch role every
    REST API of the region logs through. CDK's `RestApi(cloud_watch_role=True)` creates it and
    its role retained, because deleting them with one stack silences the logs of every other
    API in the region. Recognised by type and by reference, whatever the names.
    """
    if resource.type == "AWS::ApiGateway::Account":
        return True
    if resource.type != "AWS::IAM::Role":
        return False
    return bool(
        referrers_anywhere(resource, "AWS::ApiGateway::Account", "Properties/CloudWatchRoleArn")
    )


def _policy_issue(value: object, attribute: str, resource: Resource) -> Iterator[Issue]:
    if value is None:
        return
    text = as_str(value, resource.template)
    if isinstance(text, Unresolved):
        yield undecidable(f"{attribute} cannot be read: {text.reason}", attribute)
    elif text in RETAINING:
        yield violation(f"{attribute} is {text}: the resource outlives its stack", attribute)


@rule(
    id="LIFE-001",
    slug="retained-on-delete",
    title="No Retain deletion policy",
    severity=Severity.ERROR,
    resource_types=("*",),
    category=Category.LIFECYCLE,
)
def retained_on_delete(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """The resource has no `Retain` or `RetainExceptOnCreate` deletion policy.

    Why:
        A retained resource survives `cdk destroy`: it keeps costing money, keeps data nobody
        owns any more, and blocks the next deployment of the same name.

        API Gateway's regional account setting (`AWS::ApiGateway::Account`) and the CloudWatch
        role it points at are not judged: they are shared by every REST API of the region, and
        deleting them with one stack would stop the others' logging (AWS documents the setting
        as per-region: "Set up CloudWatch API logging using the API Gateway console",
        https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html).

    Fix:
        `resource.apply_removal_policy(RemovalPolicy.DESTROY)`, or let the platform's
        configuration opt in to `governance.destroy_stateful` so the Aspect does it.

    Example:
        s3.Bucket(self, "Audit", removal_policy=RemovalPolicy.DESTROY, auto_delete_objects=True)
    """
    if _regional_logging_role(resource):
        return
    yield from _policy_issue(resource.deletion_policy, "DeletionPolicy", resource)


@rule(
    id="LIFE-002",
    slug="retained-on-replace",
    title="No Retain update-replace policy",
    severity=Severity.ERROR,
    resource_types=("*",),
    category=Category.LIFECYCLE,
)
def retained_on_replace(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """The resource has no `Retain` or `RetainExceptOnCreate` update-replace policy.

    Why:
        On replacement CloudFormation leaves the old resource behind, orphaned and billed.
        API Gateway's regional account setting and its CloudWatch role are not judged, as for
        LIFE-001 (https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html).

    Fix:
        `resource.apply_removal_policy(RemovalPolicy.DESTROY)` sets both policies.

    Example:
        table.apply_removal_policy(RemovalPolicy.DESTROY)
    """
    if _regional_logging_role(resource):
        return
    yield from _policy_issue(resource.update_replace_policy, "UpdateReplacePolicy", resource)


#: type -> (property path, value that means "protected")
DELETION_PROTECTION: dict[str, tuple[tuple[str, ...], object]] = {
    "AWS::RDS::DBCluster": (("DeletionProtection",), True),
    "AWS::RDS::DBInstance": (("DeletionProtection",), True),
    "AWS::DocDB::DBCluster": (("DeletionProtection",), True),
    "AWS::Neptune::DBCluster": (("DeletionProtection",), True),
    "AWS::DynamoDB::Table": (("DeletionProtectionEnabled",), True),
    "AWS::Logs::LogGroup": (("DeletionProtectionEnabled",), True),
    "AWS::EC2::Instance": (("DisableApiTermination",), True),
    "AWS::Cognito::UserPool": (("DeletionProtection",), "ACTIVE"),
}


@rule(
    id="LIFE-003",
    slug="deletion-protection-enabled",
    title="No deletion protection",
    severity=Severity.ERROR,
    resource_types=(
        *DELETION_PROTECTION,
        "AWS::DynamoDB::GlobalTable",
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
    ),
    category=Category.LIFECYCLE,
)
def deletion_protection_enabled(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """The resource is not protected against deletion.

    Why:
        Deletion protection makes `cdk destroy` fail half-way, leaving a partly deleted
        environment that someone must clean up by hand.

        cdk-nag's AwsSolutions-RDS10 and EC29 (and the HIPAA and NIST packs' deletion-protection
        rules) require the opposite; with such a pack on, `governance.conflicts.deletion_protection`
        says which wins: `govern` acknowledges the cdk-nag rules once for the whole app,
        `cdk-nag` stops this rule on the resource types those rules judge (CloudFormation's
        `DeletionProtection` in "AWS::RDS::DBCluster",
        https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-rds-dbcluster.html).

    Fix:
        Remove `deletion_protection=True` (or set it from configuration only where a human
        process owns the delete).

    Example:
        rds.DatabaseCluster(self, "Db", deletion_protection=False, ...)
    """
    conflicts = active_conflicts(policy, "LIFE-003", resource.type)
    winner = conflict_winner(policy, "deletion_protection") if conflicts else None
    if winner == "cdk-nag":
        return
    if conflicts and winner is None:
        names = ", ".join(c.nag_rule for c in conflicts)
        for issue in _protection_issues(resource):
            yield dataclasses.replace(
                issue,
                message=f"{issue.message}; {names} asks for it: set "
                "governance.conflicts.deletion_protection to govern or cdk-nag",
            )
        return
    yield from _protection_issues(resource)


def _protection_issues(resource: Resource) -> Iterator[Issue]:
    t = resource.template
    if resource.type == "AWS::DynamoDB::GlobalTable":
        for i, replica in entries(resource.prop("Replicas")):
            yield from _flag(
                replica.get("DeletionProtectionEnabled"),
                True,
                f"Properties/Replicas/{i}/DeletionProtectionEnabled",
                resource,
            )
        return
    if resource.type == "AWS::ElasticLoadBalancingV2::LoadBalancer":
        for i, attr in entries(resource.prop("LoadBalancerAttributes")):
            if resolve(attr.get("Key"), t) == "deletion_protection.enabled":
                yield from _flag(
                    attr.get("Value"),
                    "true",
                    f"Properties/LoadBalancerAttributes/{i}/Value",
                    resource,
                )
        return
    path, protected = DELETION_PROTECTION[resource.type]
    yield from _flag(resource.prop(*path), protected, "Properties/" + "/".join(path), resource)


def _flag(value: object, protected: object, where: str, resource: Resource) -> Iterator[Issue]:
    if value is None:
        return
    if isinstance(protected, bool) or protected == "true":
        decided = as_bool(value, resource.template)
        expected = True
    else:
        decided = as_str(value, resource.template)
        expected = protected
    if isinstance(decided, Unresolved):
        yield undecidable(f"deletion protection cannot be read: {decided.reason}", where)
    elif decided == expected:
        yield violation("deletion protection is enabled", where)
