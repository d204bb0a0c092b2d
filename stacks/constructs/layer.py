"""The shared Python Lambda layer, built by ``scripts/build_layer.py`` before it is referenced.

The build installs Linux wheels for the layer's target (CPython 3.11, aarch64) with pip's
``--platform``/``--only-binary`` flags, and is skipped when its stamp matches, so synthesizing
again costs a hash of a few files. The layer declares the architecture its wheels were built
for, not the functions' configured one: a layer cannot change what its binaries are.
"""

from __future__ import annotations

import contextlib
import importlib.util
import sys
from functools import cache
from pathlib import Path
from types import ModuleType

from aws_cdk import RemovalPolicy
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

ROOT = Path(__file__).resolve().parents[2]


@cache
def _build_module() -> ModuleType:
    path = ROOT / "scripts" / "build_layer.py"
    spec = importlib.util.spec_from_file_location("platform_build_layer", path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load the layer build script {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)
    spec.loader.exec_module(module)
    return module


def build_layer_dir(root: Path = ROOT) -> Path:
    """Build (or reuse) the layer; returns the directory that contains ``python/``."""
    with contextlib.redirect_stdout(sys.stderr):  # stdout may carry the CLI's output
        python_dir = _build_module().build_layer(root)
    return Path(python_dir).parent


def layer_architecture() -> lambda_.Architecture:
    """The architecture the layer's binary wheels are built for."""
    platform = _build_module().PLATFORM
    return lambda_.Architecture.ARM_64 if "aarch64" in platform else lambda_.Architecture.X86_64


def layer_runtime() -> lambda_.Runtime:
    """The Python runtime the layer's wheels are built for."""
    version = _build_module().PYTHON_VERSION
    return getattr(lambda_.Runtime, "PYTHON_" + version.replace(".", "_"))


class SharedLayer(Construct):
    """A ``LayerVersion`` of the shared libraries (jsonschema, requests, payments_common)."""

    def __init__(self, scope: Construct, construct_id: str, *, layer_name: str) -> None:
        super().__init__(scope, construct_id)
        asset_dir = build_layer_dir()
        self.layer = lambda_.LayerVersion(
            self,
            "Layer",
            layer_version_name=layer_name,
            code=lambda_.Code.from_asset(str(asset_dir), exclude=["**/__pycache__", "*.pyc"]),
            compatible_runtimes=[layer_runtime()],
            compatible_architectures=[layer_architecture()],
            description="Shared libraries for the payment functions (built by scripts/build_layer.py)",
            removal_policy=RemovalPolicy.DESTROY,
        )
