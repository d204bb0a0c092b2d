"""How configuration is read: strict frozen dataclasses, checked by pydantic, errors in one sentence.

Every settings class of the platform is a frozen, keyword-only dataclass declared with
:func:`settings`; its fields (types, ``annotated_types`` bounds, the small validators below)
*are* the reader. :func:`read` validates a mapping from ``cdk.json`` context against such a
class with pydantic in strict mode (``"512"`` is not a number, ``1`` is not ``true``) and
unknown keys refused, and turns pydantic's first error into :class:`ConfigError` with one
sentence that names the key path and says what is allowed, e.g.
``environments.dev.payments.functions.memory_mb must be a whole number between 128 and 10240;
got '512'``.

The path names the layer the value came from (``defaults``, ``environments.<env>``, a
profile's overlay), so the sentence points at the line to fix. This module imports no CDK:
``app.py`` checks the whole configuration before the jsii runtime starts.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import ipaddress
import json
import re
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, Literal, TypeVar

import annotated_types
from pydantic import AfterValidator, BeforeValidator, ConfigDict, TypeAdapter, ValidationError
from pydantic import with_config as _with_config

from governance.identifiers import is_account, is_region

T = TypeVar("T")

#: The retention periods CloudWatch Logs accepts (days), with CDK's name for each
#: (``aws_logs.RetentionDays.<name>``; a plain string, so this module needs no CDK).
RETENTION_DAYS: dict[int, str] = {1: "ONE_DAY", 3: "THREE_DAYS", 5: "FIVE_DAYS", 7: "ONE_WEEK", 14: "TWO_WEEKS", 30: "ONE_MONTH", 60: "TWO_MONTHS", 90: "THREE_MONTHS", 120: "FOUR_MONTHS", 150: "FIVE_MONTHS", 180: "SIX_MONTHS", 365: "ONE_YEAR", 400: "THIRTEEN_MONTHS", 545: "EIGHTEEN_MONTHS", 731: "TWO_YEARS", 1096: "THREE_YEARS", 1827: "FIVE_YEARS", 2192: "SIX_YEARS", 2557: "SEVEN_YEARS", 2922: "EIGHT_YEARS", 3288: "NINE_YEARS", 3653: "TEN_YEARS"}  # fmt: skip
#: "Never expire" in configuration: null works in process, but the CDK CLI drops null context values.
NEVER_EXPIRE = "never"

_STRICT = ConfigDict(extra="forbid", strict=True)


class ConfigError(ValueError):
    """The configuration in ``cdk.json`` is wrong; the message is one sentence naming the key."""


class Invalid(ValueError):
    """Raised by a field validator or ``__post_init__``: what is wrong, in the words of a sentence.

    ``text`` follows the key path ("must be ...", "needs ..."). ``key`` is a dotted path below
    the object being checked, for checks that span fields. The value is appended as "; got
    ..." unless ``show_value`` is false. ``missing`` words it as a missing key, ``text`` saying
    when it is required.
    """

    def __init__(
        self,
        text: str,
        *,
        key: str | None = None,
        show_value: bool = True,
        missing: bool = False,
    ) -> None:
        super().__init__(text)
        self.text = text
        self.key = key
        self.show_value = show_value and not missing
        self.missing = missing


def settings(cls: type[T]) -> type[T]:
    """Declare a settings class: a frozen, keyword-only dataclass read strictly."""
    return _with_config(_STRICT)(dataclasses.dataclass(frozen=True, kw_only=True)(cls))


@dataclasses.dataclass(frozen=True)
class Expect:
    """Annotated metadata: what a field must be, when its type alone does not say it well."""

    text: str


# -- field types ----------------------------------------------------------------------------


def _check(predicate: Callable[[Any], bool], text: str) -> AfterValidator:
    def check(value: Any) -> Any:
        if not predicate(value):
            raise Invalid(f"must be {text}")
        return value

    return AfterValidator(check)


def _never_is_none(value: Any) -> Any:
    return None if value == NEVER_EXPIRE else value


def _ipv4_cidr(value: str) -> str:
    try:
        network = ipaddress.IPv4Network(value, strict=True)
    except ValueError:
        raise Invalid("must be an IPv4 CIDR block such as 10.10.0.0/16") from None
    if not 16 <= network.prefixlen <= 28:
        raise Invalid("must be an IPv4 CIDR block between /16 and /28 (what a VPC accepts)")
    return value


def _string(predicate: Callable[[str], bool], text: str) -> Any:
    """A string ``predicate`` accepts; described as ``text`` in errors."""
    return Annotated[str, _check(predicate, text), Expect(text)]


def matching(pattern: str, text: str) -> Any:
    """A string matching all of ``pattern``; described as ``text`` in errors."""
    compiled = re.compile(pattern)
    return _string(lambda v: compiled.fullmatch(v) is not None, text)


Region = _string(is_region, "an AWS region such as us-east-1")
Account = _string(is_account, "a 12-digit AWS account id")
Email = matching(r"[^@\s]+@[^@\s]+\.[a-z]{2,}", "an e-mail address")
Cidr = Annotated[str, AfterValidator(_ipv4_cidr), Expect("an IPv4 CIDR block such as 10.10.0.0/16")]
InstanceType = matching(r"[a-z][a-z0-9-]*\.[a-z0-9]+", "an EC2 instance type")
Percent = Annotated[float, annotated_types.Interval(ge=0, le=100)]
_RETENTION = f'"{NEVER_EXPIRE}" (never expire) or one of {", ".join(map(str, RETENTION_DAYS))}'
#: A CloudWatch Logs retention in days, or "never" / null (never expire).
Retention = Annotated[
    int | None,
    BeforeValidator(_never_is_none),
    _check(lambda v: v is None or v in RETENTION_DAYS, _RETENTION),
    Expect(_RETENTION),
]
Runtime = Literal["python3.11", "python3.12", "python3.13"]
Architecture = Literal["arm64", "x86_64"]


def whole(ge: int | None = None, le: int | None = None) -> Any:
    """A whole number within ``[ge, le]`` (either bound optional)."""
    return Annotated[int, annotated_types.Interval(ge=ge, le=le)]


# -- reading --------------------------------------------------------------------------------

Layer = tuple[str, Mapping[str, Any]]


def read(cls: type[T], raw: Any, layers: Sequence[Layer], home: str) -> T:
    """Validate ``raw`` (the merge of ``layers``, last wins) into ``cls`` or raise ConfigError.

    ``layers`` are ``(where, mapping)`` pairs such as ``("defaults", {...})``; an error names
    the path in the last layer that holds the offending key, or below ``home`` (e.g.
    ``environments.dev``) for a key no layer has."""
    try:
        return _adapter(cls).validate_json(json.dumps(raw))
    except ValidationError as exc:
        raise ConfigError(sentence(cls, exc.errors()[0], layers, home)) from None


@functools.cache
def _adapter(cls: type[T]) -> TypeAdapter[T]:
    return TypeAdapter(cls)


def sentence(cls: type, error: Mapping[str, Any], layers: Sequence[Layer], home: str) -> str:
    """One pydantic error as one sentence naming the key path."""
    loc = [str(part) for part in error["loc"]]
    kind = error["type"]
    value = error.get("input")
    cause = (error.get("ctx") or {}).get("error")
    if isinstance(cause, Invalid) and cause.key:
        loc += cause.key.split(".")
        value = _lookup(value, cause.key.split("."))
    path = where(loc, layers, home)
    if kind in ("missing", "missing_argument"):
        return f"missing key {path}"
    if kind in ("extra_forbidden", "unexpected_keyword_argument"):
        allowed = ", ".join(_field_names(_annotation_at(cls, loc[:-1])))
        return f"unknown key {path} (allowed: {allowed})"
    if isinstance(cause, Invalid):
        if cause.missing:
            return f"missing key {path} ({cause.text})"
        got = f"; got {value!r}" if cause.show_value else ""
        return f"{path} {cause.text}{got}"
    expected = describe(_annotation_at(cls, loc))
    return f"{path} must be {expected}; got {value!r}"


def where(loc: Sequence[str], layers: Sequence[Layer], home: str) -> str:
    """The dotted key path, prefixed by the last layer that holds it (else by ``home``)."""
    for name, mapping in reversed(layers):
        if _lookup(mapping, loc, missing=_MISSING) is not _MISSING:
            return _dotted(name, loc)
    return _dotted(home, loc)


def _dotted(prefix: str, loc: Sequence[str]) -> str:
    """``prefix.a.b[0]``: list positions in brackets."""
    text = prefix
    for part in loc:
        text += f"[{part}]" if part.isdigit() else (f".{part}" if text else part)
    return text


_MISSING = object()


def _lookup(value: Any, path: Sequence[str], missing: Any = None) -> Any:
    for part in path:
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return missing
    return value


def _unwrap(annotation: Any) -> tuple[Any, list[Any]]:
    """The bare type of an annotation and its ``Annotated`` metadata."""
    metadata: list[Any] = []
    while typing.get_origin(annotation) is Annotated:
        metadata = [*annotation.__metadata__, *metadata]
        annotation = annotation.__origin__
    return annotation, metadata


def _annotation_at(cls: Any, loc: Sequence[str]) -> Any:
    """The annotation of the field at ``loc`` below ``cls`` (None when it cannot be found)."""
    annotation = cls
    for part in loc:
        bare, _ = _unwrap(annotation)
        bare = _optional_inner(bare)
        if dataclasses.is_dataclass(bare):
            hints = typing.get_type_hints(bare, include_extras=True)
            if part not in hints:
                return None
            annotation = hints[part]
        elif typing.get_origin(bare) in (tuple, list, dict, Mapping):
            annotation = typing.get_args(bare)[-1 if typing.get_origin(bare) is not tuple else 0]
        else:
            return None
    return annotation


def _optional_inner(bare: Any) -> Any:
    if typing.get_origin(bare) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(bare) if a is not type(None)]
        if len(args) == 1:
            return _unwrap(args[0])[0]
    return bare


def _field_names(annotation: Any) -> list[str]:
    bare = _optional_inner(_unwrap(annotation)[0])
    if dataclasses.is_dataclass(bare):
        return [f.name for f in dataclasses.fields(bare)]
    return []


def describe(annotation: Any) -> str:
    """What a value of ``annotation`` looks like, for "must be ..." (from type and bounds)."""
    if annotation is None:
        return "a valid value"
    bare, metadata = _unwrap(annotation)
    for item in metadata:
        if isinstance(item, Expect):
            return item.text
    if typing.get_origin(bare) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(bare) if a is not type(None)]
        text = " or ".join(describe(a) for a in args)
        return f"{text} or null" if len(args) < len(typing.get_args(bare)) else text
    if bare is bool:
        return "true or false"
    if bare in (int, float):
        return ("a whole number" if bare is int else "a number") + _bounds(metadata)
    if bare is str:
        return "a string"
    if typing.get_origin(bare) is Literal:
        return "one of " + ", ".join(str(v) for v in typing.get_args(bare))
    if typing.get_origin(bare) in (tuple, list):
        inner = describe(typing.get_args(bare)[0])
        return "a list of strings" if inner == "a string" else f"a list, each {inner}"
    if dataclasses.is_dataclass(bare) or typing.get_origin(bare) in (dict, Mapping):
        return "an object"
    return "a valid value"


def _bounds(metadata: Sequence[Any]) -> str:
    low = high = None
    for item in metadata:
        low = getattr(item, "ge", None) if getattr(item, "ge", None) is not None else low
        high = getattr(item, "le", None) if getattr(item, "le", None) is not None else high
    if low is not None and high is not None:
        return f" between {low} and {high}"
    if low is not None:
        return f" >= {low}"
    if high is not None:
        return f" <= {high}"
    return ""


# -- the key reference (docs/configuration.md) ----------------------------------------------


def field_comments(cls: type) -> dict[str, str]:
    """The ``#:`` comment above each field of ``cls`` and its bases (what the key means)."""
    comments: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if not dataclasses.is_dataclass(klass):
            continue
        pending: list[str] = []
        for line in inspect.getsource(klass).splitlines():
            text = line.strip()
            if text.startswith("#:"):
                pending.append(text[2:].strip())
                continue
            match = re.match(r"(\w+)\s*:", text)
            if match and pending:
                comments[match.group(1)] = " ".join(pending)
            pending = []
    return comments


def reference(cls: type, prefix: str = "") -> list[tuple[str, str, str]]:
    """Every key below ``cls``: (dotted key, what it must be, what it means), in field order."""
    rows: list[tuple[str, str, str]] = []
    hints = typing.get_type_hints(cls, include_extras=True)
    comments = field_comments(cls)
    for field in dataclasses.fields(cls):
        key = f"{prefix}{field.name}"
        annotation = hints[field.name]
        bare = _optional_inner(_unwrap(annotation)[0])
        optional = field.default is not dataclasses.MISSING
        meaning = comments.get(field.name, "") + (" (optional)" if optional else "")
        if dataclasses.is_dataclass(bare):
            rows.append((key, "an object", meaning))
            rows.extend(reference(bare, f"{key}."))
        elif typing.get_origin(bare) in (dict, Mapping):
            rows.append((f"{key}.<name>", describe(typing.get_args(bare)[1]), meaning))
        else:
            rows.append((key, describe(annotation), meaning))
    return rows
