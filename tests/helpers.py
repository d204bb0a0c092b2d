"""Test helpers: build templates in memory and run one rule over them."""

from __future__ import annotations

from typing import Any

from governance.engine import evaluate
from governance.model import Finding
from governance.policy import Policy
from governance.registry import get_rule
from governance.template import Template

TAGS = [
    {"Key": "Environment", "Value": "dev"},
    {"Key": "Owner", "Value": "team"},
    {"Key": "CostCenter", "Value": "CC-1"},
    {"Key": "DataClassification", "Value": "confidential"},
]


def template(resources: dict[str, dict[str, Any]], **extra: Any) -> Template:
    """A template named ``Test`` holding ``resources`` (each ``{"Type": ..., ...}``)."""
    return Template(name="Test", path="Test.template.json", body={"Resources": resources, **extra})


def findings(
    rule_id: str, resources: dict[str, dict[str, Any]], policy: Policy | None = None, **extra: Any
) -> list[Finding]:
    policy = policy or Policy(environment="dev", suffix="dev")
    return evaluate([template(resources, **extra)], policy, [get_rule(rule_id)]).findings


def failing(
    rule_id: str, resources: dict[str, dict[str, Any]], policy: Policy | None = None, **extra: Any
) -> set[str]:
    """Logical ids with a violation (not undecidable) of ``rule_id``."""
    return {
        f.logical_id for f in findings(rule_id, resources, policy, **extra) if not f.undecidable
    }


def undecided(
    rule_id: str, resources: dict[str, dict[str, Any]], policy: Policy | None = None, **extra: Any
) -> set[str]:
    """Logical ids for which ``rule_id`` could not decide."""
    return {f.logical_id for f in findings(rule_id, resources, policy, **extra) if f.undecidable}
