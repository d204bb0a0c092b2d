"""The platform's functions (responder, secret rotation): one factory, sized by ``platform.functions``.

Every function of the platform is built here so that its sizing comes from one place, its code
from ``stacks/platform/functions/<code>/``, and its deliberate trade-offs are acknowledged once,
with the reason an auditor reads. (The status endpoint is sized the same way but built by the
``Payments`` stack, beside its API: :mod:`stacks.payments.endpoints`.)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from stacks.constructs.function import PlatformFunction, acknowledge_trade_offs
from stacks.platform.settings import PlatformFunctions

FUNCTIONS_DIR = Path(__file__).resolve().parent / "functions"
#: The configuration key the platform's functions are sized by.
RUNTIME_KEY = "platform.functions.runtime"


def platform_function(
    scope: Construct,
    construct_id: str,
    settings: PlatformFunctions,
    *,
    apis: str,
    function_name: str,
    code: str,
    key: kms.IKey,
    layers: Sequence[lambda_.ILayerVersion],
    environment: Mapping[str, str],
    description: str,
    reserved_concurrency: int | None = None,
) -> PlatformFunction:
    """A :class:`PlatformFunction` of the platform, its trade-offs acknowledged.

    ``apis`` names what the function calls (for the acknowledgement); ``reserved_concurrency``
    overrides ``settings.reserved_concurrency`` (rotation functions need one execution)."""
    function = PlatformFunction(
        scope,
        construct_id,
        function_name=function_name,
        code_dir=FUNCTIONS_DIR / code,
        settings=settings,
        reserved_concurrency=reserved_concurrency or settings.reserved_concurrency,
        key=key,
        layers=list(layers),
        environment=dict(environment),
        description=description,
    )
    acknowledge_trade_offs(function, runtime=settings.runtime, runtime_key=RUNTIME_KEY, apis=apis)
    return function
