"""The per-system view: stacks grouped by the stack-level `System` tag of the cloud assembly's
manifest, else their resources' tag, else the stack's name; each system before and after beside
the total, with its own bridge."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from governance.cli import main
from governance.template import load_cloud_assembly
from reports.cost.systems import manifest_stack_tags, system_of


def _assembly(root: Path, nats: int) -> Path:
    """A cloud assembly of four stacks: two tagged System=payments in the manifest, one whose
    resources carry System=webapp, one with no System tag at all."""
    root.mkdir(parents=True)
    stacks = {
        "PaymentsNetwork": ({"System": "payments", "Environment": "dev"}, None, nats),
        "PaymentsApi": ({"System": "payments"}, None, 1),
        "WebappEdge": ({}, "webapp", 1),
        "Loose": ({}, None, 1),
    }
    artifacts = {}
    for name, (tags, resource_tag, count) in stacks.items():
        resources = {}
        for i in range(count):
            props = {"Tags": [{"Key": "System", "Value": resource_tag}]} if resource_tag else {}
            resources[f"Nat{i}"] = {"Type": "AWS::EC2::NatGateway", "Properties": props}
        (root / f"{name}.template.json").write_text(json.dumps({"Resources": resources}))
        artifacts[name] = {
            "type": "aws:cloudformation:stack",
            "environment": "aws://111111111111/us-east-1",
            "properties": {"templateFile": f"{name}.template.json", "tags": tags},
        }
    (root / "manifest.json").write_text(json.dumps({"version": "36.0.0", "artifacts": artifacts}))
    return root


def test_system_of_each_stack(tmp_path: Path) -> None:
    root = _assembly(tmp_path / "a", 1)
    tags = manifest_stack_tags(root)
    systems = {t.name: system_of(t, tags) for t in load_cloud_assembly(root)}
    assert systems == {
        "PaymentsNetwork": "payments",
        "PaymentsApi": "payments",
        "WebappEdge": "webapp",
        "Loose": "Loose",
    }


def test_report_shows_each_system_beside_the_total(tmp_path: Path) -> None:
    before, after = _assembly(tmp_path / "before", 3), _assembly(tmp_path / "after", 1)
    out, html = tmp_path / "r.json", tmp_path / "r.html"
    pair = f"env=dev,before={before},after={after}"
    assert main(["report", "cost", "--pair", pair, "-o", str(out), "-o", str(html)]) == 0
    data = json.loads(out.read_text())
    hour = 730 * 0.045
    systems = {s["label"]: (s["before"], s["after"]) for s in data["systems"]}
    assert systems == {
        "payments": (pytest.approx(4 * hour), pytest.approx(2 * hour)),
        "webapp": (pytest.approx(hour), pytest.approx(hour)),
        "Loose": (pytest.approx(hour), pytest.approx(hour)),
    }
    assert sum(s["after"] for s in data["systems"]) == pytest.approx(data["totals"]["after"])
    assert sum(s["before"] for s in data["systems"]) == pytest.approx(data["totals"]["before"])
    bridges = data["bridge"]["systems"]
    assert bridges["payments"]["levers_saving"] == pytest.approx(2 * hour)
    for part in bridges.values():
        amounts = [b["amount"] for b in part["bars"]]
        assert amounts[0] + sum(amounts[1:-1]) == pytest.approx(amounts[-1])
    page = html.read_text()
    assert 'id="table-systems"' in page and 'data-system="payments"' in page
