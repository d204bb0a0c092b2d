"""Shared by the deploy rule tests: key policies, and runs over several stacks."""

from __future__ import annotations

from typing import Any

from governance.engine import evaluate
from governance.policy import Policy
from governance.registry import get_rule
from governance.template import Template

ROOT_STATEMENT = {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:root"}, "Action": "kms:*"}


def key(*services_actions: tuple[Any, list[str]], **props: Any) -> dict[str, Any]:
    """A KMS key whose policy allows each (service principal(s), actions) pair."""
    stmts = [ROOT_STATEMENT] + [
        {"Effect": "Allow", "Principal": {"Service": svc}, "Action": acts, "Resource": "*"}
        for svc, acts in services_actions
    ]
    return {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {"Statement": stmts}, **props}}


def stack(name: str, resources: dict[str, Any], region: str | None = "us-east-1", **extra: Any):
    tpl = Template(name=name, path=f"{name}.template.json", body={"Resources": resources, **extra})
    tpl.environment = f"aws://111111111111/{region}" if region else None
    return tpl


def export(logical_id: str, name: str, attr: str | None = "Arn") -> dict[str, Any]:
    value = {"Fn::GetAtt": [logical_id, attr]} if attr else {"Ref": logical_id}
    return {"Outputs": {f"Out{logical_id}": {"Value": value, "Export": {"Name": name}}}}


def run(rule_id: str, templates: list[Template], policy: Policy | None = None):
    policy = policy or Policy(environment="dev", suffix="dev")
    found = evaluate(templates, policy, [get_rule(rule_id)]).findings
    failing = {f.logical_id for f in found if not f.undecidable}
    undecided = {f.logical_id for f in found if f.undecidable}
    return failing, undecided
