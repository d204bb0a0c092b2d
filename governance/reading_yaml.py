"""The YAML half of :mod:`governance.reading`: CloudFormation's short-form tags, limits, speed.

Imported only when a YAML file is read (PyYAML's import is about a tenth of a small run), through
:func:`governance.reading.parse_text`. libyaml's C parser builds the node graph; a document that
may hold an alias has its depth and alias expansion counted on that graph before anything is
built and is then built by PyYAML's constructor; a document without one is a tree, built by
:func:`_build`, which checks depth as it goes and hands everything but plain strings, mappings,
sequences and short forms to the constructor. The composer's tag resolution is replaced by
:func:`_resolve`, the same decision without the generic version's per-scalar list building.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from governance.reading import (
    SHORT_FORMS,
    InputError,
    Limits,
    _first_line,
    _number_problem,
)

_Base: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Located(Exception):
    def __init__(self, node: yaml.Node, problem: str) -> None:
        self.node = node
        self.problem = problem


class CfnLoader(_Base):  # type: ignore[misc,valid-type]
    """Safe loader that turns ``!Ref x`` into ``{"Ref": "x"}`` and friends, and refuses duplicate
    keys in a mapping."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, yaml.MappingNode):
            _no_duplicate_keys(node)
        return super().construct_mapping(node, deep=deep)

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except (_Located, yaml.YAMLError):
            raise
        except (ValueError, KeyError, TypeError, OverflowError, AttributeError) as exc:
            tag = f" tagged {node.tag}" if not node.tag.startswith("tag:yaml.org") else ""
            kind = node.tag.rsplit(":", 1)[-1]
            value = node.value if isinstance(node, yaml.ScalarNode) else ""
            shown = f" {value[:40]!r}" if value else ""
            if "integer string conversion" in str(exc):
                raise _Located(node, _number_problem(exc)) from None
            raise _Located(
                node, f"value{shown}{tag} is not a valid {kind} ({_first_line(exc)})"
            ) from None


def _tag_name(suffix: str) -> str:
    """The long-form key of a short-form tag: ``!Ref`` -> ``Ref``, ``!Sub`` -> ``Fn::Sub``."""
    if suffix in ("Ref", "Condition"):
        return suffix
    if suffix in SHORT_FORMS:
        return f"Fn::{suffix}"
    return f"!{suffix}"  # not CloudFormation (e.g. !Rain::Module): kept as written


def _construct_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = _tag_name(suffix)
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if name == "Fn::GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


CfnLoader.add_multi_constructor(
    "!", lambda loader, suffix, node: _construct_tag(loader, suffix, node)
)
# YAML 1.1 reads timestamps as dates; CloudFormation does not.
CfnLoader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
#: The implicit resolvers a plain scalar is tried against, by its first character (wildcard
#: ones after), for :func:`_resolve`.
_BY_FIRST = {
    k: tuple(v + CfnLoader.yaml_implicit_resolvers.get(None, []))
    for k, v in CfnLoader.yaml_implicit_resolvers.items()
    if k is not None
}
_WILDCARD = tuple(CfnLoader.yaml_implicit_resolvers.get(None, []))


def _resolve(self: CfnLoader, kind: type, value: Any, implicit: tuple[bool, bool]) -> str:
    """The tag of an untagged node, as ``BaseResolver.resolve`` decides it for a loader without
    path resolvers. libyaml's composer calls this once per untagged node, and the generic version
    builds two lists each time: composing the benchmark corpus' 1 MB of YAML took 51 ms with it,
    45 ms with this."""
    if kind is yaml.ScalarNode:
        if implicit[0]:
            for tag, regexp in _BY_FIRST.get(value[:1], _WILDCARD):
                if regexp.match(value):
                    return tag
        return _STR
    return _SEQ if kind is yaml.SequenceNode else _MAP


def _no_path(self: CfnLoader, *_: Any) -> None:
    """Path resolvers are not used: nothing to track as the composer descends and ascends."""


if not CfnLoader.yaml_path_resolvers:  # the fast versions hold only without path resolvers
    CfnLoader.resolve = _resolve
    CfnLoader.descend_resolver = _no_path
    CfnLoader.ascend_resolver = _no_path


def _check_graph(root: yaml.Node, path: str | Path, limits: Limits) -> None:
    """Refuse deep nesting, alias expansion past the node limit and recursive aliases; one pass
    over the distinct nodes (an alias is counted at its full expanded size)."""
    sizes: dict[int, int] = {}
    depths: dict[int, int] = {}
    # iterative post-order walk; each distinct node is expanded once
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    on_path: set[int] = set()
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            children = _children(node)
            sizes[key] = 1 + sum(sizes[id(c)] for c in children)
            depths[key] = 1 + max((depths[id(c)] for c in children), default=0) if children else 0
            if isinstance(node, yaml.CollectionNode) and not children:
                depths[key] = 1
            if depths[key] > limits.max_depth:
                raise InputError(path, _too_deep(node, limits))
            if sizes[key] > limits.max_yaml_nodes:
                raise InputError(
                    path,
                    f"YAML aliases expand to more than {limits.max_yaml_nodes:,} nodes"
                    f" at line {node.start_mark.line + 1} (--max-yaml-nodes)",
                )
            continue
        if key in sizes:
            continue
        if key in on_path:
            raise InputError(path, f"recursive YAML alias at line {node.start_mark.line + 1}")
        on_path.add(key)
        stack.append((node, True))
        if len(on_path) > limits.max_depth:
            raise InputError(path, _too_deep(node, limits))
        for child in _children(node):
            if id(child) not in sizes:
                stack.append((child, False))


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return node.value
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _no_duplicate_keys(node: yaml.MappingNode) -> None:
    keys = [k.value for k, _ in node.value if isinstance(k, yaml.ScalarNode)]
    if len(set(keys)) == len(keys):
        return
    seen: set[Any] = set()
    for key_node, _ in node.value:
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag.endswith(":merge"):
            continue
        key = key_node.value
        if key in seen:
            raise _Located(
                key_node,
                f"duplicate key {key[:80]!r} (cfn-lint E0000; CloudFormation's behaviour is"
                " undefined)",
            )
        seen.add(key)


