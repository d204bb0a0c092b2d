"""Supported runtimes (PCI DSS 6.3.3, 12.3.4): functions run on runtimes that still get patches.

The deprecated runtimes are the policy's ``thresholds.deprecated_runtimes``. AWS maps the Lambda
runtime allow-list to 6.3.3 (Config pack) and Lambda.2 to 12.3.4 (Security Hub).
"""

from __future__ import annotations

from collections.abc import Iterator

from governance.intrinsics import Unresolved, as_str
from governance.model import Category, Issue, Severity, undecidable, violation
from governance.policy import Policy
from governance.registry import rule
from governance.template import Resource


@rule(
    id="PCI-RT-001",
    slug="deprecated-lambda-runtime",
    title="Lambda functions use a supported runtime",
    severity=Severity.ERROR,
    resource_types=("AWS::Lambda::Function",),
    category=Category.PCI_RUNTIME,
    pci=("6.3.3", "12.3.4"),
    checkov=("CKV_AWS_363",),
)
def deprecated_lambda_runtime(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """The function's `Runtime` is not in `thresholds.deprecated_runtimes`.

    Why:
        A deprecated runtime gets no security patches: known vulnerabilities in the language
        runtime stay open (PCI DSS 6.3.3), and the technology is past its end of life (12.3.4).
        Container-image functions have no `Runtime` and are not judged here.

    Fix:
        Move to a current runtime (`lambda_.Runtime.PYTHON_3_13`, `NODEJS_22_X`) and test.

    Example:
        lambda_.Function(self, "Fn", runtime=lambda_.Runtime.PYTHON_3_13, ...)
    """
    runtime = as_str(resource.prop("Runtime"), resource.template)
    if isinstance(runtime, Unresolved):
        yield undecidable(f"Runtime cannot be read: {runtime.reason}", "Properties/Runtime")
    elif runtime in policy.thresholds.deprecated_runtimes:
        yield violation(
            f"runtime {runtime} is deprecated and no longer patched", "Properties/Runtime"
        )
