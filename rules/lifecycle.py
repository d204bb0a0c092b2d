"""Lifecycle rules: every resource can be destroyed with its stack (no retained data, no locks)."""

from __future__ import annotations

from collections.abc import Iterator

from governance.intrinsics import Unresolved, as_bool, as_str, resolve
from governance.model import Category, Issue, Severity, undecidable, violation
from governance.policy import Policy
from governance.registry import rule
from governance.template import Resource
from rules._support import entries

RETAINING = ("Retain", "RetainExceptOnCreate")


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

    Fix:
        `resource.apply_removal_policy(RemovalPolicy.DESTROY)`, or let the platform's
        configuration opt in to `governance.destroy_stateful` so the Aspect does it.

    Example:
        s3.Bucket(self, "Audit", removal_policy=RemovalPolicy.DESTROY, auto_delete_objects=True)
    """
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

    Fix:
        `resource.apply_removal_policy(RemovalPolicy.DESTROY)` sets both policies.

    Example:
        table.apply_removal_policy(RemovalPolicy.DESTROY)
    """
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

    Fix:
        Remove `deletion_protection=True` (or set it from configuration only where a human
        process owns the delete).

    Example:
        rds.DatabaseCluster(self, "Db", deletion_protection=False, ...)
    """
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
