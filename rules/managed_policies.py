"""Managed policies only (PCI DSS 7.2.1, 7.2.5): the roles of the systems that ask for it carry
customer-managed policies, never inline ones.

A system opts in through the policy: ``thresholds.managed_policies_only_systems`` lists the
values of the ``thresholds.system_tag_key`` tag (``System``) whose roles are judged. The rule
reads the role's own tags, so it needs no knowledge of stacks or of CDK. The mapping to 7.2.1
and 7.2.5 is ours: a managed policy is a versioned, separately reviewable document that can be
listed and audited on its own, which is how "access assigned by least privilege" is shown for
application accounts.
"""

from __future__ import annotations

from collections.abc import Iterator

from governance.intrinsics import Unresolved
from governance.model import Category, Issue, Severity, undecidable, violation
from governance.policy import Policy
from governance.registry import rule
from governance.tags import resource_tags
from governance.template import Resource
from rules._support import as_list, unwrap

INLINE_TYPES = ("AWS::IAM::Policy", "AWS::IAM::RolePolicy")


def _system(role: Resource, policy: Policy) -> str | Unresolved | None:
    """The role's system tag value when that system is asked for managed policies only."""
    tags = resource_tags(role)
    if isinstance(tags, Unresolved):
        return tags
    value = (tags or {}).get(policy.thresholds.system_tag_key)
    if isinstance(value, Unresolved):
        return value
    return value if value in policy.thresholds.managed_policies_only_systems else None


def _roles(resource: Resource) -> Iterator[tuple[Resource, str]]:
    """The roles of this template an inline policy resource is attached to (a role imported
    from elsewhere carries its tags elsewhere, where it is judged)."""
    template = resource.template
    if resource.type == "AWS::IAM::RolePolicy":
        refs = [(resource.prop("RoleName"), "Properties/RoleName")]
    else:
        refs = [
            (ref, f"Properties/Roles/{i}")
            for i, ref in enumerate(as_list(unwrap(resource.prop("Roles"), template)))
        ]
    for ref, where in refs:
        role = template.get(ref)
        if role is not None and role.type == "AWS::IAM::Role":
            yield role, where


@rule(
    id="PCI-IAM-006",
    slug="role-with-inline-policy",
    title="Roles of systems asking for managed policies only have no inline policy",
    severity=Severity.ERROR,
    resource_types=("AWS::IAM::Role", *INLINE_TYPES),
    category=Category.PCI_IAM,
    pci=("7.2.1", "7.2.5"),
)
def role_with_inline_policy(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """A role tagged with a system of `thresholds.managed_policies_only_systems` has no inline
    policy: no `Policies` of its own, no `AWS::IAM::Policy` or `AWS::IAM::RolePolicy` on it.

    Why:
        AWS's IAM User Guide ("Managed policies and inline policies") recommends managed policies
        over inline ones: a managed policy is its own resource, versioned, reusable and listed
        on its own, so an auditor reviews each permission set once (PCI DSS 7.2.1, 7.2.5; our
        mapping). CDK's `grant_*` methods write inline `AWS::IAM::Policy` resources, so a system
        that promises managed policies only needs this checked, not hoped for.

    Fix:
        Give the role an `iam.ManagedPolicy` and add every statement to it; hand CDK the role
        as `role.without_policy_updates()` so no `grant_*` call adds an inline policy behind it.

    Example:
        policy = iam.ManagedPolicy(self, "Policy", statements=[...]); role = iam.Role(self, "Role", assumed_by=..., managed_policies=[policy])
    """
    if not policy.thresholds.managed_policies_only_systems:
        return
    if resource.type == "AWS::IAM::Role":
        if not as_list(unwrap(resource.prop("Policies"), resource.template)):
            return
        system = _system(resource, policy)
        if isinstance(system, Unresolved):
            yield undecidable(f"the role's tags cannot be read: {system.reason}", "Properties/Tags")
        elif system is not None:
            yield violation(
                f"role of system {system!r} has inline policies (Policies)", "Properties/Policies"
            )
        return
    for role, where in _roles(resource):
        system = _system(role, policy)
        if isinstance(system, Unresolved):
            yield undecidable(
                f"tags of role {role.logical_id} cannot be read: {system.reason}", where
            )
        elif system is not None:
            yield violation(f"inline policy on role {role.logical_id} of system {system!r}", where)
