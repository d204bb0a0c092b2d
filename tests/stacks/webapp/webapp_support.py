"""Shared helpers of the web application's template tests: the platform's builds, reused.

``webapp(env, profile)`` is :func:`platform_support.platform` (every stack of the assembler, built
once per session from the real ``cdk.json``); the helpers read the four ``WebApp*`` stacks.
"""

from __future__ import annotations

import dataclasses
import sys
from functools import cache
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "platform"))

from aws_cdk.assertions import Template  # noqa: E402
from platform_support import ENVIRONMENTS, PROFILES, ROOT, Platform, cdk_context, platform  # noqa: E402

from stacks.webapp.settings import WebAppSettings  # noqa: E402

__all__ = [
    "ENVIRONMENTS",
    "PROFILES",
    "ROOT",
    "STACKS",
    "cdk_context",
    "one",
    "resources",
    "settings",
    "webapp",
]

#: The web application's stacks, by the assembler's short name.
STACKS = ("webapp_data", "webapp_service", "webapp_edge", "webapp_observability")


@cache
def webapp(env: str, profile: str = "optimised") -> Platform:
    """The assembler's build of ``env`` (shared with the platform's tests), with the web
    application's four templates as ``templates``."""
    built = platform(env, profile)
    templates = {name: Template.from_stack(built.stacks[name]) for name in STACKS}
    return dataclasses.replace(built, templates=templates)


def settings(built: Platform) -> WebAppSettings:
    return built.config.webapp


def resources(built: Platform, stack: str, cfn_type: str) -> dict[str, dict[str, Any]]:
    return built.of_type(stack, cfn_type)


def one(built: Platform, stack: str, cfn_type: str) -> dict[str, Any]:
    """The properties of the only resource of ``cfn_type`` in ``stack``."""
    (found,) = resources(built, stack, cfn_type).values()
    return found.get("Properties", {})
