"""Lambda environment encryption (PCI DSS 3.5.1, 3.6.1): variables under a key we manage.

Lambda encrypts every function's environment variables at rest; without `KmsKeyArn` it uses the
AWS-managed `aws/lambda` key, whose policy and rotation the account does not control. A policy
that sets `thresholds.lambda_environment_key` to `customer_managed` asks for a customer-managed
key on every function that has variables. The mapping to 3.5.1 and 3.6.1 is ours: variables hold
table, bucket and key names, the configuration an attacker reads first.
"""

from __future__ import annotations

from collections.abc import Iterator

from governance.intrinsics import Unresolved, as_str, resolve
from governance.model import Category, Issue, Severity, undecidable, violation
from governance.policy import Policy
from governance.registry import rule
from governance.template import Resource


@rule(
    id="ENC-LAMBDA-001",
    slug="function-environment-without-cmk",
    title="Lambda environment variables encrypted with a customer-managed key",
    severity=Severity.ERROR,
    resource_types=("AWS::Lambda::Function",),
    category=Category.ENCRYPTION,
    pci=("3.5.1", "3.6.1"),
    checkov=("CKV_AWS_173",),
)
def function_environment_without_cmk(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """A function with environment variables sets `KmsKeyArn` (when the policy asks for it).

    Why:
        Without `KmsKeyArn` Lambda encrypts the variables with the AWS-managed `aws/lambda` key:
        anyone allowed to read the function's configuration reads them, and the key's policy
        and rotation are not ours (PCI DSS 3.5.1, 3.6.1; the mapping is ours).

    Fix:
        `environment_encryption=key` on the function, with a key of the function's region.

    Example:
        lambda_.Function(self, "Processor", environment={"TABLE_NAME": name}, environment_encryption=function_key, ...)
    """
    if policy.thresholds.lambda_environment_key != "customer_managed":
        return
    variables = resolve(resource.prop("Environment", "Variables"), resource.template)
    if isinstance(variables, Unresolved):
        yield undecidable(
            f"environment variables cannot be read: {variables.reason}",
            "Properties/Environment/Variables",
        )
        return
    if not variables:
        return  # nothing to encrypt
    key = resource.prop("KmsKeyArn")
    if key is None:
        yield violation(
            "environment variables are encrypted with the AWS-managed aws/lambda key",
            "Properties/KmsKeyArn",
        )
        return
    text = as_str(key, resource.template)
    if isinstance(text, str) and ":alias/aws/" in text:
        yield violation(f"KmsKeyArn is the AWS-managed key {text}", "Properties/KmsKeyArn")
