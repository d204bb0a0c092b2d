"""The rule catalogue: the ``@rule`` decorator and the registry it fills.

Rule modules live in the ``rules`` package, one module per concern; importing
:func:`all_rules` imports them all once.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable

from governance.model import Rule, RuleFunction, Severity, Status

_REGISTRY: dict[str, Rule] = {}
_LOADED = False
RULE_ID_PATTERN = re.compile(r"^[A-Z]+(-[A-Z0-9]+)*-\d{3}$")
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


def rule(
    *,
    id: str,
    slug: str,
    title: str,
    severity: Severity,
    resource_types: tuple[str, ...] | list[str],
    category: str,
    pci: tuple[str, ...] | list[str] = (),
    status: Status = Status.STABLE,
) -> Callable[[RuleFunction], RuleFunction]:
    """Register a rule function with its metadata (id, severity, types, PCI DSS references)."""

    def decorate(func: RuleFunction) -> RuleFunction:
        if id in _REGISTRY and _REGISTRY[id].func is not func:
            raise ValueError(f"duplicate rule id {id}")
        _REGISTRY[id] = Rule(
            id=id,
            slug=slug,
            title=title,
            severity=severity,
            resource_types=tuple(resource_types),
            category=category,
            pci=tuple(pci),
            func=func,
            status=status,
            module=func.__module__,
        )
        func.rule_id = id  # type: ignore[attr-defined]
        return func

    return decorate


def all_rules() -> list[Rule]:
    """Every registered rule, sorted by id (imports the ``rules`` package on first call)."""
    global _LOADED
    if not _LOADED:
        import rules

        for info in pkgutil.iter_modules(rules.__path__):
            importlib.import_module(f"rules.{info.name}")
        _LOADED = True
    return sorted(_REGISTRY.values(), key=lambda r: r.id)


def get_rule(rule_id: str) -> Rule:
    for r in all_rules():
        if r.id == rule_id:
            return r
    raise KeyError(rule_id)
