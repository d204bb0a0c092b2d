"""Instance metadata (PCI DSS 2.2.5): EC2 instances answer metadata requests only with a session.

IMDSv1 hands the instance role's credentials to any process, or any server-side request forgery,
that can send a GET to 169.254.169.254; IMDSv2 demands a session token obtained with a PUT first.
The rule reads instances, the launch templates they name, and launch configurations. The mapping
to 2.2.5 (an insecure protocol, IMDSv1, kept only with justification and extra protection) is
ours.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from governance.intrinsics import Unresolved, as_str
from governance.model import Category, Issue, Severity, undecidable, violation
from governance.policy import Policy
from governance.registry import rule
from governance.template import Resource
from rules._ec2_support import launch_template_data, launch_template_of


def _tokens(options: Any, resource: Resource) -> str | Unresolved | None:
    """``required``, ``optional``, ``disabled`` (no metadata endpoint at all) or ``None`` (unset)."""
    if not isinstance(options, dict):
        return None
    endpoint = as_str(options.get("HttpEndpoint"), resource.template)
    if endpoint == "disabled":
        return "disabled"
    tokens = as_str(options.get("HttpTokens"), resource.template)
    if isinstance(tokens, Unresolved):
        return tokens
    return tokens.lower() if isinstance(tokens, str) else None


def _options_issue(options: Any, resource: Resource, where: str) -> Iterator[Issue]:
    tokens = _tokens(options, resource)
    if isinstance(tokens, Unresolved):
        yield undecidable(f"HttpTokens cannot be read: {tokens.reason}", f"{where}/HttpTokens")
    elif tokens not in ("required", "disabled"):
        state = "optional" if tokens is None else tokens
        yield violation(f"IMDSv1 is allowed (HttpTokens is {state})", f"{where}/HttpTokens")


@rule(
    id="PCI-IMDS-001",
    slug="imdsv1-allowed",
    title="EC2 instances and launch templates require IMDSv2",
    severity=Severity.ERROR,
    resource_types=(
        "AWS::EC2::Instance",
        "AWS::EC2::LaunchTemplate",
        "AWS::AutoScaling::LaunchConfiguration",
    ),
    category=Category.PCI_RUNTIME,
    pci=("2.2.5",),
    checkov=("CKV_AWS_79",),
    cdk_nag=("HIPAA.Security-EC2IMDSv2Enabled", "NIST.800.53.R5-EC2IMDSv2Enabled"),
)
def imdsv1_allowed(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """`MetadataOptions.HttpTokens` is `required` (or the metadata endpoint is disabled).

    Why:
        With `HttpTokens: optional`, CloudFormation's default unless the AMI says otherwise,
        the instance role's temporary credentials are one unauthenticated GET away for any
        request forgery in the application ("Use IMDSv2", Amazon EC2 User Guide,
        https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-instance-metadata-service.html).
        An instance is compliant through its own `MetadataOptions` or through the launch
        template it names; a launch template from elsewhere cannot be read and is reported
        as undecidable.

    Fix:
        `ec2.Instance(..., require_imdsv2=True)`, or `ec2.LaunchTemplate(...,
        require_imdsv2=True)` for Auto Scaling groups.

    Example:
        ec2.Instance(self, "Bastion", vpc=vpc, instance_type=..., machine_image=..., require_imdsv2=True)
    """
    if resource.type == "AWS::EC2::LaunchTemplate":
        options = launch_template_data(resource).get("MetadataOptions")
        where = "Properties/LaunchTemplateData/MetadataOptions"
        yield from _options_issue(options, resource, where)
        return
    options = resource.prop("MetadataOptions")
    if resource.type == "AWS::EC2::Instance" and _tokens(options, resource) is None:
        launch_template = launch_template_of(resource)
        if isinstance(launch_template, Unresolved):
            yield undecidable(
                f"metadata options cannot be read: {launch_template.reason}",
                "Properties/LaunchTemplate",
            )
            return
        if launch_template is not None:
            inherited = launch_template_data(launch_template).get("MetadataOptions")
            if _tokens(inherited, launch_template) is not None:
                return  # the launch template is judged on its own
    yield from _options_issue(options, resource, "Properties/MetadataOptions")
