"""Usage: the keys pricers declare, and the profile (YAML) that states the workload.

**Declarations.** Each pricer declares, in its ``@prices(..., usage=(...))`` decorator, every
usage key it reads about its type as a :class:`UsageKey`: name (units last, Infracost's
convention), default, unit and a one-line description. That declaration is the one place a key
and its default live; ``docs/usage.md`` is generated from it. A default is a number, a form that
follows the workload (:func:`per_transaction`, :func:`kb_per_transaction`), or :func:`derived`
when the pricer works the value out from the template unless the profile states it. Reading a
key the resource's type does not declare raises :class:`UndeclaredUsageKey`.

**The profile.** YAML (``usage/payments.yaml`` for the payment platform, passed with ``--usage``;
each further ``--usage FILE`` is layered over the previous ones; without any, no workload is
assumed: usage-based components show their unit price and "depends on usage"). It states
the workload from one number, the peak transactions per minute, and a daily shape (the share of
the peak rate in each hour), which give the month's transactions; each environment sees a stated
share of them. ``resources`` entries then set values for matching resources (``match`` globs over
construct path, logical id and literal physical name, case-insensitive, ``-`` and ``_`` ignored;
or an exact ``logical_id``; optionally only of one ``type``), later entries winning. An optional
``defaults`` section replaces a declared default for every resource of a type (like Infracost's
``resource_type_default_usage``). A value in the profile takes the declaration's forms:

* a number: that quantity a month (``monthly_requests: 250000``);
* ``{per_transaction: x}``: x per transaction of the resource's environment;
* ``{kb_per_transaction: x}``: x KB per transaction, as GB (keys ending in ``_gb``);
* optional ``months: m`` multiplies (data kept m months), ``split_by_type: true`` divides by the
  number of resources of the same type in the environment (traffic shared by several APIs).

A key no pricer declares for the type, in any file, is refused with one sentence naming the file
and the key (and the key that was probably meant).
"""

from __future__ import annotations

import difflib
import fnmatch
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from governance.template import Resource
from reports.cost.free import FREE_TYPES

#: The payment platform's own usage profile (its workload and named resources). It is passed
#: explicitly (``govern report cost --usage reports/cost/usage/payments.yaml``, as ``make demo``
#: does); without a usage file no workload is assumed and usage-based charges "depend on usage".
PLATFORM_USAGE_PATH = Path(__file__).with_name("usage") / "payments.yaml"
KB_PER_GB = 1024.0 * 1024.0
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
_FORM_KEYS = {"per_transaction", "kb_per_transaction", "months", "split_by_type"}
_KEY_NAME = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class UsageError(Exception):
    """The usage profile is malformed; the message names the file and key."""


class UndeclaredUsageKey(LookupError):
    """A pricer read a usage key its type does not declare (a bug in the pricer)."""


class UnsetUsageKey(LookupError):
    """A pricer read a derived key that has no value without checking ``has()`` first."""


# --- value forms and declarations --------------------------------------------------------------


@dataclass(frozen=True)
class PerTransaction:
    """A quantity that follows the workload: ``amount`` per transaction (KB when ``kb``)."""

    amount: float
    kb: bool = False
    months: float = 1.0
    split_by_type: bool = False

    def resolve(self, transactions: float, split_count: int) -> float:
        value = self.amount * transactions
        if self.kb:
            value /= KB_PER_GB
        value *= self.months
        if self.split_by_type and split_count > 1:
            value /= split_count
        return value

    def describe(self) -> str:
        text = (
            f"{self.amount:g} KB per transaction" if self.kb else f"{self.amount:g} per transaction"
        )
        if self.months != 1.0:
            text += f", kept {self.months:g} months"
        if self.split_by_type:
            text += ", shared by the type's resources in the environment"
        return text


@dataclass(frozen=True)
class Derived:
    """No fixed default: unless the profile sets the key, the pricer works it out (``how``)."""

    how: str


