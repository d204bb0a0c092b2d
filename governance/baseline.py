"""The adoption baseline: today's findings recorded once, so only new ones fail.

A team adopting governance on an app that already has findings runs
``govern baseline create cdk.out -o governance-baseline.json``. Each entry records the rule, the
stack and its template file, the logical id and a fingerprint of the offending property (the SHA-256 of the value at the
finding's property path), the date it was accepted and, optionally, an expiry date like an
exception's. Afterwards the plugin (policy key ``baseline``) and ``govern check --baseline FILE``
fail only on findings that are not in the baseline; a finding whose property changed is new, and
an entry whose expiry has passed no longer covers its finding. Entries that match no finding any
more are listed, so the file shrinks as the app is fixed.

Baselined findings are not hidden: they keep their rule, severity and message, with status
``acknowledged``, reason ``in the adoption baseline since <date>`` and ``exception`` describing the
entry (``{"kind": "baseline", "accepted": ..., "expires": ...}``), so the compliance report lists
them as baselined.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from governance.exceptions import UNWAIVABLE_RULES, parse_expires
from governance.model import Finding
from governance.template import InputError, Template

FORMAT_VERSION = 1
BASELINE_KIND = "baseline"


@dataclass(frozen=True)
class BaselineEntry:
    """One accepted finding."""

    rule: str
    stack: str
    logical_id: str
    fingerprint: str
    property_path: str = "Properties"
    accepted: dt.date | None = None
    expires: dt.date | None = None
    message: str = ""
    #: The template's file name (``App.template.json``): what is matched, since the plugin and
    #: ``govern check`` may name a stack differently (artifact id or ``stackName``).
    template: str = ""

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.rule, self.template or self.stack, self.logical_id, self.fingerprint)

    def expired(self, today: dt.date) -> bool:
        return self.expires is not None and self.expires < today

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "rule": self.rule,
            "stack": self.stack,
            "template": self.template,
            "logical_id": self.logical_id,
            "property_path": self.property_path,
            "fingerprint": self.fingerprint,
            "accepted": self.accepted.isoformat() if self.accepted else None,
            "message": self.message,
        }
        if self.expires is not None:
            data["expires"] = self.expires.isoformat()
        return data

    def describe(self) -> str:
        return f"{self.rule} on {self.stack}/{self.logical_id} ({self.property_path})"


@dataclass
class Baseline:
    entries: list[BaselineEntry] = field(default_factory=list)
    path: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"version": FORMAT_VERSION, "entries": [e.to_dict() for e in self.entries]}


@dataclass
class Outcome:
    """What applying a baseline did: findings it covered, entries that no longer occur, entries
    whose expiry has passed (their findings count again)."""

    baselined: list[Finding] = field(default_factory=list)
    stale: list[BaselineEntry] = field(default_factory=list)
    expired: list[BaselineEntry] = field(default_factory=list)

    def messages(self) -> list[str]:
        """One line per stale or expired entry, for standard error."""
        lines = [f"baseline entry no longer occurs: {e.describe()}" for e in self.stale]
        lines += [
            f"baseline entry expired on {e.expires.isoformat()}: {e.describe()}"
            for e in self.expired
            if e.expires is not None
        ]
        return lines


# --- fingerprints --------------------------------------------------------------------------


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def offending_value(template: Template | None, logical_id: str, property_path: str) -> Any:
    """The value at ``property_path`` (``Properties/Tags/0``) of the resource; the deepest part
    of the path that exists when the rest does not (a missing property is ``None`` below it)."""
    raw = (template.body.get("Resources") or {}).get(logical_id) if template else None
    node: Any = raw
    for step in [p for p in property_path.split("/") if p]:
        if isinstance(node, dict) and step in node:
            node = node[step]
        elif isinstance(node, list) and step.isdigit() and int(step) < len(node):
            node = node[int(step)]
        else:
            return {"missing": step, "under": node if not isinstance(node, (dict, list)) else None}
    return node


def fingerprint(finding: Finding, template: Template | None) -> str:
    """SHA-256 (first 16 hex digits) of the offending property's value and its path."""
    value = offending_value(template, finding.logical_id, finding.property_path)
    text = f"{finding.property_path}|{_canonical(value)}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _by_path(templates: Iterable[Template]) -> dict[str, Template]:
    return {t.path: t for t in templates}


# --- creating, reading, writing ------------------------------------------------------------


def eligible(finding: Finding) -> bool:
    """Findings a baseline may hold: our unacknowledged ones, never findings about exceptions."""
    return (
        finding.source == "governance"
        and not finding.acknowledged
        and finding.rule_id not in UNWAIVABLE_RULES
    )


