"""The usage profile: the workload the estimate assumes, and usage values per resource.

A profile is YAML (``usage/default.yaml`` is the documented default; ``--usage FILE`` layers a
file over it). It states the workload from one number, the peak transactions per minute, and a
daily shape (the share of the peak rate in each hour), which give the month's transactions; each
environment sees a stated share of them. Usage values per resource then follow from the
transactions:

* a number: that quantity a month (``monthly_requests: 250000``);
* ``{per_transaction: x}``: x per transaction of the resource's environment;
* ``{kb_per_transaction: x}``: x KB per transaction, as GB (keys ending in ``_gb``);
* optional ``months: m`` multiplies (data kept m months), ``split_by_type: true`` divides by the
  number of resources of the same type in the environment (traffic shared by several APIs).

Values come from ``defaults`` (per CloudFormation type), then every matching entry of
``resources`` in file order (``match`` globs over construct path, logical id and literal physical
name, case-insensitive, ``-`` and ``_`` ignored; or an exact ``logical_id``), later entries winning.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from governance.template import Resource

DEFAULT_USAGE_PATH = Path(__file__).with_name("usage") / "default.yaml"
_NAME_PROPS = (
    "FunctionName",
    "TableName",
    "QueueName",
    "TopicName",
    "BucketName",
    "LogGroupName",
    "Name",
    "StateMachineName",
    "AlarmName",
    "DashboardName",
)
_VALUE_KEYS = {"per_transaction", "kb_per_transaction", "months", "split_by_type"}


class UsageError(Exception):
    """The usage profile is malformed; the message names the file and key."""


@dataclass(frozen=True)
class Workload:
    """The workload, from one number: peak transactions per minute, and how the day goes."""

    peak_transactions_per_minute: float
    hourly_shape: tuple[float, ...]
    days_per_month: float
    environment_share: Mapping[str, float]
    default_share: float

    @property
    def peak_hour_equivalents(self) -> float:
        """Sum of the hourly shares: the day's traffic in hours at the peak rate."""
        return sum(self.hourly_shape)

    @property
    def monthly_transactions_at_full_share(self) -> float:
        return (
            self.peak_transactions_per_minute
            * 60
            * self.peak_hour_equivalents
            * self.days_per_month
        )

    def share(self, environment: str) -> float:
        return float(self.environment_share.get(environment, self.default_share))

    def monthly_transactions(self, environment: str) -> float:
        return self.monthly_transactions_at_full_share * self.share(environment)

    def hourly_fractions(self) -> list[float]:
        """Each hour's fraction of the day's traffic (sums to 1)."""
        total = self.peak_hour_equivalents
        return [h / total for h in self.hourly_shape]


@dataclass
class Usage:
    """Usage values of one resource, resolved against its environment's transactions."""

    values: dict[str, Any]
    explicit: set[str]
    transactions: float
    split_count: int = 1
    sources: dict[str, str] = field(default_factory=dict)

    def has(self, key: str) -> bool:
        return key in self.values

    def is_explicit(self, key: str) -> bool:
        """Set for this resource (by a ``resources`` entry), not by its type's default."""
        return key in self.explicit

    def get(self, key: str, default: float = 0.0) -> float:
        if key not in self.values:
            return default
        return resolve_value(self.values[key], key, self.transactions, self.split_count)

    def raw_split(self, key: str) -> bool:
        """Whether the value is shared among the environment's resources of the same type."""
        raw = self.values.get(key)
        return isinstance(raw, Mapping) and bool(raw.get("split_by_type"))

    def text(self, key: str, default: str = "") -> str:
        value = self.values.get(key, default)
        return str(value)

    def describe(self, key: str) -> str:
        """How the value was stated, for the report ("1.0 per transaction")."""
        raw = self.values.get(key)
        if isinstance(raw, Mapping):
            parts = []
            if "per_transaction" in raw:
                parts.append(f"{raw['per_transaction']:g} per transaction")
            if "kb_per_transaction" in raw:
                parts.append(f"{raw['kb_per_transaction']:g} KB per transaction")
            if "months" in raw:
                parts.append(f"kept {raw['months']:g} months")
            if raw.get("split_by_type"):
                parts.append(f"shared by {self.split_count}")
            return ", ".join(parts)
        return f"{raw}"