Value = float | PerTransaction
Default = float | PerTransaction | Derived


def per_transaction(
    amount: float, *, months: float = 1.0, split_by_type: bool = False
) -> PerTransaction:
    """A default of ``amount`` per transaction of the resource's environment."""
    return PerTransaction(float(amount), False, float(months), split_by_type)


def kb_per_transaction(
    amount: float, *, months: float = 1.0, split_by_type: bool = False
) -> PerTransaction:
    """A default of ``amount`` KB per transaction, as GB (for keys ending in ``_gb``)."""
    return PerTransaction(float(amount), True, float(months), split_by_type)


def derived(how: str) -> Derived:
    """No fixed default: the pricer derives the value (``how`` says from what) unless it is set."""
    return Derived(how)


@dataclass(frozen=True)
class UsageKey:
    """One usage value a pricer reads: its name, default, unit and a one-line description."""

    name: str
    default: Default
    unit: str
    description: str

    def __post_init__(self) -> None:
        if not _KEY_NAME.fullmatch(self.name):
            raise ValueError(f"usage key {self.name!r} is not snake_case")
        if isinstance(self.default, bool) or not isinstance(
            self.default, (int, float, PerTransaction, Derived)
        ):
            raise ValueError(f"usage key {self.name}: default {self.default!r} is not a usage form")
        if isinstance(self.default, int):
            object.__setattr__(self, "default", float(self.default))
        if not self.unit or not self.description or "\n" in self.description:
            raise ValueError(f"usage key {self.name} needs a unit and a one-line description")

    @property
    def has_default(self) -> bool:
        return not isinstance(self.default, Derived)

    def describe_default(self) -> str:
        if isinstance(self.default, Derived):
            return f"derived: {self.default.how}"
        if isinstance(self.default, PerTransaction):
            return self.default.describe()
        value = self.default
        return f"{int(value):,}" if value == int(value) else f"{value:g}"


#: Usage keys by CloudFormation type, then by key name.
Declarations = Mapping[str, Mapping[str, UsageKey]]


def declarations(by_type: Mapping[str, Iterable[UsageKey]]) -> dict[str, dict[str, UsageKey]]:
    """Index declared keys by type and name; a key declared twice for one type is refused."""
    out: dict[str, dict[str, UsageKey]] = {}
    for rtype, keys in by_type.items():
        table = out.setdefault(rtype, {})
        for key in keys:
            if key.name in table:
                raise ValueError(f"{rtype} declares usage key {key.name} twice")
            table[key.name] = key
    return out


# --- the workload ------------------------------------------------------------------------------


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


#: No workload stated: no transactions, so per-transaction quantities are zero.
NO_WORKLOAD = Workload(
    peak_transactions_per_minute=0.0,
    hourly_shape=(1.0,) * 24,
    days_per_month=730 / 24,
    environment_share={},
    default_share=1.0,
)


# --- one resource's usage ----------------------------------------------------------------------


@dataclass
class Usage:
    """Usage values of one resource, resolved against its environment's transactions.

    Every read names a key the resource's type declares; anything else raises
    :class:`UndeclaredUsageKey`.
    """

    resource_type: str
    declared: Mapping[str, UsageKey]
    values: Mapping[str, Value]
    explicit: frozenset[str]
    transactions: float
    split_count: int = 1

    def _check(self, key: str) -> UsageKey:
        found = self.declared.get(key)
        if found is None:
            raise UndeclaredUsageKey(_undeclared(self.resource_type, key, self.declared))
        return found

    def has(self, key: str) -> bool:
        """Whether the key has a value (a declared default counts; a derived key unset does not)."""
        self._check(key)
        return key in self.values

    def is_explicit(self, key: str) -> bool:
        """Set for this resource (by a ``resources`` entry), not by its type's default."""
        self._check(key)
        return key in self.explicit

    def get(self, key: str) -> float:
        """The value of ``key`` for this resource this month."""
        declared = self._check(key)
        raw = self.values.get(key)
        if raw is None:
            how = declared.default.how if isinstance(declared.default, Derived) else ""
            raise UnsetUsageKey(
                f"{self.resource_type} usage key {key} has no value here (its default is derived:"
                f" {how}); the pricer must check has() first"
            )
        if isinstance(raw, PerTransaction):
            return raw.resolve(self.transactions, self.split_count)
        return raw

    def is_shared(self, key: str) -> bool:
        """Whether the value is shared among the environment's resources of the same type."""
        self._check(key)
        raw = self.values.get(key)
        return isinstance(raw, PerTransaction) and raw.split_by_type


