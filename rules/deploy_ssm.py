"""Parameter Store parameters CloudFormation can create (deploy)."""

from __future__ import annotations

from collections.abc import Iterator

from governance.intrinsics import Unresolved, as_str
from governance.model import Category, Issue, Severity, undecidable, violation
from governance.policy import Policy
from governance.registry import rule
from governance.template import Resource

#: Values of ``Type`` and ``DataType`` that ``AWS::SSM::Parameter`` accepts.
PARAMETER_TYPES = ("String", "StringList")
DATA_TYPES = ("text", "aws:ec2:image", "aws:ssm:integration")


@rule(
    id="DEPLOY-SSM-001",
    slug="ssm-parameter-type-refused",
    title="SSM parameters use a Type and DataType CloudFormation accepts",
    severity=Severity.ERROR,
    resource_types=("AWS::SSM::Parameter",),
    category=Category.DEPLOY,
)
def ssm_parameter_type_refused(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """`Type` is `String` or `StringList`; `DataType`, when set, is one CloudFormation knows.

    Why:
        CloudFormation does not create `SecureString` parameters (nor any other type): the
        stack fails at that resource. A secret belongs in Secrets Manager, or a SecureString
        is created outside CloudFormation and referenced with a dynamic reference.
        AWS: AWS::SSM::Parameter, property Type,
        https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-ssm-parameter.html

    Fix:
        Use `String`/`StringList`, or a Secrets Manager secret for sensitive values.

    Example:
        ssm.StringParameter(self, "Param", parameter_name="/app/mode", string_value="live")
    """
    for prop, allowed in (("Type", PARAMETER_TYPES), ("DataType", DATA_TYPES)):
        value = as_str(resource.prop(prop), resource.template)
        if isinstance(value, Unresolved):
            yield undecidable(f"{prop} cannot be read: {value.reason}", f"Properties/{prop}")
        elif value is not None and value not in allowed:
            yield violation(
                f"{prop} {value!r} is not accepted by CloudFormation (allowed: "
                f"{', '.join(allowed)})",
                f"Properties/{prop}",
            )
