"""One small pricer per priced CloudFormation type, one module per service family.

Pricer modules are discovered, as rules are: :func:`all_pricers` imports every module of this
package once (``pkgutil``), and each ``@prices`` decorator registers its function with the usage
keys it declares. Adding a module here is all it takes to add pricers.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping

from reports.cost.resources.base import _REGISTRY, Context, PricerSpec, SideState, prices

__all__ = ["Context", "PricerSpec", "SideState", "all_pricers", "prices"]

_LOADED = False


def all_pricers() -> Mapping[str, PricerSpec]:
    """Every registered pricer by CloudFormation type (imports the pricer modules on first call)."""
    global _LOADED
    if not _LOADED:
        for info in pkgutil.iter_modules(__path__):
            importlib.import_module(f"{__name__}.{info.name}")
        _LOADED = True
    return _REGISTRY
