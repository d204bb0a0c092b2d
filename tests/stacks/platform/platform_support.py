"""Shared helpers of the hardened-platform tests: the whole platform built once per env/profile.

``platform(env, profile)`` builds every stack of ``stacks.platform.build_platform`` from the
real ``cdk.json`` context, in process, without governance and without CDK's built-in
CloudFormation validation (both run in the ``synth``-marked test through the real CLI), and
caches the result for the test session: one build costs a few seconds.
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

from stacks.config import EnvironmentConfig, load_environment
from stacks.hardened_config import PlatformSettings, platform_settings
from stacks.platform import build_platform

ROOT = Path(__file__).resolve().parents[2]
ENVIRONMENTS = ("dev", "staging", "production")
PROFILES = ("optimised", "legacy")


def cdk_context() -> dict[str, Any]:
    """The ``context`` block of the repository's ``cdk.json`` (a fresh copy)."""
    return copy.deepcopy(json.loads((ROOT / "cdk.json").read_text())["context"])


def environment(
    env: str, profile: str = "optimised", context: dict[str, Any] | None = None
) -> EnvironmentConfig:
    ctx = context if context is not None else cdk_context()
    return load_environment(
        {
            "environments": ctx["environments"],
            "governance": ctx.get("governance"),
            "platform_profiles": ctx.get("platform_profiles"),
        },
        env=env,
        profile=profile,
    )


@dataclass(frozen=True)
class Platform:
    """One environment's synthesized platform: stacks by short name and their templates."""

    env: str
    profile: str
    config: EnvironmentConfig
    settings: PlatformSettings
    stacks: dict[str, Any]
    templates: dict[str, Template]

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
    ctx = cdk_context()
    ctx["env"] = env
    ctx["profile"] = profile
    outdir = tempfile.mkdtemp(prefix=f"hardened-{env}-{profile}-")
    app = cdk.App(context=ctx, outdir=outdir, builtin_cloud_formation_validation=False)
    config = environment(env, profile, ctx)
    stacks = build_platform(app, config)
    app.synth()
    templates = {
        name: Template.from_stack(stack)
        for name, stack in stacks.items()
        if isinstance(stack, cdk.Stack)
    }
    return Platform(env, profile, config, platform_settings(config), stacks, templates)


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
