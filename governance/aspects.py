"""CDK Aspects that enforce by changing: mandatory tags and destroyable stateful resources.

Both run with ``AspectPriority.MUTATING`` and change only what the policy asks: a tag key with no
configured value is left for the rules to report, and removal policies are flipped to
``DESTROY`` only when ``governance.destroy_stateful`` is true.
"""

from __future__ import annotations

import jsii
from aws_cdk import CfnResource, IAspect, RemovalPolicy, TagManager
from constructs import IConstruct

from governance.policy import Policy
from governance.tags import taggable_types

#: CloudFormation type -> (property, value that turns deletion protection off)
_UNPROTECT: dict[str, tuple[str, object]] = {
    "AWS::RDS::DBCluster": ("DeletionProtection", False),
    "AWS::RDS::DBInstance": ("DeletionProtection", False),
    "AWS::DocDB::DBCluster": ("DeletionProtection", False),
    "AWS::Neptune::DBCluster": ("DeletionProtection", False),
    "AWS::DynamoDB::Table": ("DeletionProtectionEnabled", False),
    "AWS::Logs::LogGroup": ("DeletionProtectionEnabled", False),
    "AWS::EC2::Instance": ("DisableApiTermination", False),
    "AWS::Cognito::UserPool": ("DeletionProtection", "INACTIVE"),
}


@jsii.implements(IAspect)
class DestroyableAspect:
    """Sets ``RemovalPolicy.DESTROY`` and turns deletion protection off, resource by resource."""

    def visit(self, node: IConstruct) -> None:
        if not isinstance(node, CfnResource):
            return
        node.apply_removal_policy(RemovalPolicy.DESTROY)
        spec = _UNPROTECT.get(node.cfn_resource_type)
        if spec is not None and not _cluster_member(node):
            node.add_property_override(spec[0], spec[1])


def _cluster_member(node: CfnResource) -> bool:
    """An RDS instance of an Aurora (or Multi-AZ) cluster: its deletion protection is the
    cluster's, and CloudFormation refuses ``DeletionProtection`` on the instance itself."""
    if node.cfn_resource_type != "AWS::RDS::DBInstance":
        return False
    member = getattr(node, "db_cluster_identifier", None)
    if member is None:
        props = jsii.get(node, "cfnProperties") or {}
        member = props.get("DBClusterIdentifier") or props.get("dbClusterIdentifier")
    return member is not None


@jsii.implements(IAspect)
class RawResourceTagAspect:
    """Tags raw ``CfnResource`` objects of taggable types, which CDK's ``Tag`` cannot reach.

    CDK declares some of its own resources (custom-resource provider roles and handlers, for
    example) as plain ``CfnResource``: they have no tag manager, so ``Tags.of()`` skips them.
    This Aspect merges the configured tags into their tag property; keys already set win.
    """

    def __init__(self, tags: dict[str, str]) -> None:
        self._tags = dict(tags)

    def visit(self, node: IConstruct) -> None:
        if not isinstance(node, CfnResource) or TagManager.is_taggable(node):
            return
        info = taggable_types().get(node.cfn_resource_type)
        if info is None:
            return
        props = jsii.get(node, "cfnProperties") or {}
        current = props.get(info["property"])
        if current is None:
            current = [] if info["shape"] == "list" else {}
        if isinstance(current, list):
            present = {t.get("Key") for t in current if isinstance(t, dict)}
            extra = [
                {"Key": k, "Value": v} for k, v in sorted(self._tags.items()) if k not in present
            ]
            merged: object = [*current, *extra] if extra else None
        elif isinstance(current, dict) and not any(
            str(k).startswith("Fn::") or k == "Ref" for k in current
        ):
            extra_map = {k: v for k, v in self._tags.items() if k not in current}
            merged = {**current, **extra_map} if extra_map else None
        else:
            merged = None  # tags computed at deploy time: leave them, the rules will judge
        if merged is not None:
            node.add_property_override(info["property"], merged)


def tag_values_to_apply(policy: Policy) -> dict[str, str]:
    """The mandatory tags that have a configured, non-empty value (others are reported)."""
    return {
        key: policy.tag_values[key]
        for key in policy.mandatory_tags
        if policy.tag_values.get(key, "").strip()
    }
