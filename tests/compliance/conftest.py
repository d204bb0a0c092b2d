"""Shared work for the compliance tests: the exceptions app synthesized once per case, in parallel,
and the compliance report built once over the valid case plus a hostile template."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from subprocess import CompletedProcess

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).parent / "data"
MODES = ("valid", "expired", "nonwaivable")
HOSTILE = "<script>alert(1)</script>"


def cdk_synth(app_dir: Path, out: Path, context: dict[str, str]) -> CompletedProcess[str]:
    """The pinned CDK CLI (what ``npx cdk`` runs here) on an app in another directory."""
    cmd = [str(ROOT / "node_modules" / ".bin" / "cdk"), "synth", "-q", "-o", str(out)]
    cmd += ["--app", f"{sys.executable} app.py"]
    for key, value in context.items():
        cmd += ["-c", f"{key}={value}"]
    env = {
        **os.environ,
        "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "CDK_DISABLE_VERSION_CHECK": "1",
        "CDK_DISABLE_CLI_TELEMETRY": "true",
    }
    return subprocess.run(
        cmd, cwd=app_dir, env=env, capture_output=True, text=True, timeout=600, check=False
    )


@pytest.fixture(scope="session")
def exception_synths(tmp_path_factory) -> dict[str, tuple[CompletedProcess[str], Path]]:
    """``{mode: (finished npx cdk synth, cloud assembly dir)}`` for every case of the app."""
    app_dir = tmp_path_factory.mktemp("exceptions_app")
    shutil.copytree(DATA / "exceptions_app", app_dir, dirs_exist_ok=True)

    def synth(mode: str) -> tuple[CompletedProcess[str], Path]:
        out = app_dir / f"cdk.out.{mode}"
        return cdk_synth(app_dir, out, {"mode": mode}), out

    with ThreadPoolExecutor(max_workers=len(MODES)) as pool:
        return dict(zip(MODES, pool.map(synth, MODES), strict=True))


@pytest.fixture(scope="session")
def valid_assembly(exception_synths) -> Path:
    proc, out = exception_synths["valid"]
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


@pytest.fixture(scope="session")
def hostile_template(tmp_path_factory) -> Path:
    """A template whose logical id, bucket name and tag values hold markup."""
    body = {
        "Resources": {
            f"Evil{HOSTILE}": {
                "Type": "AWS::S3::Bucket",
                "Properties": {
                    "BucketName": '"><img src=x onerror=alert(2)>',
                    "Tags": [
                        {"Key": "DataClassification", "Value": HOSTILE},
                        {"Key": "Owner", "Value": "<b>bold</b>"},
                    ],
                },
                "Metadata": {"aws:cdk:path": f"Hostile/{HOSTILE}/Resource"},
            }
        }
    }
    path = tmp_path_factory.mktemp("hostile") / "Hostile.template.json"
    path.write_text(json.dumps(body, indent=1))
    return path


@pytest.fixture(scope="session")
def policy_file(tmp_path_factory) -> Path:
    """A cdk.json whose policy asks for no tags (so the tiny app's findings stay few)."""
    path = tmp_path_factory.mktemp("policy") / "cdk.json"
    path.write_text(json.dumps({"context": {"governance": {"mandatory_tags": ["Owner"]}}}))
    return path


@pytest.fixture(scope="session")
def report_policy():
    from governance.policy import Policy

    return Policy.from_context({"mandatory_tags": ["Owner"]}, environment=None)


@pytest.fixture(scope="session")
def valid_report(valid_assembly, report_policy):
    """The compliance report of the valid case, checkov included when it is installed."""
    from reports.compliance.model import build_report

    return build_report([valid_assembly], report_policy)


@pytest.fixture(scope="session")
def hostile_html(valid_assembly, hostile_template, report_policy, tmp_path_factory) -> Path:
    """The HTML report over the valid case and the hostile template, with its findings JSON."""
    from reports.compliance.model import build_report
    from reports.compliance.render import render_html, render_json

    report = build_report([valid_assembly, hostile_template], report_policy)
    out = tmp_path_factory.mktemp("report")
    (out / "compliance.html").write_text(render_html(report))
    (out / "compliance.json").write_text(render_json(report))
    return out / "compliance.html"
