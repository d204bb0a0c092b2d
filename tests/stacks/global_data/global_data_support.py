"""Support for the global data stack tests: each environment's system built once, in process.

``system(env)`` builds the six stacks of :func:`stacks.global_data.system.build` from the real
``cdk.json`` context (no governance plugins) and caches them for the session. A plain module,
not a ``conftest.py`` (see tests/stacks/payments/payments_support.py).
"""

from __future__ import annotations

import copy
import json
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk.assertions import Template

from stacks.config import Configuration, load_configuration
from stacks.global_data import system as global_data

ROOT = Path(__file__).resolve().parents[3]
ENVIRONMENTS = ("dev", "staging", "production")


def cdk_context() -> dict[str, Any]:
    return copy.deepcopy(json.loads((ROOT / "cdk.json").read_text())["context"])


@dataclass(frozen=True)
class System:
    env: str
    config: Configuration
    stacks: dict[str, cdk.Stack]
    templates: dict[str, dict[str, Any]]

    def resources(self, stack: str, cfn_type: str) -> dict[str, dict[str, Any]]:
        found = self.templates[stack].get("Resources", {})
        return {k: v for k, v in found.items() if v["Type"] == cfn_type}

    def one(self, stack: str, cfn_type: str) -> dict[str, Any]:
        (resource,) = self.resources(stack, cfn_type).values()
        return resource["Properties"]


@cache
def system(env: str, profile: str = "optimised") -> System:
    ctx = {**cdk_context(), "env": env, "profile": profile}
    app = cdk.App(
        context=ctx,
        outdir=tempfile.mkdtemp(prefix=f"global-data-{env}-"),
        builtin_cloud_formation_validation=False,
    )
    config = load_configuration(ctx)
    stacks = global_data.build(app, config)
    app.synth()
    templates = {name: Template.from_stack(stack).to_json() for name, stack in stacks.items()}
    return System(env, config, stacks, templates)
