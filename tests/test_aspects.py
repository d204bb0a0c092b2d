"""The mutating Aspects: tags from configuration, destroyable resources only when asked."""

import contextlib
import json
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_rds as rds

import governance
from governance.policy import Policy


def synth(tmp_path: Path, policy: Policy | None, context: dict | None = None) -> tuple[dict, dict]:
    app = cdk.App(outdir=str(tmp_path / "out"), context=context or {})
    stack = cdk.Stack(app, "S", env=cdk.Environment(account="111111111111", region="us-east-1"))
    dynamodb.Table(
        stack,
        "T",
        partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING),
        removal_policy=cdk.RemovalPolicy.RETAIN,
        deletion_protection=True,
    )
    plugin = governance.apply(app, policy)
    failed = False
    try:
        app.synth()
    except RuntimeError as exc:  # validation failure: templates are written before validation
        failed = "ValidationFailed" in str(exc)
    template = json.loads((tmp_path / "out" / "S.template.json").read_text())
    table = next(r for r in template["Resources"].values() if r["Type"] == "AWS::DynamoDB::Table")
    return table, {"failed": failed, "rules": {f.rule_id for f in plugin.last_findings}}


def test_configured_policy_tags_and_makes_destroyable(tmp_path):
    policy = Policy(
        tag_values={"Environment": "dev", "Owner": "team", "CostCenter": "CC-1"},
        destroy_stateful=True,
    )
    table, run = synth(tmp_path, policy)
    assert table["DeletionPolicy"] == "Delete" and table["UpdateReplacePolicy"] == "Delete"
    assert table["Properties"]["DeletionProtectionEnabled"] is False
    tags = {t["Key"]: t["Value"] for t in table["Properties"]["Tags"]}
    assert tags == {"Environment": "dev", "Owner": "team", "CostCenter": "CC-1"}
    # DataClassification has no configured value: not invented, reported instead
    assert "TAG-001" in run["rules"] and "LIFE-001" not in run["rules"]


def test_no_configuration_changes_nothing_and_rules_report(tmp_path):
    table, run = synth(tmp_path, None)
    assert table["DeletionPolicy"] == "Retain"
    assert table["Properties"]["DeletionProtectionEnabled"] is True
    assert "Tags" not in table["Properties"]
    assert run["failed"]
    assert {"LIFE-001", "LIFE-002", "LIFE-003", "TAG-001"} <= run["rules"]


def test_policy_read_from_app_context(tmp_path):
    context = {
        "env": "qa",
        "governance": {
            "environments": {"qa": {"tag_values": {"Owner": "qa-team"}, "destroy_stateful": True}}
        },
    }
    table, _ = synth(tmp_path, None, context)
    assert {t["Key"]: t["Value"] for t in table["Properties"]["Tags"]} == {"Owner": "qa-team"}
    assert table["DeletionPolicy"] == "Delete"


def test_destroy_aspect_covers_rds(tmp_path):
    app = cdk.App(outdir=str(tmp_path / "out"))
    stack = cdk.Stack(app, "Db")
    rds.CfnDBCluster(stack, "C", engine="aurora-postgresql", deletion_protection=True)
    governance.apply(app, Policy(destroy_stateful=True))
    with contextlib.suppress(RuntimeError):
        app.synth()
    cluster = json.loads((tmp_path / "out" / "Db.template.json").read_text())["Resources"]["C"]
    assert cluster["Properties"]["DeletionProtection"] is False


def test_destroy_aspect_leaves_aurora_members_to_their_cluster(tmp_path):
    """An instance of an Aurora cluster takes no DeletionProtection of its own: CloudFormation
    refuses the property there (cfn-lint E3682); the cluster's setting protects it. A standalone
    instance still has it turned off."""
    app = cdk.App(outdir=str(tmp_path / "out"))
    stack = cdk.Stack(app, "Db")
    cluster = rds.CfnDBCluster(stack, "C", engine="aurora-postgresql", deletion_protection=True)
    rds.CfnDBInstance(
        stack,
        "Member",
        engine="aurora-postgresql",
        db_instance_class="db.r6g.large",
        db_cluster_identifier=cluster.ref,
    )
    rds.CfnDBInstance(
        stack,
        "Alone",
        engine="postgres",
        db_instance_class="db.t4g.micro",
        allocated_storage="20",
        deletion_protection=True,
    )
    governance.apply(app, Policy(destroy_stateful=True))
    with contextlib.suppress(RuntimeError):
        app.synth()
    resources = json.loads((tmp_path / "out" / "Db.template.json").read_text())["Resources"]
    assert resources["C"]["Properties"]["DeletionProtection"] is False
    assert "DeletionProtection" not in resources["Member"]["Properties"]
    assert resources["Alone"]["Properties"]["DeletionProtection"] is False


def test_raw_cloudformation_resources_are_tagged(tmp_path):
    """CDK's own raw CfnResources (here the default-SG restricting provider) get the tags too."""
    from aws_cdk import aws_ec2 as ec2

    app = cdk.App(
        outdir=str(tmp_path / "out"),
        context={"@aws-cdk/aws-ec2:restrictDefaultSecurityGroup": True},
    )
    stack = cdk.Stack(app, "Net", env=cdk.Environment(account="111111111111", region="us-east-1"))
    ec2.Vpc(stack, "Vpc", max_azs=1, nat_gateways=0)
    raw = cdk.CfnResource(
        stack,
        "Preset",
        type="AWS::SQS::Queue",
        properties={"Tags": [{"Key": "Owner", "Value": "kept"}]},
    )
    assert raw is not None
    governance.apply(app, Policy(tag_values={"Owner": "team", "CostCenter": "CC-1"}))
    with contextlib.suppress(RuntimeError):  # other rules may fail this bare VPC; tags matter here
        app.synth()
    resources = json.loads((tmp_path / "out" / "Net.template.json").read_text())["Resources"]
    handler = next(
        r
        for k, r in resources.items()
        if k.startswith("CustomVpcRestrictDefaultSG") and r["Type"] == "AWS::Lambda::Function"
    )
    assert {t["Key"]: t["Value"] for t in handler["Properties"]["Tags"]} == {
        "Owner": "team",
        "CostCenter": "CC-1",
    }
    preset = {t["Key"]: t["Value"] for t in resources["Preset"]["Properties"]["Tags"]}
    assert preset == {"Owner": "kept", "CostCenter": "CC-1"}
