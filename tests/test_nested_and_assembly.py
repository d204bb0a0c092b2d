"""Nested stacks are judged wherever templates are read; a malformed cloud assembly is one error.

The assemblies here are written by hand in the shape CDK gives them: a parent template whose
``AWS::CloudFormation::Stack`` resource names its nested template in ``aws:asset:path``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from governance.cli import main
from governance.engine import evaluate
from governance.policy import Policy
from governance.template import InputError, load_cloud_assembly, load_inputs

OPEN_SSH = {
    "Type": "AWS::EC2::SecurityGroup",
    "Properties": {
        "GroupDescription": "bastion",
        "SecurityGroupIngress": [
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": "0.0.0.0/0"}
        ],
    },
    "Metadata": {"aws:cdk:path": "App/Network/Bastion"},
}


def _nested_resource(child_file: str, child: str = "Network") -> dict:
    return {
        "Type": "AWS::CloudFormation::Stack",
        "Properties": {"TemplateURL": "https://example.invalid/t.json"},
        "Metadata": {
            "aws:cdk:path": f"App/{child}.NestedStack/{child}.NestedStackResource",
            "aws:asset:path": child_file,
            "aws:asset:property": "TemplateURL",
        },
    }


def _write(path: Path, body: dict) -> Path:
    path.write_text(json.dumps(body))
    return path


def _assembly(root: Path, *, nested: dict | None = None) -> Path:
    """``App.template.json`` deploying ``AppNetwork.nested.template.json`` (``nested`` or SSH)."""
    root.mkdir(parents=True, exist_ok=True)
    parent = {"Resources": {"Net": _nested_resource("AppNetwork.nested.template.json")}}
    _write(root / "App.template.json", parent)
    _write(root / "AppNetwork.nested.template.json", nested or {"Resources": {"Bastion": OPEN_SSH}})
    manifest = {
        "version": "55.0.0",
        "artifacts": {
            "App": {
                "type": "aws:cloudformation:stack",
                "environment": "aws://111111111111/us-east-1",
                "properties": {"templateFile": "App.template.json"},
            }
        },
    }
    _write(root / "manifest.json", manifest)
    return root


def _net001(templates) -> set[tuple[str, str, str | None]]:
    result = evaluate(templates, Policy())
    return {
        (f.stack, f.logical_id, f.construct_path)
        for f in result.findings
        if f.rule_id == "PCI-NET-001"
    }


def test_cloud_assembly_includes_nested_templates(tmp_path):
    out = _assembly(tmp_path / "cdk.out")
    templates = load_cloud_assembly(out)
    assert [(t.name, t.parent, t.environment) for t in templates] == [
        ("App", None, "aws://111111111111/us-east-1"),
        ("App/Network", "App", "aws://111111111111/us-east-1"),
    ]
    assert _net001(templates) == {("App/Network", "Bastion", "App/Network/Bastion")}


def test_nested_of_nested_is_followed(tmp_path):
    out = tmp_path / "cdk.out"
    _assembly(
        out,
        nested={"Resources": {"Inner": _nested_resource("AppInner.nested.template.json", "Inner")}},
    )
    _write(out / "AppInner.nested.template.json", {"Resources": {"Bastion": OPEN_SSH}})
    templates, errors = load_inputs([out])
    assert errors == []
    assert [t.name for t in templates] == ["App", "App/Network", "App/Network/Inner"]
    assert _net001(templates) == {("App/Network/Inner", "Bastion", "App/Network/Bastion")}


def test_folder_and_single_file_follow_nested_templates_once(tmp_path):
    out = _assembly(tmp_path / "cdk.out")
    (out / "manifest.json").unlink()  # now a plain folder of templates
    folder, errors = load_inputs([out])
    assert errors == []
    assert [t.name for t in folder] == ["App", "App/Network"]
    single, errors = load_inputs([out / "App.template.json"])
    assert errors == []
    assert [t.name for t in single] == ["App", "App/Network"]


def test_a_nested_template_alone_in_a_folder_is_still_judged(tmp_path):
    folder = tmp_path / "f"
    folder.mkdir()
    _write(folder / "Orphan.nested.template.json", {"Resources": {"Bastion": OPEN_SSH}})
    templates, errors = load_inputs([folder])
    assert errors == []
    assert _net001(templates) == {("Orphan.nested", "Bastion", "App/Network/Bastion")}


def test_missing_or_self_including_nested_template_is_an_input_error(tmp_path):
    out = _assembly(tmp_path / "a")
    (out / "AppNetwork.nested.template.json").unlink()
    templates, errors = load_inputs([out])
    assert [t.name for t in templates] == ["App"]  # the parent is still judged
    assert len(errors) == 1 and "nested stack Net of App" in errors[0].problem

    loop = tmp_path / "b"
    loop.mkdir()
    _write(
        loop / "Loop.nested.template.json",
        {"Resources": {"Me": _nested_resource("Loop.nested.template.json")}},
    )
    _write(
        loop / "App.template.json",
        {"Resources": {"Net": _nested_resource("Loop.nested.template.json")}},
    )
    templates, errors = load_inputs([loop])
    assert [t.name for t in templates] == ["App", "App/Network"]
    assert [e.problem for e in errors] == ["nested stack Me includes its own template"]


def test_asset_path_out_of_the_directory_is_not_followed(tmp_path):
    folder = tmp_path / "f"
    folder.mkdir()
    _write(tmp_path / "Secret.nested.template.json", {"Resources": {"Bastion": OPEN_SSH}})
    _write(
        folder / "App.template.json",
        {"Resources": {"Net": _nested_resource("../Secret.nested.template.json")}},
    )
    templates, errors = load_inputs([folder / "App.template.json"])
    assert ([t.name for t in templates], errors) == (["App"], [])


@pytest.mark.parametrize(
    ("file", "body", "problem"),
    [
        ("manifest.json", [], "not a cloud assembly manifest (the manifest is not an object)"),
        (
            "manifest.json",
            {"artifacts": []},
            "not a cloud assembly manifest (artifacts is not an object)",
        ),
        (
            "manifest.json",
            {"artifacts": {"App": "x"}},
            "not a cloud assembly manifest (artifact App is not an object)",
        ),
        (
            "manifest.json",
            {
                "artifacts": {
                    "App": {"type": "aws:cloudformation:stack", "properties": {"templateFile": 7}}
                }
            },
            "artifact App templateFile is not a name",
        ),
        ("validation-report.json", [], "not a CDK validation report (the report is not an object)"),
        (
            "validation-report.json",
            {"pluginReports": {}},
            "not a CDK validation report (pluginReports is not a list)",
        ),
        (
            "validation-report.json",
            {"pluginReports": [{"suppressedViolations": [{"violatingConstructs": [3]}]}]},
            "not a CDK validation report (a violating construct is not an object)",
        ),
    ],
)
def test_wrong_shape_is_one_input_error(tmp_path, capsys, file, body, problem):
    out = _assembly(tmp_path / "cdk.out")
    _write(out / file, body)
    templates, errors = load_inputs([out])
    assert templates == []
    assert [(Path(e.path).name, e.problem) for e in errors] == [(file, problem)]
    assert main(["check", str(out), "--config", str(_write(tmp_path / "c.json", {}))]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"govern: {out / file}: {problem}"]


def test_assembly_that_contains_itself_is_one_error_not_a_loop(tmp_path):
    out = _assembly(tmp_path / "cdk.out")
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["artifacts"]["Stage"] = {
        "type": "cdk:cloud-assembly",
        "properties": {"directoryName": "."},
    }
    _write(out / "manifest.json", manifest)
    with pytest.raises(InputError, match="refers back to an enclosing one"):
        load_cloud_assembly(out)
    templates, errors = load_inputs([out])
    assert len(errors) == 1


def test_compliance_report_scope_and_hashes_include_nested_stacks(tmp_path):
    from reports.compliance.model import build_report

    out = _assembly(tmp_path / "cdk.out")
    report = build_report([out], Policy(), checkov=False)
    assert [(s.name, s.nested_in) for s in report.scope] == [("App", None), ("App/Network", "App")]
    hashed = {Path(t["path"]).name: t["nested_in"] for t in report.evidence.templates}
    assert hashed == {"App.template.json": None, "AppNetwork.nested.template.json": "App"}
    assert all(len(t["sha256"]) == 64 for t in report.evidence.templates)
    assert report.evidence.git_commit == "not a git checkout"


def test_nested_template_found_through_the_asset_manifest_without_asset_metadata(tmp_path):
    """An app synthesized without asset metadata: the TemplateURL's asset hash names the file."""
    out = _assembly(tmp_path / "cdk.out")
    digest = "6b3b4be9af4349be7bdb2ece3727d10e1766eb585a236c11a71897cd657c2c79"
    url = {"Fn::Join": ["", ["https://s3.", {"Ref": "AWS::URLSuffix"}, f"/bucket/{digest}.json"]]}
    parent = {
        "Resources": {
            "Net": {"Type": "AWS::CloudFormation::Stack", "Properties": {"TemplateURL": url}}
        }
    }
    _write(out / "App.template.json", parent)
    assets = {
        "files": {
            digest: {
                "displayName": "Network Nested Stack Template",
                "source": {"path": "AppNetwork.nested.template.json", "packaging": "file"},
            }
        }
    }
    _write(out / "App.assets.json", assets)
    templates = load_cloud_assembly(out)
    assert [t.name for t in templates] == ["App", "App/Network"]
    assert _net001(templates) == {("App/Network", "Bastion", "App/Network/Bastion")}