def create(
    findings: Iterable[Finding],
    templates: Iterable[Template],
    *,
    today: dt.date | None = None,
    expires: dt.date | None = None,
) -> Baseline:
    """A baseline of every eligible finding, accepted ``today``."""
    today = today or dt.date.today()
    index = _by_path(templates)
    entries: dict[tuple[str, str, str, str], BaselineEntry] = {}
    for f in findings:
        if not eligible(f):
            continue
        entry = BaselineEntry(
            rule=f.rule_id,
            stack=f.stack,
            logical_id=f.logical_id,
            fingerprint=fingerprint(f, index.get(f.template_path)),
            property_path=f.property_path,
            accepted=today,
            expires=expires,
            message=f.message,
            template=Path(f.template_path).name,
        )
        entries.setdefault(entry.key, entry)
    ordered = sorted(entries.values(), key=lambda e: (e.stack, e.logical_id, e.rule, e.fingerprint))
    return Baseline(ordered)


def write(baseline: Baseline, path: str | Path) -> None:
    Path(path).write_text(json.dumps(baseline.to_dict(), indent=2) + "\n")


def _date(value: Any, where: str, path: Path) -> dt.date | None:
    try:
        return parse_expires(value)
    except ValueError:
        raise InputError(path, f"{where} must be a date 'YYYY-MM-DD'; got {value!r}") from None


def load(path: str | Path) -> Baseline:
    """Read a baseline file; :class:`InputError` (one line) when it is missing or malformed."""
    file = Path(path)
    try:
        data = json.loads(file.read_text())
    except OSError as exc:
        raise InputError(file, f"cannot read baseline ({exc.strerror or exc})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(file, f"not a baseline file ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("entries"), list):
        raise InputError(file, "not a baseline file (no list of entries)")
    if data.get("version") != FORMAT_VERSION:
        raise InputError(file, f"baseline version {data.get('version')!r} is not {FORMAT_VERSION}")
    entries = []
    for i, raw in enumerate(data["entries"]):
        where = f"entry {i}"
        if not isinstance(raw, dict):
            raise InputError(file, f"{where} is not an object")
        text = {}
        for key in ("rule", "stack", "logical_id", "fingerprint"):
            if not isinstance(raw.get(key), str) or not raw[key]:
                raise InputError(file, f"{where} has no {key}")
            text[key] = raw[key]
        path_value = raw.get("property_path", "Properties")
        entries.append(
            BaselineEntry(
                **text,
                property_path=path_value if isinstance(path_value, str) else "Properties",
                accepted=_date(raw.get("accepted"), f"{where}.accepted", file),
                expires=_date(raw.get("expires"), f"{where}.expires", file),
                message=raw.get("message") if isinstance(raw.get("message"), str) else "",
                template=raw.get("template") if isinstance(raw.get("template"), str) else "",
            )
        )
    return Baseline(entries, str(file))


# --- applying ------------------------------------------------------------------------------


def apply(
    findings: list[Finding],
    templates: Iterable[Template],
    baseline: Baseline,
    *,
    today: dt.date | None = None,
) -> Outcome:
    """Mark the findings the baseline covers (in place) and say what no longer occurs."""
    today = today or dt.date.today()
    index = _by_path(templates)
    entries = {e.key: e for e in baseline.entries}
    matched: set[tuple[str, str, str, str]] = set()
    outcome = Outcome()
    for f in findings:
        if not eligible(f):
            continue
        found = fingerprint(f, index.get(f.template_path))
        entry = entries.get((f.rule_id, Path(f.template_path).name, f.logical_id, found))
        if entry is None:  # an entry written without its template's file name
            entry = entries.get((f.rule_id, f.stack, f.logical_id, found))
        if entry is None:
            continue
        key = entry.key
        matched.add(key)
        if entry.expired(today):
            continue
        accepted = entry.accepted.isoformat() if entry.accepted else "an unknown date"
        f.status = "acknowledged"
        f.reason = f"in the adoption baseline since {accepted}"
        f.exception = {
            "kind": BASELINE_KIND,
            "reason": f.reason,
            "accepted": entry.accepted.isoformat() if entry.accepted else None,
            "expires": entry.expires.isoformat() if entry.expires else None,
            "expired": False,
            "file": baseline.path,
        }
        outcome.baselined.append(f)
    for key, entry in entries.items():
        if key not in matched:
            outcome.stale.append(entry)
        elif entry.expired(today):
            outcome.expired.append(entry)
    return outcome


def resolve(path: str, base: Path | None = None) -> Path:
    """A baseline path from the policy, relative to ``base`` (the app's directory) unless absolute."""
    candidate = Path(path)
    return candidate if candidate.is_absolute() or base is None else base / candidate
