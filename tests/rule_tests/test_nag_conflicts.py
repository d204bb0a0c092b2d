"""governance.conflicts: LIFE-003 against cdk-nag's deletion-protection rules, decided once."""

import json

import pytest
from helpers import findings

from governance.cdknag import NAG_CONFLICTS, conflict_reason
from governance.policy import Policy, PolicyError, RuleOverride
from governance.registry import all_rules

DBS = {
    "Protected": {"Type": "AWS::RDS::DBInstance", "Properties": {"DeletionProtection": True}},
    "ProtectedTable": {
        "Type": "AWS::DynamoDB::Table",
        "Properties": {"DeletionProtectionEnabled": True},
    },
}


def policy(**extra):
    return Policy(environment="dev", suffix="dev", **extra)


def test_life_003_names_the_conflict_until_the_policy_decides():
    undecided = findings("LIFE-003", DBS, policy(cdk_nag_packs=("aws_solutions",)))
    by_id = {f.logical_id: f.message for f in undecided}
    assert by_id["Protected"] == (
        "deletion protection is enabled; AwsSolutions-RDS10 asks for it: set "
        "governance.conflicts.deletion_protection to govern or cdk-nag"
    )
    assert by_id["ProtectedTable"] == "deletion protection is enabled"  # no cdk-nag rule on tables
    # no cdk-nag pack that disagrees: no hint
    quiet = findings("LIFE-003", DBS, policy(cdk_nag_packs=("pci_dss_321",)))
    assert {f.message for f in quiet} == {"deletion protection is enabled"}


def test_life_003_yields_where_cdk_nag_wins_and_reports_where_ours_wins():
    nag_wins = policy(
        cdk_nag_packs=("aws_solutions",), conflicts={"deletion_protection": "cdk-nag"}
    )
    assert {f.logical_id for f in findings("LIFE-003", DBS, nag_wins)} == {"ProtectedTable"}
    ours = policy(cdk_nag_packs=("aws_solutions",), conflicts={"deletion_protection": "govern"})
    assert {f.logical_id for f in findings("LIFE-003", DBS, ours)} == {
        "Protected",
        "ProtectedTable",
    }
    # the decision only matters where a disagreeing pack is on
    alone = policy(conflicts={"deletion_protection": "cdk-nag"})
    assert {f.logical_id for f in findings("LIFE-003", DBS, alone)} == {
        "Protected",
        "ProtectedTable",
    }


def test_conflicts_policy_key_is_read_strictly():
    read = Policy.from_context({"conflicts": {"deletion_protection": "cdk-nag"}})
    assert read.conflicts == {"deletion_protection": "cdk-nag"}
    with pytest.raises(PolicyError, match=r"unknown key governance.conflicts.deletion_protect "):
        Policy.from_context({"conflicts": {"deletion_protect": "govern"}})
    with pytest.raises(
        PolicyError,
        match=r"^governance.environments.prod.conflicts.deletion_protection must be one of "
        r"govern, cdk-nag; got 'ours'$",
    ):
        Policy.from_context(
            {"environments": {"prod": {"conflicts": {"deletion_protection": "ours"}}}}
        )
    with pytest.raises(PolicyError, match="destroy_stateful turns deletion protection off"):
        Policy.from_context(
            {"destroy_stateful": True, "conflicts": {"deletion_protection": "cdk-nag"}}
        )


def _pack_sources() -> dict[str, str]:
    """The JavaScript of each cdk-nag pack, from the installed cdk-nag's bundle."""
    import tarfile
    from pathlib import Path

    import cdk_nag

    files = {
        "AwsSolutions": "aws-solutions",
        "HIPAA.Security": "hipaa-security",
        "NIST.800.53.R4": "nist-800-53-r4",
        "NIST.800.53.R5": "nist-800-53-r5",
    }
    bundle = next((Path(cdk_nag.__file__).parent / "_jsii").glob("cdk-nag@*.jsii.tgz"))
    with tarfile.open(bundle) as tar:
        return {
            pack: tar.extractfile(f"package/lib/packs/{name}.js").read().decode()
            for pack, name in files.items()
        }


