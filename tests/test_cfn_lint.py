"""cfn-lint over every synthesized template of every environment and profile: zero findings.

cfn-lint knows each resource type's schema (required properties, allowed values, patterns,
attribute names), so it catches what CloudFormation would refuse at create time and what
``cdk synth`` never checks. It runs in-process, once per cloud assembly, over all its templates
(the assemblies are the session's, from ``tests/conftest.py``). Warnings we accept are listed
in :data:`IGNORED` with the reason, and only there; everything else fails the test.
See docs/deploy.md ("cfn-lint").
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cfnlint.api import ManualArgs, lint_by_config

#: cfn-lint rule id -> why its findings on our templates are accepted (the one place).
IGNORED: dict[str, str] = {
    "W3005": (
        "CDK adds an explicit DependsOn from a function to its role's policy and from a "
        "rotation schedule to its function, beside the GetAtt that already orders them. The "
        "duplicate ordering is harmless to CloudFormation, and it is written by the L2 "
        "constructs, not by us."
    ),
}

ASSEMBLIES = [
    (env, profile) for env in ("dev", "staging", "production") for profile in (None, "legacy")
]


def _templates_and_regions(out: Path) -> tuple[list[str], list[str]]:
    manifest = json.loads((out / "manifest.json").read_text())
    files, regions = [], set()
    for artifact in manifest["artifacts"].values():
        if artifact.get("type") != "aws:cloudformation:stack":
            continue
        files.append(str(out / artifact["properties"]["templateFile"]))
        regions.add(artifact["environment"].rsplit("/", 1)[-1])
    return sorted(files), sorted(regions)


@pytest.mark.parametrize(("env", "profile"), ASSEMBLIES)
def test_every_template_passes_cfn_lint(synth_platform, env, profile):
    files, regions = _templates_and_regions(synth_platform(env, profile))
    assert files
    matches = lint_by_config(
        ManualArgs(templates=files, regions=regions, ignore_checks=sorted(IGNORED))
    )
    found = [f"{m.rule.id} {Path(m.filename).name}:{m.linenumber} {m.message}" for m in matches]
    assert found == []


def test_the_linter_finds_what_it_should(tmp_path):
    """The same call reports a refused property value (the test above can fail)."""
    bad = {
        "Resources": {
            "Param": {"Type": "AWS::SSM::Parameter", "Properties": {"Type": "Secret", "Value": "v"}}
        }
    }
    path = tmp_path / "bad.template.json"
    path.write_text(json.dumps(bad))
    matches = lint_by_config(ManualArgs(templates=[str(path)], regions=["us-east-1"]))
    assert {m.rule.id for m in matches} == {"E3030"}