def resolve_value(raw: Any, key: str, transactions: float, split_count: int = 1) -> float:
    if isinstance(raw, bool):
        return 1.0 if raw else 0.0
    if isinstance(raw, (int, float)):
        return float(raw)
    if isinstance(raw, Mapping):
        if "per_transaction" in raw:
            value = float(raw["per_transaction"]) * transactions
        elif "kb_per_transaction" in raw:
            value = float(raw["kb_per_transaction"]) * transactions / (1024.0 * 1024.0)
        else:
            value = 0.0
        value *= float(raw.get("months", 1))
        if raw.get("split_by_type") and split_count > 1:
            value /= split_count
        return value
    raise UsageError(f"usage value for {key} is not a number: {raw!r}")


@dataclass
class _Rule:
    patterns: tuple[re.Pattern[str], ...]
    logical_id: str | None
    resource_type: str | None
    values: dict[str, Any]
    where: str

    def matches(self, resource: Resource, names: tuple[str, ...]) -> bool:
        if self.resource_type and resource.type != self.resource_type:
            return False
        if self.logical_id is not None:
            return resource.logical_id == self.logical_id
        return any(p.fullmatch(n) for p in self.patterns for n in names)


def _norm(text: str) -> str:
    return text.lower().replace("-", "").replace("_", "")


@dataclass
class UsageProfile:
    """The workload and the usage rules, read from one or more YAML files."""

    workload: Workload
    defaults: dict[str, dict[str, Any]]
    rules: list[_Rule]
    files: list[str]
    notes: list[str] = field(default_factory=list)
    _cache: dict[tuple[str, tuple[str, ...]], tuple[dict[str, Any], frozenset[str]]] = field(
        default_factory=dict, repr=False
    )
    _transactions: dict[str, float] = field(default_factory=dict, repr=False)

    def monthly_transactions(self, environment: str) -> float:
        found = self._transactions.get(environment)
        if found is None:
            found = self._transactions[environment] = self.workload.monthly_transactions(
                environment
            )
        return found

    def for_resource(self, resource: Resource, environment: str, split_count: int = 1) -> Usage:
        names = _names(resource)
        cache_key = (resource.type, names)
        hit = self._cache.get(cache_key)
        if hit is None:
            values = dict(self.defaults.get(resource.type, {}))
            explicit: set[str] = set()
            for rule in self.rules:
                if rule.matches(resource, names):
                    values.update(rule.values)
                    explicit.update(rule.values)
            hit = (values, frozenset(explicit))
            self._cache[cache_key] = hit
        values, explicit = hit
        return Usage(
            values=values,
            explicit=set(explicit),
            transactions=self.monthly_transactions(environment),
            split_count=max(split_count, 1),
        )

    def validate(self, known: Mapping[str, Iterable[str]], free_types: Iterable[str]) -> None:
        """Every key must be one the type's pricer reads; free types take no usage."""
        free = set(free_types)
        for rtype, values in self.defaults.items():
            self._check(rtype, values, known, free, f"defaults.{rtype}")
        for rule in self.rules:
            if rule.resource_type:
                self._check(rule.resource_type, rule.values, known, free, rule.where)
            else:
                allowed = set().union(*(set(v) for v in known.values()))
                bad = sorted(set(rule.values) - allowed)
                if bad:
                    raise UsageError(f"{rule.where}: unknown usage key {bad[0]!r}")

    def _check(
        self,
        rtype: str,
        values: Mapping[str, Any],
        known: Mapping[str, Iterable[str]],
        free: set[str],
        where: str,
    ) -> None:
        if rtype in free:
            raise UsageError(f"{where}: {rtype} is free and takes no usage values")
        if rtype not in known:
            raise UsageError(f"{where}: {rtype} is not a priced resource type")
        allowed = set(known[rtype])
        for key in values:
            if key not in allowed:
                raise UsageError(
                    f"{where}: {rtype} has no usage key {key!r} (known: {', '.join(sorted(allowed))})"
                )


def _names(resource: Resource) -> tuple[str, ...]:
    out = [_norm(resource.logical_id)]
    path = resource.construct_path
    if path:
        out.append(_norm(path))
    for prop in _NAME_PROPS:
        value = resource.properties.get(prop)
        if isinstance(value, str):
            out.append(_norm(value))
    return tuple(out)


# --- loading ---------------------------------------------------------------------------------


