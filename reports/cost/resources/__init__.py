"""One small pricer per priced CloudFormation type, one module per service family.

Pricer modules are discovered, as rules are: :func:`all_pricers` imports every module of this
package once (``pkgutil``), and each ``@prices`` decorator registers its function with the usage
keys it declares (:func:`declared_usage`). Adding a module here is all it takes to add pricers;
helpers several pricers share live outside the package (``reports/cost/traffic.py``).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping

from reports.cost.resources.base import _REGISTRY, Context, PricerSpec, SideState, prices
from reports.cost.usage import UsageKey, declarations

__all__ = ["Context", "PricerSpec", "SideState", "all_pricers", "declared_usage", "prices"]

_LOADED = False


def all_pricers() -> Mapping[str, PricerSpec]:
    """Every registered pricer by CloudFormation type (imports the pricer modules on first call)."""
    global _LOADED
    if not _LOADED:
        for info in pkgutil.iter_modules(__path__):
            importlib.import_module(f"{__name__}.{info.name}")
        _LOADED = True
    return _REGISTRY


def declared_usage() -> dict[str, dict[str, UsageKey]]:
    """The usage keys every pricer declares, by CloudFormation type and key name."""
    return declarations({rtype: spec.usage for rtype, spec in all_pricers().items()})
