"""Shared helpers of the platform tests: every stack built once per environment and profile.

``platform(env, profile)`` builds every stack of :func:`stacks.assembly.build` from the real
``cdk.json`` context - read by :func:`stacks.config.load_configuration` and the governance
policy exactly as ``app.py`` reads them - in process, without governance and without CDK's
built-in CloudFormation validation (both run in the ``synth``-marked tests through the real
CLI), and caches the result for the test session: one build costs a few seconds.
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

from governance.policy import Policy
from stacks.assembly import build
from stacks.config import Configuration, load_configuration, tag_value
from stacks.platform.settings import PlatformSettings

ROOT = Path(__file__).resolve().parents[3]
ENVIRONMENTS = ("dev", "staging", "production")
PROFILES = ("optimised", "legacy")
#: The systems these tests cover: ``templates`` holds their stacks only (``stacks`` holds every
#: stack of the assembler; other systems' tests read their own templates).
SYSTEMS = ("stacks.payments.", "stacks.platform.")


def cdk_context() -> dict[str, Any]:
    """The ``context`` block of the repository's ``cdk.json`` (a fresh copy)."""
    return copy.deepcopy(json.loads((ROOT / "cdk.json").read_text())["context"])


def configuration(
    env: str, profile: str = "optimised", context: dict[str, Any] | None = None
) -> Configuration:
    """The configuration ``app.py`` would read for ``-c env=<env> -c profile=<profile>``."""
    ctx = context if context is not None else cdk_context()
    return load_configuration({**ctx, "env": env, "profile": profile})


def cost_center(config: Configuration, context: dict[str, Any]) -> str:
    """The policy's CostCenter tag value, as ``app.py`` hands it to the assembler."""
    policy = Policy.from_context(
        context.get("governance"),
        environment=config.name,
        profile=config.profile,
        suffix=config.suffix,
    )
    return tag_value(policy, "CostCenter", "the budget filters on it")


@dataclass(frozen=True)
class Platform:
    """One environment's synthesized stacks (by short name) and their templates."""

    env: str
    profile: str
    config: Configuration
    stacks: dict[str, Any]
    templates: dict[str, Template]

    @property
    def settings(self) -> PlatformSettings:
        return self.config.platform

    def json(self, stack: str) -> dict[str, Any]:
        return self.templates[stack].to_json()

    def of_type(self, stack: str, cfn_type: str) -> dict[str, dict[str, Any]]:
        resources = self.json(stack).get("Resources", {})
        return {k: v for k, v in resources.items() if v["Type"] == cfn_type}

    def all_of_type(self, cfn_type: str) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for name in self.templates:
            for logical_id, resource in self.of_type(name, cfn_type).items():
                found[f"{name}/{logical_id}"] = resource
        return found


@cache
def platform(env: str, profile: str = "optimised") -> Platform:
    """The platform of ``env`` under ``profile``, built once per session."""
    return build_platform(env, profile)


def build_platform(
    env: str, profile: str = "optimised", context: dict[str, Any] | None = None
) -> Platform:
    """The platform of ``env`` built from ``context`` (default: ``cdk.json``'s), not cached."""
    ctx = {**(context if context is not None else cdk_context()), "env": env, "profile": profile}
    outdir = tempfile.mkdtemp(prefix=f"platform-{env}-{profile}-")
    app = cdk.App(context=ctx, outdir=outdir, builtin_cloud_formation_validation=False)
    config = configuration(env, profile, ctx)
    every = build(app, config, cost_center=cost_center(config, ctx))
    app.synth()
    stacks = every
    templates = {
        name: Template.from_stack(stack)
        for name, stack in every.items()
        if type(stack).__module__.startswith(SYSTEMS)
    }
    return Platform(env, profile, config, stacks, templates)


def resolve_join(value: Any) -> str:
    """Flatten a ``Fn::Join`` of literals and references into text (references as ``{Ref}``)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        sep, parts = value["Fn::Join"]
        return sep.join(resolve_join(p) for p in parts)
    if isinstance(value, dict) and "Ref" in value:
        return "{" + value["Ref"] + "}"
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return "{" + ".".join(value["Fn::GetAtt"]) + "}"
    if isinstance(value, dict) and "Fn::ImportValue" in value:
        return "{import}"
    return json.dumps(value)
