"""The rule catalogue: the ``@rule`` decorator and the registry it fills.

Rule modules live in the ``rules`` package, one module per concern; importing
:func:`all_rules` imports them all once.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable

from governance.cdknag import is_nag_rule_id
from governance.model import Category, Rule, RuleFunction, Severity, Status

_REGISTRY: dict[str, Rule] = {}
_LOADED = False
RULE_ID_PATTERN = re.compile(r"^[A-Z]+(-[A-Z0-9]+)*-\d{3}$")
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
#: A checkov check id for CloudFormation (``CKV_AWS_19``, graph checks ``CKV2_AWS_72``).
CHECKOV_ID_PATTERN = re.compile(r"CKV2?_AWS_[0-9]+")


def rule(
    *,
    id: str,
    slug: str,
    title: str,
    severity: Severity,
    resource_types: tuple[str, ...] | list[str],
    category: Category,
    pci: tuple[str, ...] | list[str] = (),
    status: Status = Status.STABLE,
    checkov: tuple[str, ...] | list[str] = (),
    cdk_nag: tuple[str, ...] | list[str] = (),
) -> Callable[[RuleFunction], RuleFunction]:
    """Register a rule function with its metadata (id, severity, types, PCI DSS references).

    ``checkov`` and ``cdk_nag`` name the other tools' checks that judge the same control on the
    same resource; the compliance report lists a checkov finding that one of them duplicates
    only once, under ours. Bad metadata fails at import, naming the rule.
    """
    if not isinstance(category, Category):
        raise TypeError(
            f"rule {id}: category must be a governance.model.Category, not {category!r}"
        )
    bad = [c for c in checkov if not CHECKOV_ID_PATTERN.fullmatch(c)]
    bad += [n for n in cdk_nag if not is_nag_rule_id(n, granular=False)]
    if bad:
        raise ValueError(f"rule {id}: not a checkov or cdk-nag rule id: {', '.join(bad)}")

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
            checkov=tuple(checkov),
            cdk_nag=tuple(cdk_nag),
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
