"""SSM parameters (PCI DSS 8.6.2, 3.5.1): a secret never sits in a plain String parameter.

CloudFormation and the CDK create only `String` and `StringList` parameters, stored unencrypted
and readable by anyone with `ssm:GetParameter`; their value is also written into the template.
A parameter whose name says it holds a secret (the policy's `thresholds.secret_name_markers`,
unless it ends with one of `thresholds.secret_reference_suffixes` such as `-name` or `-arn`) or
whose value looks like one (an AWS access key id, a URL with a password, a private key) is a
hard-coded secret (8.6.2) kept unencrypted (3.5.1). The mapping is ours. Names are matched by a
heuristic, so the name check is a warning; a value that is a credential is an error.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from governance.intrinsics import Unresolved, as_str
from governance.model import Category, Issue, Severity, undecidable, violation
from governance.policy import Policy
from governance.registry import rule
from governance.template import Resource

_ACCESS_KEY = re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")
_URL_CREDENTIALS = re.compile(r"://[^/\s:@]+:[^/\s@]+@")
_PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")
_CAMEL = re.compile(r"([a-z0-9])([A-Z])")


def secret_like_name(name: str, policy: Policy) -> bool:
    """``/app/db-password`` and ``apiToken`` look like secrets; ``api-key-secret-arn`` does not."""
    last = name.rstrip("/").rsplit("/", 1)[-1]
    upper = re.sub(r"[^A-Z0-9]+", "_", _CAMEL.sub(r"\1_\2", last).upper())
    if upper.endswith(tuple(s.upper() for s in policy.thresholds.secret_reference_suffixes)):
        return False
    return any(marker.upper() in upper for marker in policy.thresholds.secret_name_markers)


def credential_in(value: str) -> str | None:
    """What kind of credential ``value`` holds, or None."""
    if _ACCESS_KEY.search(value):
        return "an AWS access key id"
    if _URL_CREDENTIALS.search(value):
        return "a URL with a password in it"
    if _PRIVATE_KEY.search(value):
        return "a private key"
    return None


@rule(
    id="PARAM-001",
    slug="secret-named-string-parameter",
    title="No String parameter named like a secret",
    severity=Severity.WARNING,
    resource_types=("AWS::SSM::Parameter",),
    category=Category.PCI_SECRETS,
    pci=("8.6.2", "3.5.1"),
)
def secret_named_string_parameter(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """A `String`/`StringList` parameter's `Name` does not say PASSWORD, SECRET, TOKEN, API_KEY...

    Why:
        CloudFormation cannot create a `SecureString`: a parameter named like a secret is a
        secret stored in plain text and written into the template (PCI DSS 8.6.2, 3.5.1).

    Fix:
        Keep the secret in Secrets Manager (a generated value, encrypted with a key of ours) and
        store only its name or ARN in the parameter, named `...-secret-arn`.

    Example:
        ssm.StringParameter(self, "KeySecret", parameter_name="/app/api-key-secret-arn", string_value=secret.secret_arn)
    """
    name = as_str(resource.prop("Name"), resource.template)
    if isinstance(name, Unresolved):
        yield undecidable(f"the parameter's name cannot be read: {name.reason}", "Properties/Name")
    elif isinstance(name, str) and secret_like_name(name, policy):
        yield violation(
            f"parameter {name} is named like a secret but is a plain String", "Properties/Name"
        )


@rule(
    id="PARAM-002",
    slug="credential-in-string-parameter",
    title="No credential in a String parameter's value",
    severity=Severity.ERROR,
    resource_types=("AWS::SSM::Parameter",),
    category=Category.PCI_SECRETS,
    pci=("8.6.2", "3.5.1"),
)
def credential_in_string_parameter(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """A parameter's `Value` is not an access key id, a URL with a password, or a private key.

    Why:
        The value is in the template, the cloud assembly and the parameter, all unencrypted:
        a credential there is hard-coded (PCI DSS 8.6.2) and stored in the clear (3.5.1).

    Fix:
        Generate the credential in Secrets Manager, or use a role instead of an access key.

    Example:
        secretsmanager.Secret(self, "Provider", generate_secret_string=secretsmanager.SecretStringGenerator())
    """
    value = as_str(resource.prop("Value"), resource.template)
    if isinstance(value, str):
        kind = credential_in(value)
        if kind:
            yield violation(f"the value holds {kind}", "Properties/Value")
