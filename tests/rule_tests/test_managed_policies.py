"""PCI-IAM-006: roles of the systems asking for managed policies only carry no inline policy."""

from __future__ import annotations

import dataclasses

from helpers import TAGS, failing, undecided

from governance.policy import Policy, Thresholds

ASKED = Policy(
    environment="dev",
    suffix="dev",
    thresholds=dataclasses.replace(Thresholds(), managed_policies_only_systems=("webapp",)),
)
DOCUMENT = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "arn:q"}],
}


def role(system=None, inline=False, tags=None):
    props = {"AssumeRolePolicyDocument": {}, "Tags": tags if tags is not None else list(TAGS)}
    if system is not None and tags is None:
        props["Tags"].append({"Key": "System", "Value": system})
    if inline:
        props["Policies"] = [{"PolicyName": "inline", "PolicyDocument": DOCUMENT}]
    return {"Type": "AWS::IAM::Role", "Properties": props}


def inline_policy(*roles):
    return {
        "Type": "AWS::IAM::Policy",
        "Properties": {
            "PolicyName": "p",
            "PolicyDocument": DOCUMENT,
            "Roles": [{"Ref": r} for r in roles],
        },
    }


def resources():
    return {
        "WebRole": role("webapp"),  # compliant: managed policies only
        "WebRoleInline": role("webapp", inline=True),
        "WebRoleGranted": role("webapp"),
        "WebGrant": inline_policy("WebRoleGranted"),
        "OtherRole": role("payments", inline=True),  # another system: not asked
        "OtherRoleGranted": role("payments"),
        "OtherGrant": inline_policy("OtherRoleGranted", "ImportedRole"),
        "UntaggedRole": role(inline=True),
        "WebRolePolicy": {
            "Type": "AWS::IAM::RolePolicy",
            "Properties": {
                "PolicyName": "rp",
                "PolicyDocument": DOCUMENT,
                "RoleName": {"Ref": "WebRole"},
            },
        },
        "ManagedPolicy": {
            "Type": "AWS::IAM::ManagedPolicy",
            "Properties": {"PolicyDocument": DOCUMENT, "Roles": [{"Ref": "WebRole"}]},
        },
    }


def test_iam_006_inline_policies_on_roles_of_asking_systems():
    assert failing("PCI-IAM-006", resources(), ASKED) == {
        "WebRoleInline",
        "WebGrant",
        "WebRolePolicy",
    }


def test_iam_006_asks_nothing_when_no_system_is_switched_on():
    assert failing("PCI-IAM-006", resources()) == set()


def test_iam_006_unreadable_tags_are_undecidable():
    res = {"WebRole": role(inline=True, tags={"Ref": "TagsParameter"})}
    assert undecided("PCI-IAM-006", res, ASKED) == {"WebRole"}


def test_iam_006_finds_what_a_cdk_grant_writes() -> None:
    """A CDK ``grant_*`` on a role of a switched-on system writes the inline policy the rule finds;
    the same permission as a statement of a ManagedPolicy passes."""
    import aws_cdk as cdk
    from aws_cdk import aws_iam as iam
    from aws_cdk import aws_sqs as sqs

    from governance.template import Template

    app = cdk.App()
    stack = cdk.Stack(app, "Web")
    cdk.Tags.of(stack).add("System", "webapp")
    queue = sqs.Queue(stack, "Queue")
    granted = iam.Role(stack, "Granted", assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"))
    queue.grant_send_messages(granted)
    policy = iam.ManagedPolicy(
        stack,
        "Managed",
        statements=[iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[queue.queue_arn])],
    )
    iam.Role(
        stack,
        "Managed_",
        assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
        managed_policies=[policy],
    )
    body = app.synth().get_stack_by_name("Web").template
    inline = {k for k, r in body["Resources"].items() if r["Type"] == "AWS::IAM::Policy"}
    assert len(inline) == 1
    from governance.engine import evaluate
    from governance.registry import get_rule

    found = evaluate(
        [Template(name="Web", path="Web.template.json", body=body)],
        ASKED,
        [get_rule("PCI-IAM-006")],
    ).findings
    assert {f.logical_id for f in found} == inline
