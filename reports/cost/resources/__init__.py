"""One small pricer per priced CloudFormation type, registered by type.

Importing this package registers every pricer; :data:`REGISTRY` maps a type to its
:class:`PricerSpec` (function, main service, usage keys it reads).
"""

from __future__ import annotations

from reports.cost.resources import (  # noqa: F401  (importing registers the pricers)
    apigateway,
    compute,
    database,
    dynamodb,
    lambda_,
    logs,
    management,
    messaging,
    monitoring,
    network,
    security,
    storage,
)
from reports.cost.resources.base import REGISTRY, Context, PricerSpec, SideState, prices

__all__ = ["REGISTRY", "Context", "PricerSpec", "SideState", "prices"]
