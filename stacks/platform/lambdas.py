"""The hardened platform's functions: :class:`PlatformFunction` sized from ``platform.functions``.

Every function of the platform (status endpoint, responder, secret rotation) is built here so
that its sizing comes from one place and its deliberate trade-offs are acknowledged once, with
the reason an auditor reads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

import governance
from stacks.constructs.function import PlatformFunction
from stacks.hardened_config import PlatformSettings, platform_function_settings

FUNCTIONS_DIR = Path(__file__).resolve().parent / "functions"


def function_props(
    settings: PlatformSettings,
    *,
    function_name: str,
    code: str,
    key: kms.IKey,
    layers: Sequence[lambda_.ILayerVersion],
    environment: Mapping[str, str],
    description: str,
    reserved_concurrency: int | None = None,
) -> dict[str, object]:
    """Keyword arguments of :class:`PlatformFunction` for a platform function."""
    return {
        "function_name": function_name,
        "code_dir": FUNCTIONS_DIR / code,
        "settings": platform_function_settings(settings),
        "reserved_concurrency": reserved_concurrency or settings.functions.reserved_concurrency,
        "key": key,
        "layers": list(layers),
        "environment": dict(environment),
        "description": description,
    }


def acknowledge_trade_offs(
    function: PlatformFunction, settings: PlatformSettings, apis: str
) -> None:
    """The function is outside a VPC and pinned to the layer's runtime: say why."""
    governance.acknowledge(
        function.function,
        "PCI.DSS.321-LambdaInsideVPC",
        f"The function calls only AWS APIs ({apis}) over TLS with SigV4 and reaches no host in "
        "a private network; no data store it touches is network-addressable, so a VPC would "
        "segment nothing. Its access is segmented by IAM: a role of its own, scoped to this "
        "environment's resource and key ARNs.",
        plugin=None,
    )
    governance.acknowledge(
        function.function,
        "AwsSolutions-L1",
        f"The runtime ({settings.functions.runtime}) is set by configuration "
        "(platform.functions.runtime) and is one AWS Lambda supports; the shared layer's "
        "binary wheels are built for that CPython version (scripts/build_layer.py), so the "
        "runtime moves together with the layer build, not silently to the newest.",
        plugin=None,
    )


def platform_function(
    scope: Construct,
    construct_id: str,
    settings: PlatformSettings,
    *,
    apis: str,
    **props: object,
) -> PlatformFunction:
    """A :class:`PlatformFunction` from :func:`function_props`, trade-offs acknowledged."""
    function = PlatformFunction(scope, construct_id, **function_props(settings, **props))  # type: ignore[arg-type]
    acknowledge_trade_offs(function, settings, apis)
    return function
