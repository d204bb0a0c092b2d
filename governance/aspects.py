"""CDK Aspects that enforce by changing: mandatory tags and destroyable stateful resources.

Both run with ``AspectPriority.MUTATING`` and change only what the policy asks: a tag key with no
configured value is left for the rules to report, and removal policies are flipped to
``DESTROY`` only when ``governance.destroy_stateful`` is true.
"""

from __future__ import annotations

import jsii
from aws_cdk import CfnResource, IAspect, RemovalPolicy
from constructs import IConstruct

from governance.policy import Policy

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
        if spec is not None:
            node.add_property_override(spec[0], spec[1])


def tag_values_to_apply(policy: Policy) -> dict[str, str]:
    """The mandatory tags that have a configured, non-empty value (others are reported)."""
    return {
        key: policy.tag_values[key]
        for key in policy.mandatory_tags
        if policy.tag_values.get(key, "").strip()
    }