def _too_deep(node: yaml.Node, limits: Limits) -> str:
    return (
        f"nested more than {limits.max_depth} levels deep at line {node.start_mark.line + 1}"
        " (--max-depth)"
    )


#: Where an alias (``*name``) could start: at a line's start, after white space (YAML's line
#: breaks NEL, LS and PS among them), a flow indicator, or the colon after a JSON-like flow key
#: (``{"a":*b}``, ``[[1]:*b]``). A match may be text that only looks like one (``ls *.txt`` in
#: a script), which costs the slower exact path; a document without any match has no alias, so
#: its anchors (if any) label a tree that :func:`_build` reads as is.
_ALIAS = re.compile(r"(?:^|[\s\[\{,]|[\"'\]\}]:)\*[^\s,\[\]\{\}]", re.MULTILINE)
_STR, _MAP, _SEQ = (f"tag:yaml.org,2002:{kind}" for kind in ("str", "map", "seq"))
_MERGE = "tag:yaml.org,2002:merge"


class _TooDeep(Exception):
    def __init__(self, node: yaml.Node) -> None:
        self.node = node


class _Fallback(Exception):
    """A mapping the fast builder leaves to PyYAML's constructor (merge keys, non-scalar keys)."""


def _build(loader: CfnLoader, node: yaml.Node, depth: int, limits: Limits) -> Any:
    """The value of a node tree without aliases, as ``construct_document`` would build it.

    PyYAML's constructor spends most of a load in generic machinery (a generator per mapping,
    a cache of constructed objects for aliases, a resolver call per scalar); a tree without
    anchors needs none of it. Plain strings, mappings and sequences are built here; every other
    scalar (numbers, booleans, null, bad values) and any mapping with a merge key or a
    non-scalar key goes through the loader, so values and errors are the loader's. ``depth`` is
    the nesting the value gets, counted as :func:`_check_depth` counts it (a short form's
    wrapper mapping is one level).
    """
    cls = node.__class__
    tag = node.tag
    if cls is yaml.ScalarNode:
        if tag == _STR:
            return node.value
        if tag[:1] == "!":
            _limit(node, depth, limits)
            value = _construct_tag(loader, tag[1:], node)
            if isinstance(next(iter(value.values())), list):
                _limit(node, depth + 1, limits)
            return value
        return loader.construct_object(node)
    _limit(node, depth, limits)
    if tag[:1] == "!":
        _limit(node, depth + 1, limits)
        inner = _build_collection(loader, node, depth + 1, limits)
        return {_tag_name(tag[1:]): inner}
    if (cls is yaml.MappingNode and tag != _MAP) or (cls is yaml.SequenceNode and tag != _SEQ):
        return loader.construct_object(node, deep=True)  # e.g. !!set, !!omap
    return _build_collection(loader, node, depth, limits)


def _build_collection(loader: CfnLoader, node: yaml.Node, depth: int, limits: Limits) -> Any:
    # A plain string, the commonest node, is taken as is without a call to _build.
    scalar = yaml.ScalarNode
    if node.__class__ is yaml.SequenceNode:
        return [
            child.value
            if child.__class__ is scalar and child.tag == _STR
            else _build(loader, child, depth + 1, limits)
            for child in node.value
        ]
    out: dict[Any, Any] = {}
    try:
        for key_node, value_node in node.value:
            if key_node.__class__ is not scalar or key_node.tag == _MERGE:
                raise _Fallback
            key = key_node.value if key_node.tag == _STR else loader.construct_object(key_node)
            out[key] = (
                value_node.value
                if value_node.__class__ is scalar and value_node.tag == _STR
                else _build(loader, value_node, depth + 1, limits)
            )
    except _Fallback:
        return loader.construct_mapping(node, deep=True)
    if len(out) != len(node.value):  # two keys built alike: a duplicate, or e.g. 1 and 01
        _no_duplicate_keys(node)
    return out


def _limit(node: yaml.Node, depth: int, limits: Limits) -> None:
    if depth > limits.max_depth:
        raise _TooDeep(node)


def parse_yaml(text: str, path: str | Path, limits: Limits) -> Any:
    """YAML text as Python values, within ``limits``; :class:`InputError` otherwise."""
    loader = CfnLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None
        if "&" not in text or not _ALIAS.search(text):  # the nodes form a tree, as the text
            return _build(loader, root, 1, limits)
        _check_graph(root, path, limits)
        return loader.construct_document(root)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or _first_line(exc)
        raise InputError(path, f"invalid YAML{where}: {problem}") from None
    except _TooDeep as exc:
        raise InputError(path, _too_deep(exc.node, limits)) from None
    except _Located as exc:
        line = exc.node.start_mark.line + 1
        raise InputError(path, f"invalid YAML at line {line}: {exc.problem}") from None
    except RecursionError:
        raise InputError(path, "nested too deeply to read (--max-depth)") from None
    finally:
        loader.dispose()
