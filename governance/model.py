"""The data model shared by every part of the framework: severities, rules, findings.

Rules are plain functions decorated with :func:`governance.registry.rule`; the engine turns what
they yield (:class:`Issue`) into :class:`Finding` records that every output format reads.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from governance.policy import Policy
    from governance.template import Resource


#: Our validation plugin's name: the namespace of our rule ids in CDK's acknowledgements.
PLUGIN_NAME = "govern"


class Severity(enum.IntEnum):
    """How bad a finding is; ordered so that ``severity >= fail_on`` works."""

    INFO = 1
    WARNING = 2
    ERROR = 3

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            allowed = ", ".join(s.name.lower() for s in cls)
            raise ValueError(f"unknown severity {text!r} (allowed: {allowed})") from None

    def __str__(self) -> str:
        return _SEVERITY_TEXT[self]


#: Each severity's name as outputs write it (``str(severity)`` runs once per finding written).
_SEVERITY_TEXT = {s: s.name.lower() for s in Severity}


class Category(enum.StrEnum):
    """What a rule is about; the values are the names ``governance.category_severity`` uses."""

    COST = "cost"
    #: predicts what AWS refuses or silently breaks at deployment (rules/deploy_*.py)
    DEPLOY = "deploy"
    ENCRYPTION = "encryption"
    LIFECYCLE = "lifecycle"
    NAMING = "naming"
    PCI_BACKUP = "pci-backup"
    PCI_IAM = "pci-iam"
    PCI_LOGGING = "pci-logging"
    PCI_NETWORK = "pci-network"
    PCI_RETENTION = "pci-retention"
    PCI_RUNTIME = "pci-runtime"
    PCI_SECRETS = "pci-secrets"
    PCI_TRANSIT = "pci-transit"
    PCI_WAF = "pci-waf"
    RELIABILITY = "reliability"
    TAGGING = "tagging"


class Status(enum.StrEnum):
    """Lifecycle of a rule in the catalogue."""

    PREVIEW = "preview"
    STABLE = "stable"
    DEPRECATED = "deprecated"


@dataclass(frozen=True, slots=True)
class Issue:
    """What a rule yields for one resource: a violation, or a value it cannot decide."""

    message: str
    path: str = "Properties"
    undecidable: bool = False


def violation(message: str, path: str = "Properties") -> Issue:
    """A resource breaks the rule; ``path`` is the property path (``Properties/Foo/Bar``)."""
    return Issue(message, path)


def undecidable(message: str, path: str = "Properties") -> Issue:
    """The rule cannot decide (an unresolved intrinsic); reported, never silently passed."""
    return Issue(message, path, undecidable=True)


RuleFunction = Callable[["Resource", "Policy"], Iterable[Issue]]


@dataclass(frozen=True, slots=True)
class Rule:
    """A rule's metadata and its function. Built by the ``@rule`` decorator."""

    id: str
    slug: str
    title: str
    severity: Severity
    resource_types: tuple[str, ...]
    category: Category
    pci: tuple[str, ...]
    func: RuleFunction
    status: Status = Status.STABLE
    module: str = ""
    #: checkov checks that judge the same control on the same resource (``CKV_AWS_19``).
    checkov: tuple[str, ...] = ()
    #: cdk-nag rules that judge the same control on the same resource (``AwsSolutions-S10``).
    cdk_nag: tuple[str, ...] = ()

    @property
    def doc(self) -> str:
        return (self.func.__doc__ or "").strip()

    def doc_section(self, name: str) -> str:
        """The text of one docstring section (``Why``, ``Fix`` or ``Example``)."""
        return _doc_sections(self.doc).get(name, "")

    @property
    def fix(self) -> str:
        return " ".join(self.doc_section("Fix").split())

    def applies_to(self, resource_type: str) -> bool:
        return "*" in self.resource_types or resource_type in self.resource_types


@functools.cache
def _doc_sections(doc: str) -> dict[str, str]:
    sections: dict[str, list[str]] = {}
    current = "Summary"
    for line in doc.splitlines():
        stripped = line.strip()
        head = stripped.rstrip(":")
        if stripped.endswith(":") and head in {"Why", "Fix", "Example"}:
            current = head
            continue
        sections.setdefault(current, []).append(line)
    return {k: _dedent("\n".join(v)).strip() for k, v in sections.items()}


def _dedent(text: str) -> str:
    import textwrap

    return textwrap.dedent(text)


@dataclass(slots=True)
class Finding:
    """One rule's verdict on one resource, in the form every output reads."""

    rule_id: str
    severity: Severity
    title: str
    message: str
    stack: str
    logical_id: str
    resource_type: str
    template_path: str
    construct_path: str | None = None
    property_path: str = "Properties"
    pci: tuple[str, ...] = ()
    status: str = "violation"  # "violation" | "acknowledged"
    reason: str | None = None
    exception: dict[str, Any] | None = None
    undecidable: bool = False
    source: str = "governance"
    fix: str = ""
    category: str = ""
    also_reported_by: list[str] = field(default_factory=list)

    @property
    def acknowledged(self) -> bool:
        return self.status == "acknowledged"

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "severity": _SEVERITY_TEXT[self.severity],
            "title": self.title,
            "message": self.message,
            "stack": self.stack,
            "template_path": self.template_path,
            "logical_id": self.logical_id,
            "resource_type": self.resource_type,
            "construct_path": self.construct_path,
            "property_path": self.property_path,
            "pci_dss": list(self.pci),
            "status": self.status,
            "reason": self.reason,
            "exception": self.exception,
            "undecidable": self.undecidable,
            "source": self.source,
            "also_reported_by": list(self.also_reported_by),
            "category": self.category,
            "fix": self.fix,
        }
