"""Helpers that read CloudFormation values through intrinsic functions.

A rule asks "is this value true?", "what string is this?" and gets either a plain Python value
or :data:`UNRESOLVED` (an :class:`Unresolved` carrying the reason). Rules turn ``Unresolved``
into an *undecidable* finding; nothing here raises on odd input.

Supported: ``Ref`` (parameters with defaults, pseudo parameters are unresolved), ``Fn::GetAtt``
(always unresolved as a value, but its target is readable), ``Fn::Sub`` (literal-only or with
resolvable variables), ``Fn::Join``, ``Fn::If`` (conditions built from ``Fn::Equals``, ``Fn::Not``,
``Fn::And``, ``Fn::Or`` and ``Condition``; both branches equal also decides), ``Fn::Select``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from governance.template import Template

INTRINSIC_KEYS = frozenset(
    {
        "Ref",
        "Fn::GetAtt",
        "Fn::Sub",
        "Fn::Join",
        "Fn::If",
        "Fn::Select",
        "Fn::Split",
        "Fn::ImportValue",
        "Fn::FindInMap",
        "Fn::Base64",
        "Fn::GetAZs",
        "Fn::Cidr",
        "Fn::Equals",
        "Fn::Not",
        "Fn::And",
        "Fn::Or",
        "Condition",
        "Fn::Transform",
        "Fn::ToJsonString",
        "Fn::Length",
    }
)


@dataclass(frozen=True, slots=True)
class Unresolved:
    """A value the helpers cannot decide, with the reason (for the finding's message)."""

    reason: str

    def __bool__(self) -> bool:  # an unresolved value is never truthy by accident
        return False


def is_unresolved(value: Any) -> bool:
    return isinstance(value, Unresolved)


def is_intrinsic(value: Any) -> bool:
    """True for a one-key dict whose key is an intrinsic function (``{"Ref": ...}``)."""
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in INTRINSIC_KEYS


def ref_target(value: Any) -> str | None:
    """The logical id a ``Ref`` or ``Fn::GetAtt`` points at, else ``None``."""
    if not isinstance(value, dict) or len(value) != 1:
        return None
    if "Ref" in value and isinstance(value["Ref"], str):
        return value["Ref"]
    if "Fn::GetAtt" in value:
        att = value["Fn::GetAtt"]
        if isinstance(att, list) and att and isinstance(att[0], str):
            return att[0]
        if isinstance(att, str):
            return att.split(".", 1)[0]
    return None


def resolve(value: Any, template: Template | None = None, _depth: int = 0) -> Any:
    """Resolve ``value`` as far as possible; intrinsics that cannot be read give ``Unresolved``.

    Plain dicts and lists are resolved recursively only at the top level of the call's value:
    containers are returned with their members resolved.
    """
    if _depth > 32:
        return Unresolved("intrinsic nesting too deep")
    if isinstance(value, list):
        return [resolve(v, template, _depth + 1) for v in value]
    if not isinstance(value, dict):
        return value
    if not is_intrinsic(value):
        return {k: resolve(v, template, _depth + 1) for k, v in value.items()}
    key, arg = next(iter(value.items()))
    handler = _HANDLERS.get(key)
    if handler is None:
        return Unresolved(f"{key} is not evaluated")
    try:
        return handler(arg, template, _depth + 1)
    except (TypeError, ValueError, IndexError, KeyError, AttributeError, OverflowError):
        return Unresolved(f"malformed {key}")


def _ref(arg: Any, template: Template | None, depth: int) -> Any:
    if not isinstance(arg, str):
        return Unresolved("malformed Ref")
    if arg.startswith("AWS::"):
        return Unresolved(f"pseudo parameter {arg} is only known at deploy time")
    if template is not None:
        param = template.parameters.get(arg)
        if isinstance(param, dict):
            if "Default" in param:
                return param["Default"]
            return Unresolved(f"parameter {arg} has no default")
        if arg in template.resources:
            return Unresolved(f"reference to resource {arg}")
    return Unresolved(f"Ref {arg} is only known at deploy time")


def _getatt(arg: Any, template: Template | None, depth: int) -> Any:
    target = ref_target({"Fn::GetAtt": arg})
    return Unresolved(f"attribute of {target} is only known at deploy time")


_SUB_VAR = re.compile(r"\$\{([^}!]+)\}")


def _sub(arg: Any, template: Template | None, depth: int) -> Any:
    if isinstance(arg, str):
        text, variables = arg, {}
    elif isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str):
        text, variables = arg[0], arg[1] if isinstance(arg[1], dict) else {}
    else:
        return Unresolved("malformed Fn::Sub")
    missing: list[str] = []

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in variables:
            val = resolve(variables[name], template, depth + 1)
        elif "." in name:
            val = Unresolved(f"attribute {name}")
        else:
            val = _ref(name, template, depth)
        if isinstance(val, (Unresolved, dict, list)):
            missing.append(name)
            return match.group(0)
        return str(val)

    result = _SUB_VAR.sub(replace, text).replace("${!", "${")
    if missing:
        return Unresolved(f"Fn::Sub uses {', '.join(missing)} known only at deploy time")
    return result


