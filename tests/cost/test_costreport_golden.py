"""Golden files: one small template (+ usage) per priced resource type → the expected components.

Each ``golden/<case>.yaml`` holds ``template`` (CloudFormation) and optional ``usage`` (a usage
document layered over the default profile); ``golden/<case>.expected.json`` holds every line
item with its status, attributes and components. Regenerate after a deliberate change with
``UPDATE_GOLDEN=1 pytest tests/cost/test_costreport_golden.py`` and review the diff; a few cases
are also checked by hand in ``test_costreport_hand_checked.py``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml
from costreport_helpers import price_body

from reports.cost.resources import all_pricers

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(p.stem for p in GOLDEN.glob("*.yaml"))


def _render(case: str) -> dict:
    spec = yaml.safe_load((GOLDEN / f"{case}.yaml").read_text())
    est = price_body(spec["template"], spec.get("usage"), spec.get("environment", "production"))
    return {
        "description": spec.get("description", ""),
        "total": round(est.total, 6),
        "items": [
            {
                "logical_id": i.logical_id,
                "type": i.resource_type,
                "status": str(i.status),
                "monthly_cost": round(i.monthly_cost, 6),
                "attributes": i.attributes,
                "components": [
                    {
                        "name": c.name,
                        "unit": c.unit,
                        "monthly_quantity": round(c.monthly_quantity, 6),
                        "unit_price": c.unit_price,
                        "monthly_cost": None
                        if c.monthly_cost is None
                        else round(c.monthly_cost, 6),
                        "tier": c.tier,
                        "usage_based": c.usage_based,
                        "service": c.service,
                    }
                    for c in i.components
                ],
            }
            for i in est.items
        ],
    }


@pytest.mark.parametrize("case", CASES)
def test_golden(case: str) -> None:
    got = _render(case)
    path = GOLDEN / f"{case}.expected.json"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(json.dumps(got, indent=2, ensure_ascii=False) + "\n")
    assert path.exists(), f"no golden file for {case}: run with UPDATE_GOLDEN=1 and review it"
    expected = json.loads(path.read_text())
    assert got == expected


def test_every_priced_type_has_a_golden_case() -> None:
    covered = set()
    for case in CASES:
        spec = yaml.safe_load((GOLDEN / f"{case}.yaml").read_text())
        covered |= {r["Type"] for r in spec["template"]["Resources"].values()}
    missing = sorted(set(all_pricers()) - covered)
    assert missing == []