def test_every_conflicting_nag_rule_exists_and_judges_types_life_003_judges():
    sources = _pack_sources()
    life = next(r for r in all_rules() if r.id == "LIFE-003")
    for conflict in NAG_CONFLICTS:
        pack, _, name = conflict.nag_rule.partition("-")
        source = sources[pack]
        # AwsSolutions names rules by suffix, the compliance packs by rule function
        assert f"'{name}'" in source or f".{name}," in source, conflict.nag_rule
        assert set(conflict.resource_types) <= set(life.resource_types)


def _synth(tmp_path, deletion_protection, conflicts):
    """A one-database app with cdk-nag's AwsSolutions pack on; returns (error, report)."""
    import aws_cdk as cdk
    from aws_cdk import aws_rds as rds

    import governance

    app = cdk.App(outdir=str(tmp_path), context={"aws:cdk:enable-path-metadata": True})
    stack = cdk.Stack(app, "Db")
    rds.CfnDBInstance(
        stack,
        "Db",
        db_instance_class="db.t4g.micro",
        engine="postgres",
        allocated_storage="20",
        storage_encrypted=True,
        multi_az=True,
        port="5433",
        deletion_protection=deletion_protection,
    )
    only_life = {r.id: RuleOverride(enabled=False) for r in all_rules() if r.id != "LIFE-003"}
    governance.apply(
        app,
        Policy(
            mandatory_tags=(),
            cdk_nag_packs=("aws_solutions",),
            rules=only_life,
            conflicts=conflicts,
        ),
    )
    error = None
    try:
        app.synth()
    except RuntimeError as exc:  # CDK's "Validation failed"
        error = str(exc)
    report = json.loads((tmp_path / "validation-report.json").read_text())
    return error, {p["pluginName"]: p for p in report["pluginReports"]}


def _names(plugin, kind):
    return {v["ruleName"] for v in (plugin or {}).get(kind) or []}


def test_ours_wins_one_acknowledgement_for_the_whole_app(tmp_path):
    error, report = _synth(tmp_path, False, {"deletion_protection": "govern"})
    assert error is None
    nag = report["AwsSolutions"]
    assert _names(nag, "violations") == set()
    rds10 = next(v for v in nag["suppressedViolations"] if v["ruleName"] == "AwsSolutions-RDS10")
    conflict = next(c for c in NAG_CONFLICTS if c.nag_rule == "AwsSolutions-RDS10")
    assert rds10["reason"] == conflict_reason(conflict)
    assert rds10.get("acknowledgedAt", "") == ""  # on the app itself, not on each database
    # the compliance report reads it as an acknowledged finding with the policy's reason
    from governance.cdknag import plugin_findings
    from governance.template import load_cloud_assembly

    found = [
        f for f in plugin_findings(load_cloud_assembly(tmp_path)) if f.rule_id.endswith("RDS10")
    ]
    assert [(f.logical_id, f.status, f.reason) for f in found] == [
        ("Db", "acknowledged", conflict_reason(conflict))
    ]


def test_cdk_nag_wins_life_003_stays_quiet(tmp_path):
    error, report = _synth(tmp_path, True, {"deletion_protection": "cdk-nag"})
    assert error is None
    assert "LIFE-003" not in _names(report.get("govern"), "violations")
    assert "AwsSolutions-RDS10" not in _names(report.get("AwsSolutions"), "violations")


def test_undecided_both_sides_report(tmp_path):
    error, report = _synth(tmp_path, True, {})
    assert error is not None
    assert _names(report["govern"], "violations") == {"LIFE-003"}
    message = report["govern"]["violations"][0]["description"]
    assert "set governance.conflicts.deletion_protection to govern or cdk-nag" in message