def load_usage(extra: str | Path | None = None) -> UsageProfile:
    """The default profile, with ``extra`` (a user's usage file) layered over it."""
    documents = [(str(DEFAULT_USAGE_PATH), _read(DEFAULT_USAGE_PATH))]
    if extra is not None:
        documents.append((str(extra), _read(Path(extra))))
    return build_profile(documents)


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise UsageError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except yaml.YAMLError as exc:
        raise UsageError(f"{path}: invalid YAML ({str(exc).splitlines()[0]})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UsageError(f"{path}: a usage profile is a mapping (workload, defaults, resources)")
    unknown = set(data) - {"workload", "defaults", "resources", "version"}
    if unknown:
        raise UsageError(f"{path}: unknown top-level key {sorted(unknown)[0]!r}")
    return data


def build_profile(documents: list[tuple[str, dict[str, Any]]]) -> UsageProfile:
    workload_raw: dict[str, Any] = {}
    defaults: dict[str, dict[str, Any]] = {}
    rules: list[_Rule] = []
    for name, doc in documents:
        for key, value in (doc.get("workload") or {}).items():
            if key == "environment_share" and isinstance(value, Mapping):
                workload_raw.setdefault(key, {}).update(value)
            else:
                workload_raw[key] = value
        for rtype, values in (doc.get("defaults") or {}).items():
            if not isinstance(values, Mapping):
                raise UsageError(f"{name}: defaults.{rtype} must be a mapping")
            _check_values(values, f"{name}: defaults.{rtype}")
            defaults.setdefault(rtype, {}).update(values)
        for i, entry in enumerate(doc.get("resources") or []):
            rules.append(_rule(entry, f"{name}: resources[{i}]"))
    return UsageProfile(
        workload=_workload(workload_raw, documents[-1][0]),
        defaults=defaults,
        rules=rules,
        files=[n for n, _ in documents],
    )


def _rule(entry: Any, where: str) -> _Rule:
    if not isinstance(entry, Mapping):
        raise UsageError(f"{where} must be a mapping with match/logical_id and usage")
    values = entry.get("usage")
    if not isinstance(values, Mapping) or not values:
        raise UsageError(f"{where}.usage must be a non-empty mapping")
    _check_values(values, f"{where}.usage")
    match = entry.get("match")
    logical_id = entry.get("logical_id")
    if match is None and logical_id is None:
        raise UsageError(f"{where} needs `match` (globs) or `logical_id`")
    patterns: list[re.Pattern[str]] = []
    if match is not None:
        globs = [match] if isinstance(match, str) else match
        if not isinstance(globs, list) or not all(isinstance(g, str) for g in globs):
            raise UsageError(f"{where}.match must be a glob or a list of globs")
        patterns = [re.compile(fnmatch.translate(_norm(g)), re.S) for g in globs]
    rtype = entry.get("type")
    if rtype is not None and not isinstance(rtype, str):
        raise UsageError(f"{where}.type must be a CloudFormation type name")
    return _Rule(tuple(patterns), logical_id, rtype, dict(values), where)


def _check_values(values: Mapping[str, Any], where: str) -> None:
    for key, raw in values.items():
        if isinstance(raw, (bool, int, float, str)):
            continue
        if isinstance(raw, Mapping):
            bad = set(raw) - _VALUE_KEYS
            if bad:
                raise UsageError(f"{where}.{key}: unknown form key {sorted(bad)[0]!r}")
            if "per_transaction" not in raw and "kb_per_transaction" not in raw:
                raise UsageError(f"{where}.{key}: needs per_transaction or kb_per_transaction")
            for k in ("per_transaction", "kb_per_transaction", "months"):
                if k in raw and (
                    isinstance(raw[k], bool) or not isinstance(raw[k], (int, float)) or raw[k] < 0
                ):
                    raise UsageError(f"{where}.{key}.{k} must be a number >= 0")
            continue
        raise UsageError(f"{where}.{key} must be a number or a per-transaction mapping")


def _workload(raw: Mapping[str, Any], where: str) -> Workload:
    def number(key: str, default: float | None = None) -> float:
        value = raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise UsageError(f"{where}: workload.{key} must be a number >= 0; got {value!r}")
        return float(value)

    shape = raw.get("hourly_shape")
    if (
        not isinstance(shape, list)
        or len(shape) != 24
        or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0 for v in shape
        )
        or max(shape) <= 0
    ):
        raise UsageError(f"{where}: workload.hourly_shape must be 24 numbers >= 0 (1.0 = peak)")
    shares = raw.get("environment_share") or {}
    if not isinstance(shares, Mapping):
        raise UsageError(f"{where}: workload.environment_share must be a mapping")
    return Workload(
        peak_transactions_per_minute=number("peak_transactions_per_minute"),
        hourly_shape=tuple(float(v) for v in shape),
        days_per_month=number("days_per_month", 730 / 24),
        environment_share={str(k): float(v) for k, v in shares.items()},
        default_share=number("default_environment_share", 1.0),
    )
