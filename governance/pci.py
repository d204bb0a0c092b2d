"""The PCI DSS v4.0.1 requirements this tool knows, and which rules cover each.

``data/pci_dss_v4.yaml`` lists the requirements that bear on infrastructure: a paraphrase of
each, whether a template can decide it, and why not when it cannot. The compliance report shows
the whole list, so an auditor sees what is checked, what is not yet checked (``gap``) and what
no template can show (``decidable: false``: penetration tests, MFA for people, scan cadence).

    from governance.pci import coverage, requirements
    for req in requirements():
        print(req.number, req.status(coverage()[req.number]))
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

import yaml

from governance import data_file
from governance.model import Rule

NUMBER = re.compile(r"^\d{1,2}(\.\d+){1,3}$")


@dataclass(frozen=True)
class Requirement:
    """One PCI DSS v4.0.1 requirement as this project reads it."""

    number: str
    summary: str
    decidable: bool
    reason: str | None = None  # why not decidable
    gap: str | None = None  # decidable, but no rule covers it yet

    @property
    def principal(self) -> int:
        """The principal requirement (1-12) the number belongs to."""
        return int(self.number.split(".", 1)[0])

    @property
    def sort_key(self) -> tuple[int, ...]:
        return tuple(int(p) for p in self.number.split("."))

    def status(self, covering: Iterable[Rule]) -> str:
        """``covered``, ``not covered`` or ``not decidable`` given the rules that cover it.

        A non-decidable requirement stays ``not decidable`` even when rules bring evidence
        for it (backups for 12.10.1): no template can show it is met.
        """
        if not self.decidable:
            return "not decidable"
        return "covered" if any(True for _ in covering) else "not covered"


class CatalogueError(ValueError):
    """The requirements file is malformed."""


def parse(text: str) -> list[Requirement]:
    """Read the requirements YAML; raise :class:`CatalogueError` naming the bad entry."""
    body = yaml.safe_load(text)
    entries = body.get("requirements") if isinstance(body, dict) else None
    if not isinstance(entries, list):
        raise CatalogueError("the file has no 'requirements' list")
    out: list[Requirement] = []
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise CatalogueError(f"entry {i} is not a mapping")
        number = entry.get("number")
        where = f"requirement {number!r}" if number else f"entry {i}"
        if not isinstance(number, str) or not NUMBER.match(number):
            raise CatalogueError(f"{where}: number must be a string like '10.5.1'")
        if number in seen:
            raise CatalogueError(f"{where}: listed twice")
        seen.add(number)
        unknown = set(entry) - {"number", "summary", "decidable", "reason", "gap"}
        if unknown:
            raise CatalogueError(f"{where}: unknown keys {', '.join(sorted(unknown))}")
        summary, decidable = entry.get("summary"), entry.get("decidable")
        reason, gap = entry.get("reason"), entry.get("gap")
        if not isinstance(summary, str) or not summary.strip():
            raise CatalogueError(f"{where}: summary must be a non-empty string")
        if not isinstance(decidable, bool):
            raise CatalogueError(f"{where}: decidable must be true or false")
        if not decidable and not (isinstance(reason, str) and reason.strip()):
            raise CatalogueError(f"{where}: a requirement that is not decidable needs a reason")
        if decidable and reason is not None:
            raise CatalogueError(f"{where}: reason is only for requirements that are not decidable")
        if gap is not None and (not decidable or not isinstance(gap, str) or not gap.strip()):
            raise CatalogueError(f"{where}: gap is a non-empty string, for decidable requirements")
        out.append(Requirement(number, summary.strip(), decidable, reason, gap))
    return sorted(out, key=lambda r: r.sort_key)


@cache
def requirements() -> list[Requirement]:
    """Every requirement of ``data/pci_dss_v4.yaml``, in numeric order."""
    text = data_file("pci_dss_v4.yaml").read_text(encoding="utf-8")
    return parse(text)


def requirement(number: str) -> Requirement:
    """One requirement by number; ``KeyError`` when the catalogue does not list it."""
    for req in requirements():
        if req.number == number:
            return req
    raise KeyError(number)


def coverage(rules: Iterable[Rule] | None = None) -> dict[str, list[Rule]]:
    """For every listed requirement, the rules that name it (sorted by id; maybe empty).

    ``rules`` defaults to the whole registry. References to numbers the catalogue does not
    list are left out here; :func:`unknown_references` reports them.
    """
    if rules is None:
        from governance.registry import all_rules

        rules = all_rules()
    out: dict[str, list[Rule]] = {req.number: [] for req in requirements()}
    for r in sorted(rules, key=lambda r: r.id):
        for number in r.pci:
            if number in out:
                out[number].append(r)
    return out


def unknown_references(rules: Iterable[Rule]) -> dict[str, list[str]]:
    """Rule id -> PCI numbers it names that the catalogue does not list."""
    known = {req.number for req in requirements()}
    return {
        r.id: [n for n in r.pci if n not in known]
        for r in rules
        if any(n not in known for n in r.pci)
    }