def _undeclared(rtype: str | None, key: str, declared: Iterable[str]) -> str:
    """One sentence: ``rtype`` (or, with ``None``, any pricer) declares no ``key``; the near miss."""
    names = sorted(declared)
    close = difflib.get_close_matches(key, names, n=1)
    if rtype is None:
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"no pricer declares usage key {key!r}{hint}"
    if close:
        hint = f"did you mean {close[0]!r}?"
    elif names:
        hint = f"its keys are {', '.join(names)}"
    else:
        hint = "its pricer reads no usage"
    return f"{rtype} declares no usage key {key!r} ({hint})"


# --- the profile -------------------------------------------------------------------------------


@dataclass
class _Rule:
    patterns: tuple[re.Pattern[str], ...]
    logical_id: str | None
    resource_type: str | None
    values: dict[str, Value]
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
    """The workload, the declared keys and the profile's values, read from YAML files."""

    workload: Workload
    declared: Declarations
    overrides: dict[str, dict[str, Value]]
    rules: list[_Rule]
    files: list[str]
    #: False when no usage file was given: usage-based charges then "depend on usage"
    usage_stated: bool = True
    _cache: dict[tuple[str, tuple[str, ...]], tuple[dict[str, Value], frozenset[str]]] = field(
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

    def type_values(self, resource_type: str) -> dict[str, Value]:
        """The declared defaults of a type, with the profile's ``defaults`` section over them."""
        declared = self.declared.get(resource_type, {})
        values: dict[str, Value] = {
            name: key.default
            for name, key in declared.items()
            if not isinstance(key.default, Derived)
        }
        values.update(self.overrides.get(resource_type, {}))
        return values

    def for_type(self, resource_type: str, environment: str) -> Usage:
        """The usage every resource of ``resource_type`` gets when no entry names it."""
        return Usage(
            resource_type=resource_type,
            declared=self.declared.get(resource_type, {}),
            values=self.type_values(resource_type),
            explicit=frozenset(),
            transactions=self.monthly_transactions(environment),
        )

    def has_own_usage(self, resource: Resource) -> bool:
        """A ``resources`` entry matches ``resource``: it does not share its type's default.

        A ``split_by_type`` default is shared by the resources of the type that no entry names
        (a system that states its own traffic does not dilute the others')."""
        names = _names(resource)
        return any(rule.matches(resource, names) for rule in self.rules)

    def for_resource(self, resource: Resource, environment: str, split_count: int = 1) -> Usage:
        names = _names(resource)
        cache_key = (resource.type, names)
        hit = self._cache.get(cache_key)
        declared = self.declared.get(resource.type, {})
        if hit is None:
            values = self.type_values(resource.type)
            explicit: set[str] = set()
            for rule in self.rules:
                if rule.matches(resource, names):
                    # an entry without a type sets only the keys this type declares
                    wanted = {k: v for k, v in rule.values.items() if k in declared}
                    values.update(wanted)
                    explicit.update(wanted)
            hit = (values, frozenset(explicit))
            self._cache[cache_key] = hit
        values, explicit_keys = hit
        return Usage(
            resource_type=resource.type,
            declared=declared,
            values=values,
            explicit=explicit_keys,
            transactions=self.monthly_transactions(environment),
            split_count=max(split_count, 1),
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


# --- loading -----------------------------------------------------------------------------------


def load_usage(
    files: str | Path | Iterable[str | Path] | None, declared: Declarations
) -> UsageProfile:
    """The profile of the usage ``files`` (each layered over the previous ones).

    With none, the profile states no usage: every usage-based component is shown with its unit
    price as "depends on usage" and left out of the totals, and only fixed costs are summed.
    """
    if files is None:
        paths: list[Path] = []
    elif isinstance(files, (str, Path)):
        paths = [Path(files)]
    else:
        paths = [Path(f) for f in files]
    if not paths:
        return build_profile([], declared)
    return build_profile([(str(p), read_profile(p)) for p in paths], declared)


def read_profile(path: Path) -> dict[str, Any]:
    """One usage file as a mapping (``workload``, ``defaults``, ``resources``, ``version``)."""
    try:
        data = yaml.load(path.read_text(), Loader=_Loader)  # noqa: S506 (a safe loader)
    except OSError as exc:
        raise UsageError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except yaml.YAMLError as exc:
        raise UsageError(f"{path}: invalid YAML ({str(exc).splitlines()[0]})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UsageError(f"{path}: a usage profile is a mapping (workload, resources, defaults)")
    unknown = set(data) - {"workload", "defaults", "resources", "version"}
    if unknown:
        raise UsageError(f"{path}: unknown top-level key {sorted(unknown)[0]!r}")
    return data


def build_profile(
    documents: list[tuple[str, dict[str, Any]]], declared: Declarations
) -> UsageProfile:
    """The profile of ``documents`` (name, mapping) in order, checked against ``declared``."""
    workload_raw: dict[str, Any] = {}
    overrides: dict[str, dict[str, Value]] = {}
    rules: list[_Rule] = []
    every_key = {name for keys in declared.values() for name in keys}
    for name, doc in documents:
        for key, value in (doc.get("workload") or {}).items():
            if key == "environment_share" and isinstance(value, Mapping):
                workload_raw.setdefault(key, {}).update(value)
            else:
                workload_raw[key] = value
        defaults = doc.get("defaults") or {}
        if not isinstance(defaults, Mapping):
            raise UsageError(f"{name}: defaults must be a mapping of resource types")
        for rtype, values in defaults.items():
            where = f"{name}: defaults.{rtype}"
            if not isinstance(values, Mapping):
                raise UsageError(f"{where} must be a mapping")
            _check_type(rtype, where, declared)
            _check_keys(values, declared[rtype], rtype, where)
            overrides.setdefault(rtype, {}).update(_values(values, where))
        entries = doc.get("resources") or []
        if not isinstance(entries, list):
            raise UsageError(f"{name}: resources must be a list of entries")
        for i, entry in enumerate(entries):
            rules.append(_rule(entry, f"{name}: resources[{i}]", declared, every_key))
    stated = bool(documents)
    return UsageProfile(
        workload=_workload(workload_raw, documents[-1][0]) if workload_raw else NO_WORKLOAD,
        declared=declared,
        overrides=overrides,
        rules=rules,
        files=[n for n, _ in documents],
        usage_stated=stated,
    )


def _check_type(rtype: Any, where: str, declared: Declarations) -> None:
    if rtype in FREE_TYPES:
        raise UsageError(f"{where}: {rtype} is free and takes no usage values")
    if rtype not in declared:
        close = difflib.get_close_matches(str(rtype), list(declared), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise UsageError(f"{where}: {rtype} is not a priced resource type{hint}")


def _check_keys(
    values: Mapping[str, Any],
    allowed: Mapping[str, UsageKey] | set[str],
    rtype: str | None,
    where: str,
) -> None:
    for key in values:
        if key not in allowed:
            raise UsageError(f"{where}: {_undeclared(rtype, str(key), allowed)}")


def _rule(entry: Any, where: str, declared: Declarations, every_key: set[str]) -> _Rule:
    if not isinstance(entry, Mapping):
        raise UsageError(f"{where} must be a mapping with match/logical_id and usage")
    unknown = set(entry) - {"match", "logical_id", "type", "usage"}
    if unknown:
        raise UsageError(
            f"{where}: unknown field {sorted(unknown)[0]!r} (match, logical_id, type, usage)"
        )
    values = entry.get("usage")
    if not isinstance(values, Mapping) or not values:
        raise UsageError(f"{where}.usage must be a non-empty mapping")
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
    if rtype is not None:
        if not isinstance(rtype, str):
            raise UsageError(f"{where}.type must be a CloudFormation type name")
        _check_type(rtype, where, declared)
        _check_keys(values, declared[rtype], rtype, f"{where}.usage")
    else:
        _check_keys(values, every_key, None, f"{where}.usage")
    return _Rule(tuple(patterns), logical_id, rtype, _values(values, f"{where}.usage"), where)


def _values(values: Mapping[str, Any], where: str) -> dict[str, Value]:
    return {str(key): _value(raw, f"{where}.{key}") for key, raw in values.items()}


def _number(raw: Any) -> bool:
    return isinstance(raw, (int, float)) and not isinstance(raw, bool) and raw >= 0


def _value(raw: Any, where: str) -> Value:
    if isinstance(raw, bool):  # a flag (additional_copy: true)
        return 1.0 if raw else 0.0
    if _number(raw):
        return float(raw)
    if isinstance(raw, Mapping):
        bad = set(raw) - _FORM_KEYS
        if bad:
            raise UsageError(f"{where}: unknown form key {sorted(bad)[0]!r}")
        forms = [k for k in ("per_transaction", "kb_per_transaction") if k in raw]
        if len(forms) != 1:
            raise UsageError(f"{where}: needs per_transaction or kb_per_transaction (one of them)")
        for k in (*forms, "months"):
            if k in raw and not _number(raw[k]):
                raise UsageError(f"{where}.{k} must be a number >= 0")
        split = raw.get("split_by_type", False)
        if not isinstance(split, bool):
            raise UsageError(f"{where}.split_by_type must be true or false")
        return PerTransaction(
            float(raw[forms[0]]),
            forms[0] == "kb_per_transaction",
            float(raw.get("months", 1)),
            split,
        )
    raise UsageError(f"{where} must be a number >= 0 or a per-transaction mapping; got {raw!r}")


def _workload(raw: Mapping[str, Any], where: str) -> Workload:
    def number(key: str, default: float | None = None) -> float:
        value = raw.get(key, default)
        if not _number(value):
            raise UsageError(f"{where}: workload.{key} must be a number >= 0; got {value!r}")
        return float(value)

    unknown = set(raw) - {
        "peak_transactions_per_minute",
        "hourly_shape",
        "days_per_month",
        "environment_share",
        "default_environment_share",
    }
    if unknown:
        raise UsageError(f"{where}: unknown workload key {sorted(unknown)[0]!r}")
    shape = raw.get("hourly_shape")
    if (
        not isinstance(shape, list)
        or len(shape) != 24
        or not all(_number(v) for v in shape)
        or max(shape) <= 0
    ):
        raise UsageError(f"{where}: workload.hourly_shape must be 24 numbers >= 0 (1.0 = peak)")
    shares = raw.get("environment_share") or {}
    if not isinstance(shares, Mapping) or not all(_number(v) for v in shares.values()):
        raise UsageError(f"{where}: workload.environment_share must map environments to numbers")
    return Workload(
        peak_transactions_per_minute=number("peak_transactions_per_minute"),
        hourly_shape=tuple(float(v) for v in shape),
        days_per_month=number("days_per_month", 730 / 24),
        environment_share={str(k): float(v) for k, v in shares.items()},
        default_share=number("default_environment_share", 1.0),
    )