def _join(arg: Any, template: Template | None, depth: int) -> Any:
    sep, parts = arg
    parts = resolve(parts, template, depth + 1)
    if isinstance(parts, Unresolved):
        return parts
    out: list[str] = []
    for part in parts:
        if isinstance(part, Unresolved):
            return Unresolved(f"Fn::Join has a part known only at deploy time ({part.reason})")
        if isinstance(part, (dict, list)):
            return Unresolved("Fn::Join has a non-string part")
        out.append(str(part))
    return str(sep).join(out)


def _select(arg: Any, template: Template | None, depth: int) -> Any:
    index, items = arg
    index = resolve(index, template, depth + 1)
    items = resolve(items, template, depth + 1)
    if isinstance(index, Unresolved) or isinstance(items, Unresolved):
        return Unresolved("Fn::Select over a value known only at deploy time")
    return items[int(index)]


def _if(arg: Any, template: Template | None, depth: int) -> Any:
    cond_name, when_true, when_false = arg
    decided = evaluate_condition(cond_name, template)
    if decided is True:
        return resolve(when_true, template, depth + 1)
    if decided is False:
        return resolve(when_false, template, depth + 1)
    left = resolve(when_true, template, depth + 1)
    right = resolve(when_false, template, depth + 1)
    if not isinstance(left, Unresolved) and left == right:
        return left
    return Unresolved(f"Fn::If on condition {cond_name} that is only known at deploy time")


def evaluate_condition(name: str, template: Template | None, _seen: frozenset = frozenset()):
    """Evaluate a named condition: ``True``, ``False`` or ``None`` when undecidable."""
    if template is None or name in _seen:
        return None
    body = template.conditions.get(name)
    if body is None:
        return None
    return _eval_cond(body, template, _seen | {name})


def _eval_cond(body: Any, template: Template, seen: frozenset):
    if not isinstance(body, dict) or len(body) != 1:
        return None
    key, arg = next(iter(body.items()))
    if key == "Condition":
        return evaluate_condition(arg, template, seen)
    if key == "Fn::Equals" and isinstance(arg, list) and len(arg) == 2:
        left, right = (resolve(v, template) for v in arg)
        if isinstance(left, Unresolved) or isinstance(right, Unresolved):
            return None
        return str(left) == str(right)
    if key == "Fn::Not" and isinstance(arg, list) and len(arg) == 1:
        inner = _eval_cond(arg[0], template, seen)
        return None if inner is None else not inner
    if key in ("Fn::And", "Fn::Or") and isinstance(arg, list):
        values = [_eval_cond(v, template, seen) for v in arg]
        if key == "Fn::And":
            if False in values:
                return False
            return None if None in values else True
        if True in values:
            return True
        return None if None in values else False
    return None


_HANDLERS = {
    "Ref": _ref,
    "Fn::GetAtt": _getatt,
    "Fn::Sub": _sub,
    "Fn::Join": _join,
    "Fn::If": _if,
    "Fn::Select": _select,
}


def as_bool(value: Any, template: Template | None = None) -> bool | None | Unresolved:
    """Read a CloudFormation boolean (``true``, ``"true"``, ``"True"``); ``None`` when absent."""
    if value is None:
        return None
    value = resolve(value, template)
    if isinstance(value, Unresolved):
        return value
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return Unresolved(f"{value!r} is not a boolean")


def as_int(value: Any, template: Template | None = None) -> int | None | Unresolved:
    """Read a CloudFormation number (int or numeric string); ``None`` when absent."""
    if value is None:
        return None
    value = resolve(value, template)
    if isinstance(value, (Unresolved, bool)):
        return value if isinstance(value, Unresolved) else Unresolved("boolean where a number is")
    if isinstance(value, int):
        return value
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return Unresolved(f"{_short(value)} is not a number")
    except OverflowError:
        return Unresolved(f"{_short(value)} is not a finite number")


def _short(value: Any) -> str:
    text = repr(value) if not isinstance(value, int) else f"an integer of {len(str(value))} digits"
    return text if len(text) <= 60 else text[:59] + "…"


def as_str(value: Any, template: Template | None = None) -> str | None | Unresolved:
    """Read a CloudFormation string; ``None`` when absent."""
    if value is None:
        return None
    value = resolve(value, template)
    if isinstance(value, Unresolved):
        return value
    if isinstance(value, (dict, list)):
        return Unresolved("not a string")
    return str(value)


def literal_text(value: Any) -> str:
    """Every literal string inside ``value`` (intrinsics included), separated by spaces.

    Used where a partial answer suffices, e.g. "does this name contain the suffix as a token?"
    for a ``Fn::Join`` that mixes literals with ``AWS::Region``. A value known only at deploy
    time contributes a space, so it never glues two literals into one token.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return " ".join(literal_text(v) for v in value)
    if isinstance(value, dict):
        if "Ref" in value or "Fn::GetAtt" in value:
            return " "
        if (
            "Fn::Join" in value
            and isinstance(value["Fn::Join"], list)
            and len(value["Fn::Join"]) == 2
        ):
            sep, parts = value["Fn::Join"]
            if isinstance(parts, list):
                return str(sep).join(literal_text(p) for p in parts)
        return " ".join(literal_text(v) for v in value.values())
    return ""
